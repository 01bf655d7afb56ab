#include "mon/monitor_core.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mon/config_service.h"
#include "mon/monmap.h"
#include "solo_monitor.h"

namespace cairn::mon {
namespace {

// A one-monitor cluster with the config service.
class CoreTest : public SoloMonitor {
 protected:
  CoreTest() {
    core_.add_service(std::make_unique<ConfigService>());
    advance(5000);
  }
};

TEST_F(CoreTest, ConfigSetGetLayeringAndDump) {
  ASSERT_TRUE(paxos_.is_leader());
  EXPECT_EQ(run({"config", "set", "global", "osd_heartbeat_grace", "20"}).code, 0);
  EXPECT_EQ(run({"config", "set", "osd", "osd_heartbeat_grace", "30"}).code, 0);
  EXPECT_EQ(run({"config", "set", "osd.3", "osd_heartbeat_grace", "40"}).code, 0);
  EXPECT_EQ(run({"config", "get", "osd.3", "osd_heartbeat_grace"}).out, "40\n");
  EXPECT_EQ(run({"config", "get", "osd.1", "osd_heartbeat_grace"}).out, "30\n");
  EXPECT_EQ(run({"config", "get", "mon", "osd_heartbeat_grace"}).out, "20\n");
  auto dump = nlohmann::json::parse(run({"config", "dump"}, true).out);
  EXPECT_EQ(dump["osd.3"]["osd_heartbeat_grace"], "40");
  EXPECT_EQ(run({"config", "rm", "osd.3", "osd_heartbeat_grace"}).code, 0);
  EXPECT_EQ(run({"config", "get", "osd.3", "osd_heartbeat_grace"}).out, "30\n");
  // The state is in the replicated store, not only in the service's cache.
  EXPECT_EQ(*store_->get("config/osd/osd_heartbeat_grace"), "30");
}

TEST_F(CoreTest, BadCommandsGetClearErrors) {
  auto r = run({"config", "set", "global"});
  EXPECT_EQ(r.code, EINVAL);
  EXPECT_NE(r.err.find("usage"), std::string::npos);
  EXPECT_EQ(run({"config", "set", "nobody", "x", "1"}).code, EINVAL);
  EXPECT_EQ(run({"config", "set", "osd.3", "bad name!", "1"}).code, EINVAL);
  EXPECT_EQ(run({"config", "set", "osd.3", "x", std::string(5000, 'v')}).code, EINVAL);
  EXPECT_EQ(run({"config", "get", "osd.3", "unset_option"}).code, ENOENT);
  EXPECT_EQ(run({"config", "rm", "osd.3", "unset_option"}).code, ENOENT);
  EXPECT_EQ(run({"config", "frobnicate"}).code, EINVAL);
  EXPECT_EQ(run({"no", "such", "command"}).code, EINVAL);
  EXPECT_EQ(run({}).code, EINVAL);
  EXPECT_EQ(store_->last_committed(), 0u) << "nothing invalid may reach the log";
}

TEST_F(CoreTest, HealthIsOkWithNoChecks) {
  EXPECT_EQ(run({"health"}).out, "HEALTH_OK\n");
  auto j = nlohmann::json::parse(run({"health", "detail"}, true).out);
  EXPECT_EQ(j["status"], "HEALTH_OK");
}

TEST(CommandArgs, FlagsAndBounds) {
  CommandArgs a(
      {"osd", "pool", "create", "rbd", "64", "--size", "3", "--min-size=2", "--yes-i-really-mean-it"}, 3);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a.at(0), "rbd");
  EXPECT_EQ(*a.int_at(1, "pg_num", 1, 65536), 64);
  EXPECT_EQ(*a.int_flag("size", 3, 1, 10), 3);
  EXPECT_EQ(*a.int_flag("min-size", 0, 1, 10), 2);
  EXPECT_TRUE(a.has_flag("yes-i-really-mean-it"));
  EXPECT_EQ(a.int_at(0, "pg_num", 1, 10).code(), Errc::kInvalid);
  EXPECT_EQ(a.int_at(5, "pg_num", 1, 10).code(), Errc::kInvalid);
  EXPECT_EQ(a.int_flag("size", 3, 1, 2).code(), Errc::kInvalid);
}

TEST(MonCommandWire, RoundTripAndGarbage) {
  MonCommand c{{"osd", "tree"}, true};
  auto r = decode_from<MonCommand>(encode_to_buffer(c));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->args, c.args);
  EXPECT_TRUE(r->json);
  EXPECT_FALSE(decode_from<MonCommand>(std::string("\x01\x01\xff\xff\xff\x7f", 6)).ok());
}

}  // namespace
}  // namespace cairn::mon

namespace cairn::mon {
namespace {

TEST(MonMap, ParseSortAndRanks) {
  auto m = MonMap::parse("c=127.0.0.1:6791,a=127.0.0.1:6789,b=127.0.0.1:6790", "fs");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->size(), 3);
  EXPECT_EQ(*m->rank_of("a"), 0);
  EXPECT_EQ(*m->rank_of("c"), 2);
  EXPECT_FALSE(m->rank_of("d").has_value());
  EXPECT_EQ(m->to_string(), "a=127.0.0.1:6789,b=127.0.0.1:6790,c=127.0.0.1:6791");
  auto r = decode_from<MonMap>(encode_to_buffer(*m));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mons, m->mons);
}

TEST(MonMap, BadInput) {
  EXPECT_FALSE(MonMap::parse("", "f").ok());
  EXPECT_FALSE(MonMap::parse("a", "f").ok());
  EXPECT_FALSE(MonMap::parse("a=nohostport", "f").ok());
  EXPECT_FALSE(MonMap::parse("a=1.2.3.4:0", "f").ok());
  EXPECT_FALSE(MonMap::parse("a=1.2.3.4:70000", "f").ok());
  EXPECT_FALSE(MonMap::parse("a=1.2.3.4:1,a=1.2.3.4:2", "f").ok());
  EXPECT_FALSE(MonMap::parse("=1.2.3.4:1", "f").ok());
  MonMap unsorted;
  unsorted.mons = {{"b", "x:1"}, {"a", "x:2"}};
  EXPECT_FALSE(decode_from<MonMap>(encode_to_buffer(unsorted)).ok());
}

}  // namespace
}  // namespace cairn::mon
