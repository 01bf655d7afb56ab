#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "common/log.h"
#include "common/metrics.h"

namespace cairn {
namespace {

std::string capture(const std::function<void()>& fn) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  log::set_fd(fds[1]);
  fn();
  log::set_fd(2);
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  return out;
}

TEST(Log, StructuredLineWithEscaping) {
  log::set_all_levels(log::Level::kInfo);
  std::string out = capture([] {
    CAIRN_LOG(kWarn, kMsg) << "connection closed" << log::kv("peer", "osd.3")
                           << log::kv("reason", "bad \"crc\"") << log::kv("bytes", 42);
  });
  EXPECT_NE(
      out.find(
          "level=warn sub=msg msg=\"connection closed\" peer=osd.3 reason=\"bad \\\"crc\\\"\" bytes=42\n"),
      std::string::npos)
      << out;
  EXPECT_EQ(out.rfind("ts=", 0), 0u);
}

TEST(Log, LevelsFilterAndArgumentsAreNotEvaluated) {
  ASSERT_TRUE(log::configure("warn,osd=debug"));
  int evaluated = 0;
  auto touch = [&] { return ++evaluated; };
  std::string out = capture([&] {
    CAIRN_LOG(kInfo, kMsg) << "hidden" << log::kv("n", touch());
    CAIRN_LOG(kDebug, kOsd) << "shown";
  });
  EXPECT_EQ(evaluated, 0);
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find("shown"), std::string::npos);
  EXPECT_FALSE(log::configure("osd=loud"));
  EXPECT_FALSE(log::configure("nosuchsub=info"));
  log::set_all_levels(log::Level::kInfo);
}

TEST(Metrics, PrometheusText) {
  MetricsRegistry r;
  r.counter("cairn_ops_total", "Ops served", "op=\"write\"").inc(3);
  r.counter("cairn_ops_total", "Ops served", "op=\"read\"").inc();
  r.gauge("cairn_pgs", "PGs").set(-2);
  auto& h = r.histogram("cairn_lat_seconds", "Latency", {0.001, 0.01, 0.1});
  h.observe(0.0005);
  h.observe(0.05);
  h.observe(5);
  std::string t = r.render();
  EXPECT_NE(t.find("# TYPE cairn_ops_total counter\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_ops_total{op=\"write\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_ops_total{op=\"read\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_pgs -2\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_lat_seconds_bucket{le=\"0.001\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_lat_seconds_bucket{le=\"0.10000000000000001\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_lat_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_lat_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_lat_seconds_sum 5.0505"), std::string::npos);
}

TEST(Metrics, SameSeriesReturnedAndConcurrentIncrements) {
  MetricsRegistry r;
  Counter& a = r.counter("x_total", "x");
  Counter& b = r.counter("x_total", "x");
  EXPECT_EQ(&a, &b);
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      for (int j = 0; j < 10000; ++j) a.inc();
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(a.value(), 40000u);
  a.advance_to(40005);  // mirroring a total kept elsewhere
  EXPECT_EQ(a.value(), 40005u);
  a.advance_to(7);  // a counter never goes back
  EXPECT_EQ(a.value(), 40005u);
}

}  // namespace
}  // namespace cairn
