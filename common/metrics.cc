#include "common/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cairn {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) {
  size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (v > 0) sum_micro_.fetch_add(static_cast<uint64_t>(std::llround(v * 1e6)), std::memory_order_relaxed);
}

double Histogram::sum() const {
  return static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6;
}

std::vector<double> Histogram::exponential(double start, double factor, size_t n) {
  std::vector<double> b;
  double v = start;
  for (size_t i = 0; i < n; ++i, v *= factor) b.push_back(v);
  return b;
}

MetricsRegistry::Family& MetricsRegistry::family(std::string_view name, std::string_view help, Kind kind) {
  auto it = families_.find(name);
  if (it == families_.end())
    it = families_.emplace(std::string(name), Family{kind, std::string(help), {}}).first;
  return it->second;
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help, std::string_view labels) {
  std::lock_guard lk(mu_);
  Family& f = family(name, help, Kind::kCounter);
  auto [it, fresh] = f.series.emplace(std::string(labels), counters_.size());
  if (fresh) counters_.emplace_back();
  return counters_[it->second];
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, std::string_view labels) {
  std::lock_guard lk(mu_);
  Family& f = family(name, help, Kind::kGauge);
  auto [it, fresh] = f.series.emplace(std::string(labels), gauges_.size());
  if (fresh) gauges_.emplace_back();
  return gauges_[it->second];
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                      std::vector<double> bounds, std::string_view labels) {
  std::lock_guard lk(mu_);
  Family& f = family(name, help, Kind::kHistogram);
  auto [it, fresh] = f.series.emplace(std::string(labels), histograms_.size());
  if (fresh) histograms_.emplace_back(std::move(bounds));
  return histograms_[it->second];
}

namespace {
std::string fmt_double(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}
std::string with_labels(const std::string& name, const std::string& labels, const std::string& extra = "") {
  std::string all = labels;
  if (!extra.empty()) all += (all.empty() ? "" : ",") + extra;
  return all.empty() ? name : name + "{" + all + "}";
}
}  // namespace

std::string MetricsRegistry::render() const {
  std::lock_guard lk(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    const char* type = f.kind == Kind::kCounter ? "counter" : f.kind == Kind::kGauge ? "gauge" : "histogram";
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, idx] : f.series) {
      if (f.kind == Kind::kCounter) {
        out += with_labels(name, labels) + " " + std::to_string(counters_[idx].value()) + "\n";
      } else if (f.kind == Kind::kGauge) {
        out += with_labels(name, labels) + " " + std::to_string(gauges_[idx].value()) + "\n";
      } else {
        const Histogram& h = histograms_[idx];
        uint64_t cum = 0;
        for (size_t i = 0; i <= h.bounds().size(); ++i) {
          cum += h.bucket(i);
          std::string le = i < h.bounds().size() ? fmt_double(h.bounds()[i]) : "+Inf";
          out +=
              with_labels(name + "_bucket", labels, "le=\"" + le + "\"") + " " + std::to_string(cum) + "\n";
        }
        out += with_labels(name + "_sum", labels) + " " + fmt_double(h.sum()) + "\n";
        out += with_labels(name + "_count", labels) + " " + std::to_string(h.count()) + "\n";
      }
    }
  }
  return out;
}

MetricsRegistry& MetricsRegistry::global() {
  static MetricsRegistry r;
  return r;
}

}  // namespace cairn
