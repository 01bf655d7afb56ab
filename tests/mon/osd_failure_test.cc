#include "mon/osd_failure.h"

#include <gtest/gtest.h>

namespace cairn::mon {
namespace {

FailureConfig cfg() {
  FailureConfig c;
  c.min_reporters = 2;
  c.min_reporter_domains = 2;
  c.grace_ms = 1000;
  c.beacon_timeout_ms = 5000;
  c.down_out_interval_ms = 3000;
  return c;
}

OsdFailureDetector::View all_up(int n) {
  OsdFailureDetector::View v;
  for (int i = 0; i < n; ++i) v.up.insert(i), v.in.insert(i);
  return v;
}

TEST(OsdFailure, TwoReportersFromTwoHostsAfterGrace) {
  OsdFailureDetector d(cfg());
  auto v = all_up(4);
  for (int i = 0; i < 4; ++i) d.beacon(i, 0);
  d.report_failure(0, 1, "hostA", 100, 100);
  EXPECT_TRUE(d.tick(1200, v).mark_down.empty()) << "one reporter is not enough";
  d.report_failure(0, 2, "hostA", 100, 100);
  EXPECT_TRUE(d.tick(1200, v).mark_down.empty()) << "two reporters on one host are not enough";
  d.report_failure(0, 3, "hostB", 900, 900);
  EXPECT_TRUE(d.tick(1200, v).mark_down.empty()) << "the second host's report is still within grace";
  EXPECT_EQ(d.tick(1950, v).mark_down, std::vector<int32_t>{0});
}

TEST(OsdFailure, CancelledStaleAndDownReportersDoNotCount) {
  OsdFailureDetector d(cfg());
  auto v = all_up(3);
  for (int i = 0; i < 3; ++i) d.beacon(i, 0);
  d.report_failure(0, 1, "h1", 0, 0);
  d.report_failure(0, 2, "h2", 0, 0);
  d.cancel_report(0, 2);
  EXPECT_TRUE(d.tick(1500, v).mark_down.empty());
  d.report_failure(0, 2, "h2", 0, 1500);
  v.up.erase(2);  // a reporter that is itself down is not believed
  EXPECT_TRUE(d.tick(1600, v).mark_down.empty());
  v.up.insert(2);
  EXPECT_EQ(d.tick(1600, v).mark_down, std::vector<int32_t>{0});
  // Reports not renewed for twice the grace expire.
  OsdFailureDetector e(cfg());
  for (int i = 0; i < 3; ++i) e.beacon(i, 10'000);
  e.report_failure(0, 1, "h1", 0, 0);
  e.report_failure(0, 2, "h2", 0, 0);
  EXPECT_TRUE(e.tick(4000, v).mark_down.empty());
  EXPECT_EQ(e.reports_against(0), 0u);
}

TEST(OsdFailure, SilentOsdGoesDownThenOutUnlessNoout) {
  OsdFailureDetector d(cfg());
  auto v = all_up(2);
  d.beacon(0, 0);
  d.beacon(1, 0);
  d.beacon(1, 4000);
  EXPECT_EQ(d.tick(5001, v).mark_down, std::vector<int32_t>{0});
  d.marked_down(0, 5001);
  v.up.erase(0);
  EXPECT_TRUE(d.tick(6000, v).mark_out.empty());
  v.noout = true;
  EXPECT_TRUE(d.tick(9000, v).mark_out.empty());
  v.noout = false;
  EXPECT_EQ(d.tick(9000, v).mark_out, std::vector<int32_t>{0});
  // Booting again clears the down clock.
  d.marked_up(0, 9500);
  d.beacon(1, 9500);
  v.up.insert(0);
  auto dec = d.tick(9600, v);
  EXPECT_TRUE(dec.empty());
}

TEST(OsdFailure, NodownSuppressesMarkingDown) {
  OsdFailureDetector d(cfg());
  auto v = all_up(1);
  v.nodown = true;
  d.beacon(0, 0);
  EXPECT_TRUE(d.tick(100'000, v).mark_down.empty());
}

}  // namespace
}  // namespace cairn::mon
