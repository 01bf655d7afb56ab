#include "mon/osdmap_service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mon/monitor_core.h"
#include "solo_monitor.h"

namespace cairn::mon {
namespace {

OsdMapServiceConfig test_config() {
  OsdMapServiceConfig c;
  c.fsid = "f00d";
  c.failure.grace_ms = 1000;
  c.failure.beacon_timeout_ms = 5000;
  c.failure.down_out_interval_ms = 3000;
  c.failure.min_reporters = 2;
  c.failure.min_reporter_domains = 2;
  c.default_pg_num = 16;
  return c;
}

// One monitor (every proposal commits at once) with the OSD map service.
class OsdMapServiceTest : public SoloMonitor {
 protected:
  OsdMapServiceTest() {
    auto svc = std::make_unique<OsdMapService>(test_config(), [this] { return now_ms(); });
    svc_ = svc.get();
    core_.add_service(std::move(svc));
    advance(5000);
  }
  // Creates n OSDs, boots them on hosts host0..host{n-1} (one per host).
  void boot_osds(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(run({"osd", "create"}).out, std::to_string(i) + "\n");
      Status done_st(Errc::kInternal, "not called");
      ASSERT_TRUE(svc_->osd_boot(i, "127.0.0.1:" + std::to_string(6800 + i), 100 + i,
                                 "host" + std::to_string(i), crush::kWeightOne,
                                 [&](Status s) { done_st = s; })
                      .ok());
      ASSERT_TRUE(done_st.ok()) << done_st.to_string();
    }
  }
  OsdMapService* svc_ = nullptr;
};

TEST_F(OsdMapServiceTest, FirstEpochIsCreatedByTheLeader) {
  EXPECT_EQ(svc_->map().epoch, 1u);
  EXPECT_EQ(svc_->map().fsid, "f00d");
  EXPECT_TRUE(svc_->map().crush.find_item("default").has_value());
}

TEST_F(OsdMapServiceTest, BootPlacesOsdsAndPoolsMapAcrossHosts) {
  boot_osds(3);
  const auto& m = svc_->map();
  EXPECT_EQ(m.num_up(), 3u);
  EXPECT_EQ(m.num_in(), 3u);
  EXPECT_TRUE(m.crush.find_item("host2").has_value());
  auto r = run({"osd", "pool", "create", "rbd", "8", "--size", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto again = run({"osd", "pool", "create", "rbd"});
  EXPECT_EQ(again.code, 0) << "create is idempotent";
  EXPECT_NE(again.out.find("already exists"), std::string::npos);
  EXPECT_EQ(svc_->map().pools.size(), 1u);
  auto pm = nlohmann::json::parse(run({"pg", "map", "rbd", "obj1"}, true).out);
  EXPECT_EQ(pm["acting"].size(), 3u);
  auto tree = run({"osd", "tree"}).out;
  EXPECT_NE(tree.find("host host1"), std::string::npos) << tree;
  EXPECT_NE(tree.find("osd.2"), std::string::npos);
  auto pools = nlohmann::json::parse(run({"osd", "pool", "ls"}, true).out);
  EXPECT_EQ(pools, nlohmann::json::array({"rbd"}));
  EXPECT_EQ(nlohmann::json::parse(run({"osd", "pool", "get", "rbd"}, true).out)["pg_num"], 8);
  // The epochs are stored: every one decodes, and incrementals chain.
  for (crush::Epoch e = 2; e <= m.epoch; ++e) {
    auto inc = svc_->incremental(*store_, e);
    ASSERT_TRUE(inc.ok()) << e;
    EXPECT_EQ(inc->epoch, e);
  }
}

TEST_F(OsdMapServiceTest, OutInDownFlagsAndRemoval) {
  boot_osds(3);
  ASSERT_EQ(run({"osd", "out", "1"}).code, 0);
  EXPECT_FALSE(svc_->map().is_in(1));
  ASSERT_EQ(run({"osd", "in", "osd.1"}).code, 0);
  EXPECT_TRUE(svc_->map().is_in(1));
  EXPECT_EQ(run({"osd", "rm", "1"}).code, EBUSY);
  ASSERT_EQ(run({"osd", "down", "1"}).code, 0);
  ASSERT_EQ(run({"osd", "out", "1"}).code, 0);
  ASSERT_EQ(run({"osd", "rm", "1"}).code, 0);
  EXPECT_FALSE(svc_->map().exists(1));
  EXPECT_FALSE(svc_->map().crush.device(1));
  ASSERT_EQ(run({"osd", "set", "noout"}).code, 0);
  EXPECT_TRUE(svc_->map().test_flag(crush::kFlagNoOut));
  ASSERT_EQ(run({"osd", "unset", "noout"}).code, 0);
  EXPECT_FALSE(svc_->map().test_flag(crush::kFlagNoOut));
}

TEST_F(OsdMapServiceTest, BadCommandsAreRefusedWithoutANewEpoch) {
  boot_osds(1);
  crush::Epoch e = svc_->map().epoch;
  EXPECT_EQ(run({"osd", "out", "42"}).code, ENOENT);
  EXPECT_EQ(run({"osd", "out", "banana"}).code, EINVAL);
  EXPECT_EQ(run({"osd", "out"}).code, EINVAL);
  EXPECT_EQ(run({"osd", "set", "nosuchflag"}).code, EINVAL);
  EXPECT_EQ(run({"osd", "reweight", "0", "1.5"}).code, EINVAL);
  EXPECT_EQ(run({"osd", "pool", "create", "bad name!"}).code, EINVAL);
  EXPECT_EQ(run({"osd", "pool", "create", "p", "0"}).code, EINVAL);
  EXPECT_EQ(run({"osd", "pool", "create", "p", "8", "--size", "99"}).code, EINVAL);
  EXPECT_EQ(run({"osd", "pool", "create", "p", "8", "--rule", "nosuch"}).code, ENOENT);
  EXPECT_EQ(run({"osd", "pool", "get", "nosuch"}).code, ENOENT);
  EXPECT_EQ(run({"osd", "pool", "rm", "nosuch", "nosuch", "--yes-i-really-really-mean-it"}).code, ENOENT);
  EXPECT_EQ(run({"pg", "map", "nosuch", "obj"}).code, ENOENT);
  EXPECT_EQ(run({"osd", "crush", "add-bucket", "r1", "nosuchtype"}).code, EINVAL);
  EXPECT_EQ(run({"osd", "frob"}).code, EINVAL);
  EXPECT_EQ(svc_->map().epoch, e);
  EXPECT_EQ(svc_->osd_boot(77, "127.0.0.1:1", 1, "h", crush::kWeightOne, nullptr).code(), Errc::kNotFound);
}

TEST_F(OsdMapServiceTest, PoolRemovalNeedsConfirmation) {
  boot_osds(3);
  ASSERT_EQ(run({"osd", "pool", "create", "data"}).code, 0);
  EXPECT_EQ(run({"osd", "pool", "rm", "data"}).code, EPERM);
  EXPECT_EQ(run({"osd", "pool", "rm", "data", "data"}).code, EPERM);
  ASSERT_EQ(run({"osd", "pool", "rm", "data", "data", "--yes-i-really-really-mean-it"}).code, 0);
  EXPECT_EQ(svc_->map().pools.size(), 0u);
  ASSERT_EQ(run({"osd", "pool", "create", "data"}).code, 0);
  EXPECT_EQ(svc_->map().pool_by_name("data")->placement.id, 2) << "pool ids are never reused";
}

TEST_F(OsdMapServiceTest, FailureReportsMarkDownThenOut) {
  boot_osds(4);
  for (int i = 0; i < 4; ++i) svc_->osd_beacon(i);
  uint64_t now = host_.clock.now_ns() / 1'000'000;
  svc_->osd_failure(0, 1, now, false);
  svc_->osd_failure(0, 2, now, false);
  advance(1500);
  for (int i = 1; i < 4; ++i) svc_->osd_beacon(i);
  EXPECT_FALSE(svc_->map().is_up(0)) << "two reporters on two hosts past the grace";
  EXPECT_TRUE(svc_->map().is_in(0));
  auto h = nlohmann::json::parse(run({"health"}, true).out);
  EXPECT_EQ(h["status"], "HEALTH_WARN");
  EXPECT_TRUE(h["checks"].contains("OSD_DOWN"));
  for (int k = 0; k < 4; ++k) {
    advance(1000);
    for (int i = 1; i < 4; ++i) svc_->osd_beacon(i);
  }
  EXPECT_FALSE(svc_->map().is_in(0)) << "down longer than the down-out interval";
  EXPECT_TRUE(svc_->map().is_up(1));
  // Rebooting brings it back up (and it stays out until marked in).
  ASSERT_TRUE(svc_->osd_boot(0, "127.0.0.1:6900", 999, "host0", crush::kWeightOne, nullptr).ok());
  EXPECT_TRUE(svc_->map().is_up(0));
  EXPECT_EQ(svc_->map().osd(0)->addr, "127.0.0.1:6900");
}

TEST_F(OsdMapServiceTest, SilentOsdIsMarkedDownByBeaconTimeout) {
  boot_osds(2);
  for (int k = 0; k < 7; ++k) {
    advance(1000);
    svc_->osd_beacon(1);
  }
  EXPECT_FALSE(svc_->map().is_up(0));
  EXPECT_TRUE(svc_->map().is_up(1));
}

TEST_F(OsdMapServiceTest, UpThruAndPgTemp) {
  boot_osds(3);
  crush::Epoch e = svc_->map().epoch;
  bool done = false;
  ASSERT_TRUE(svc_->osd_want_up_thru(1, e, [&](Status s) { done = s.ok(); }).ok());
  EXPECT_TRUE(done);
  EXPECT_GE(svc_->map().osd(1)->up_thru, e);
  ASSERT_EQ(run({"osd", "pool", "create", "rbd", "4"}).code, 0);
  crush::PgId pg{svc_->map().pool_by_name("rbd")->placement.id, 2};
  ASSERT_TRUE(svc_->set_pg_temp(pg, {2, 1, 0}, nullptr).ok());
  EXPECT_EQ(svc_->map().map_pg(pg)->acting, (std::vector<int32_t>{2, 1, 0}));
  EXPECT_EQ(svc_->set_pg_temp(crush::PgId{99, 0}, {1}, nullptr).code(), Errc::kNotFound);
}

}  // namespace
}  // namespace cairn::mon
