#include "mon/osdmap_service.h"

#include <gtest/gtest.h>

#include <deque>

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
  explicit OsdMapServiceTest(OsdMapServiceConfig cfg = test_config()) {
    auto svc = std::make_unique<OsdMapService>(std::move(cfg), [this] { return now_ms(); });
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

// The OSD map service on a hand-driven Paxos: each proposal waits until the test
// commits it, so a change can be in flight while the failure detector decides.
class HeldProposalsTest : public ::testing::Test {
 protected:
  HeldProposalsTest() : store_(make_mem_paxos_store()), svc_(test_config(), [this] { return now_ms_; }) {
    svc_.bind([this](KvTxn t, std::function<void(Status)> done) {
      held_.push_back({std::move(t), std::move(done)});
      return Status();
    });
    svc_.refresh(*store_);
    tick();
    commit_all();
  }
  void tick() {
    std::vector<KvTxn> out;
    svc_.tick(now_ms_, out);
  }
  void commit_all() {
    while (!held_.empty()) {
      auto [t, done] = std::move(held_.front());
      held_.pop_front();
      PaxosValue v;
      v.txns.push_back(std::move(t));
      ASSERT_TRUE(store_->commit(store_->last_committed() + 1, encode_to_buffer(v).to_string()).ok());
      svc_.refresh(*store_);
      if (done) done(Status());  // may propose the next epoch
    }
  }
  Status boot(int osd, uint64_t instance) {
    Status st(Errc::kInternal, "not called");
    Status r = svc_.osd_boot(osd, "127.0.0.1:" + std::to_string(6800 + instance), instance,
                             "host" + std::to_string(osd), crush::kWeightOne, [&st](Status s) { st = s; });
    if (!r.ok()) return r;
    commit_all();
    return st;
  }
  // Four OSDs on four hosts, up and in, each with a fresh beacon.
  void four_osds_up() {
    for (int i = 0; i < 4; ++i) {
      Service::ReplyFn reply = [](MonCommandReply r) { EXPECT_EQ(r.code, 0) << r.out; };
      ASSERT_TRUE(svc_.command_async(MonCommand{{"osd", "create"}, false}, reply));
      commit_all();
      ASSERT_TRUE(boot(i, 100 + i).ok());
      svc_.osd_beacon(i);
    }
  }
  void reports_against_osd0() {
    svc_.osd_failure(0, 1, now_ms_, false);
    svc_.osd_failure(0, 2, now_ms_, false);
    now_ms_ += 1500;  // past the grace
    for (int i = 1; i < 4; ++i) svc_.osd_beacon(i);
  }

  uint64_t now_ms_ = 1'000'000;
  std::unique_ptr<PaxosStore> store_;
  OsdMapService svc_;
  std::deque<std::pair<KvTxn, std::function<void(Status)>>> held_;
};

// The reports were about the instance that died; the one booting meanwhile must
// come up (it was told its boot succeeded, and it waits for no other answer).
TEST_F(HeldProposalsTest, FailureReportsDoNotMarkDownAnInstanceWhoseBootIsInFlight) {
  four_osds_up();
  reports_against_osd0();
  Status boot_st(Errc::kInternal, "not called");
  ASSERT_TRUE(svc_.osd_boot(0, "127.0.0.1:6900", 999, "host0", crush::kWeightOne,
                            [&boot_st](Status s) { boot_st = s; })
                  .ok());
  ASSERT_EQ(held_.size(), 1u) << "the boot waits to commit";
  tick();  // the detector decides the old instance is down
  commit_all();
  ASSERT_TRUE(boot_st.ok()) << boot_st.to_string();
  ASSERT_TRUE(svc_.map().is_up(0));
  EXPECT_EQ(svc_.map().osd(0)->instance, 999u);
  // The same reports with no boot in flight do mark it down (the test can fail).
  reports_against_osd0();
  tick();
  commit_all();
  EXPECT_FALSE(svc_.map().is_up(0));
}

TEST_F(HeldProposalsTest, AnOsdBootingWhenItsDownOutIntervalEndsStaysIn) {
  four_osds_up();
  reports_against_osd0();
  tick();
  commit_all();
  ASSERT_FALSE(svc_.map().is_up(0));
  now_ms_ += 3500;  // past the down-out interval
  for (int i = 1; i < 4; ++i) svc_.osd_beacon(i);
  ASSERT_TRUE(svc_.osd_boot(0, "127.0.0.1:6900", 999, "host0", crush::kWeightOne, nullptr).ok());
  tick();
  commit_all();
  EXPECT_TRUE(svc_.map().is_up(0));
  EXPECT_TRUE(svc_.map().is_in(0)) << "marked out while up";
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

namespace cairn::mon {
namespace {

TEST_F(OsdMapServiceTest, PgStatsFromPrimariesShowInPgDumpStatAndHealth) {
  boot_osds(3);
  ASSERT_EQ(run({"osd", "pool", "create", "rbd", "4", "--size", "3"}).code, 0);
  const crush::OsdMap& m = svc_->map();
  int64_t pool = m.pool_by_name("rbd")->placement.id;
  EXPECT_NE(run({"pg", "stat"}).out.find("4 unknown"), std::string::npos) << "nothing reported yet";
  // Each OSD reports every PG; only the acting primary's entry counts.
  for (int osd = 0; osd < 3; ++osd) {
    msg::OsdStatsMsg st{osd, m.epoch, 960, 1000, {}};  // 96 % used: above the full ratio
    for (uint32_t seed = 0; seed < 4; ++seed) {
      uint32_t state = msg::kPgActive | msg::kPgClean;
      if (seed == 1) state = msg::kPgActive | msg::kPgDegraded | msg::kPgUndersized;
      if (seed == 2) state = msg::kPgActive | msg::kPgClean | msg::kPgInconsistent;
      st.pgs.push_back(msg::PgStatEntry{pool, seed, state, 10u + static_cast<uint64_t>(osd), 100, 0, 0, 7});
    }
    svc_->osd_stats(st);
  }
  auto stat = nlohmann::json::parse(run({"pg", "stat"}, true).out);
  EXPECT_EQ(stat["by_state"]["active+clean"], 2);
  EXPECT_EQ(stat["by_state"]["active+degraded+undersized"], 1);
  EXPECT_EQ(stat["by_state"]["active+clean+inconsistent"], 1);
  EXPECT_EQ(stat["total_bytes"], 3000);
  auto dump = nlohmann::json::parse(run({"pg", "dump"}, true).out);
  for (auto& pg : dump["pgs"])
    EXPECT_EQ(pg["objects"], 10 + pg["acting_primary"].get<int>()) << "primary's report";
  auto h = nlohmann::json::parse(run({"health", "detail"}, true).out);
  EXPECT_EQ(h["status"], "HEALTH_ERR");
  for (const char* code : {"PG_DEGRADED", "PG_INCONSISTENT", "OSD_FULL"})
    EXPECT_TRUE(h["checks"].contains(code)) << code;
  // Silence: past the stale interval every reported PG is stale.
  for (int k = 0; k < 16; ++k) {
    advance(1000);
    for (int osd = 0; osd < 3; ++osd) svc_->osd_beacon(osd);
  }
  EXPECT_NE(svc_->pg_summary().by_state.count("stale+active+clean"), 0u);
  EXPECT_TRUE(nlohmann::json::parse(run({"health"}, true).out)["checks"].contains("PG_STALE"));
  // Reports for pools or PGs that do not exist are ignored, not trusted.
  svc_->osd_stats(msg::OsdStatsMsg{0, m.epoch, 0, 0, {msg::PgStatEntry{999, 0, 1, 1, 1, 0, 0, 0}}});
  svc_->osd_stats(msg::OsdStatsMsg{77, m.epoch, 0, 0, {}});
  EXPECT_EQ(svc_->pg_summary().pgs, 4u);
}

// Old maps are trimmed only past what every PG's peering may still walk: the
// last_epoch_started each reported while active+clean.
class OsdMapTrimTest : public OsdMapServiceTest {
 protected:
  static OsdMapServiceConfig trim_config() {
    OsdMapServiceConfig c = test_config();
    c.epochs_kept = 10;
    return c;
  }
  OsdMapTrimTest() : OsdMapServiceTest(trim_config()) {}
  void churn(int epochs) {
    for (int i = 0; i < epochs; ++i) ASSERT_EQ(run({"osd", i % 2 ? "unset" : "set", "noout"}).code, 0);
  }
  void report(int64_t pool, uint32_t pgs, uint32_t les, uint32_t unclean_seed) {
    const crush::OsdMap& m = svc_->map();
    for (int osd = 0; osd < 3; ++osd) {
      msg::OsdStatsMsg st{osd, m.epoch, 10, 1000, {}};
      for (uint32_t seed = 0; seed < pgs; ++seed) {
        msg::PgStatEntry e{pool, seed, msg::kPgActive | msg::kPgClean, 0, 0, 0, 0, 0};
        if (seed == unclean_seed) e.state = msg::kPgActive | msg::kPgDegraded;
        e.last_epoch_started = les;
        st.pgs.push_back(e);
      }
      svc_->osd_stats(st);
    }
  }
};

TEST_F(OsdMapServiceTest, CrushAddPlacesAnOsdAndRmTakesItAndEmptyBucketsOut) {
  boot_osds(3);
  ASSERT_EQ(run({"osd", "create"}).out, "3\n");
  ASSERT_EQ(run({"osd", "crush", "add-bucket", "rack1", "host"}).code, 0);
  EXPECT_NE(run({"osd", "crush", "add", "osd.3", "1.0", "host=nosuch"}).code, 0);
  EXPECT_NE(run({"osd", "crush", "add", "osd.9", "1.0", "host=rack1"}).code, 0);
  EXPECT_NE(run({"osd", "crush", "add", "osd.3", "1.0"}).code, 0);
  ASSERT_EQ(run({"osd", "crush", "add", "osd.3", "1.0", "host=rack1"}).code, 0);
  const crush::CrushMap& c = svc_->map().crush;
  ASSERT_NE(c.device(3), nullptr);
  EXPECT_EQ(c.parent(3), c.find_item("rack1"));
  EXPECT_NE(run({"osd", "crush", "add", "osd.3", "1.0", "host=rack1"}).code, 0) << "placed already";
  EXPECT_NE(run({"osd", "crush", "rm", "rack1"}).code, 0) << "not empty";
  ASSERT_EQ(run({"osd", "crush", "rm", "osd.3"}).code, 0);
  EXPECT_EQ(svc_->map().crush.device(3), nullptr);
  ASSERT_EQ(run({"osd", "crush", "rm", "rack1"}).code, 0);
  EXPECT_FALSE(svc_->map().crush.find_item("rack1").has_value());
  EXPECT_NE(run({"osd", "crush", "rm", "nosuch"}).code, 0);
}

TEST_F(OsdMapTrimTest, MapsAPgMayStillNeedAreKept) {
  boot_osds(3);
  ASSERT_EQ(run({"osd", "pool", "create", "rbd", "4", "--size", "3"}).code, 0);
  int64_t pool = svc_->map().pool_by_name("rbd")->placement.id;
  crush::Epoch created = svc_->map().pool(pool)->created;
  // No PG reported clean yet: nothing after the pool's creation goes.
  ASSERT_NO_FATAL_FAILURE(churn(60));
  EXPECT_LE(svc_->first_epoch(), created);
  // Every PG but one clean at les = now; the other has never been clean.
  crush::Epoch les = svc_->map().epoch;
  report(pool, 4, les, 3);
  ASSERT_NO_FATAL_FAILURE(churn(60));
  EXPECT_LE(svc_->first_epoch(), created) << "PG 3 may still need every map since the pool began";
  // All clean since `les`: maps before it go, and the ones from it on stay.
  report(pool, 4, les, 99);
  ASSERT_NO_FATAL_FAILURE(churn(60));
  EXPECT_GT(svc_->first_epoch(), created);
  EXPECT_LE(svc_->first_epoch(), les);
  // Clean again in a newer interval: the floor moves up to it.
  crush::Epoch les2 = svc_->map().epoch;
  report(pool, 4, les2, 99);
  ASSERT_NO_FATAL_FAILURE(churn(60));
  EXPECT_GT(svc_->first_epoch(), les);
  EXPECT_LE(svc_->first_epoch(), les2);
}

TEST(PgState, Names) {
  EXPECT_EQ(msg::pg_state_string(0), "unknown");
  EXPECT_EQ(msg::pg_state_string(msg::kPgActive | msg::kPgClean), "active+clean");
  auto r = decode_from<msg::OsdStatsMsg>(
      encode_to_buffer(msg::OsdStatsMsg{3, 9, 1, 2, {msg::PgStatEntry{1, 2, 3}}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->pgs.at(0).seed, 2u);
}

}  // namespace
}  // namespace cairn::mon

namespace cairn::mon {
namespace {

// Every field of every monitor message survives encoding (a field left out of
// encode/decode once cost OSDs their CRUSH weight).
template <typename T>
void expect_round_trip(const T& v) {
  auto r = decode_from<T>(encode_to_buffer(v));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(*r == v);
  std::string bytes = encode_to_buffer(v).to_string();
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(decode_from<T>(bytes.substr(0, n)).ok());
}

TEST(MonMessages, EveryFieldRoundTrips) {
  auto addr = *msg::EntityAddr::parse("127.0.0.1:6800");
  expect_round_trip(msg::MonCommandMsg{{"osd", "tree"}, true});
  expect_round_trip(msg::MonCommandReplyMsg{22, "out", "err", "127.0.0.1:1"});
  expect_round_trip(msg::MonSubscribeMsg{7, true});
  msg::OsdMapMsg om;
  om.fsid = "f";
  om.full[3] = BufferList::copy_of("full");
  om.incremental[4] = BufferList::copy_of("inc");
  expect_round_trip(om);
  expect_round_trip(msg::OsdBootMsg{3, addr, 99, "host1", 0x18000});
  expect_round_trip(msg::OsdAckMsg{11, "again", 5, "127.0.0.1:2"});
  expect_round_trip(msg::OsdFailureMsg{1, 2, 3000, true});
  expect_round_trip(msg::OsdBeaconMsg{4, 8});
  expect_round_trip(msg::OsdAliveMsg{4, 9});
  expect_round_trip(msg::OsdStatsMsg{2, 3, 4, 5, {msg::PgStatEntry{1, 2, 3, 4, 5, 6, 7, 8}}});
}

}  // namespace
}  // namespace cairn::mon
