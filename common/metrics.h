// Metrics: counters, gauges and histograms rendered in the Prometheus text format
// (served at /metrics by every daemon).
//
// Hot-path updates are one relaxed atomic add (histograms: two, plus a bucket
// search over a short fixed array). Metric objects live as long as the registry
// and never move, so callers keep references.
//
// Thread-safety: registration takes the registry's mutex; updates and render()
// are safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

class Counter {
 public:
  void inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  // For a counter that mirrors a total kept elsewhere (a store's own stats):
  // moves it up to `total`, never down.
  void advance_to(uint64_t total) {
    uint64_t cur = v_.load(std::memory_order_relaxed);
    while (cur < total && !v_.compare_exchange_weak(cur, total, std::memory_order_relaxed)) {
    }
  }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  void add(int64_t d) { v_.fetch_add(d, std::memory_order_relaxed); }
  int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

class Histogram {
 public:
  // `bounds`: ascending upper bounds of the buckets (an implicit +Inf follows).
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;
  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == bounds().size() is +Inf).
  uint64_t bucket(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  // Exponential bounds: start, start*factor, ... (n of them).
  static std::vector<double> exponential(double start, double factor, size_t n);

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micro_{0};  // sum in millionths, so it stays one atomic
};

class MetricsRegistry {
 public:
  // `labels` is a Prometheus label set without braces: `pool="rbd",op="write"`.
  // Registering the same name+labels twice returns the same metric.
  Counter& counter(std::string_view name, std::string_view help, std::string_view labels = "");
  Gauge& gauge(std::string_view name, std::string_view help, std::string_view labels = "");
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                       std::string_view labels = "");
  std::string render() const;

  // The process-wide registry daemons serve.
  static MetricsRegistry& global();

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Family {
    Kind kind;
    std::string help;
    // label set -> index into the owning deque
    std::map<std::string, size_t> series;
  };
  Family& family(std::string_view name, std::string_view help, Kind kind);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;  // guarded by mu_
  std::deque<Counter> counters_;                         // guarded by mu_ (elements never move)
  std::deque<Gauge> gauges_;
  std::deque<Histogram> histograms_;
};

}  // namespace cairn
