// Moving data on purpose, with real processes: an OSD marked out is drained while
// its copies keep serving (the PGs are remapped, never degraded); a whole host
// leaves and its data goes to the other hosts, one copy per host; and a backfill
// waits (backfill_toofull) instead of filling an OSD over its backfillfull ratio.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "client/rados.h"
#include "osd_cluster.h"

namespace cairn::test {
namespace {

std::string value(const std::string& name, int version) {
  return name + " v" + std::to_string(version) + std::string(16000, static_cast<char>('a' + version % 26));
}

// The acting and up sets of every PG, from `cairn pg dump`.
struct PgSets {
  std::string pgid, state;
  std::vector<int> up, acting;
};
std::vector<PgSets> pg_sets(const OsdCluster& c) {
  std::vector<PgSets> out;
  auto d = nlohmann::json::parse(c.mons.cli({"pg", "dump"}, true).out, nullptr, false);
  if (d.is_discarded() || !d.contains("pgs")) return out;
  for (const auto& p : d["pgs"])
    out.push_back({p.value("pgid", ""), p.value("state", ""), p["up"].get<std::vector<int>>(),
                   p["acting"].get<std::vector<int>>()});
  return out;
}

// A client that rewrites a share of its objects each round and remembers the
// acknowledged version of each.
struct Writer {
  client::IoCtx* io;
  std::vector<int> version;
  int round = 0;
  void write_all() {
    for (size_t i = 0; i < version.size(); ++i) write(i);
  }
  void write(size_t i) {
    std::string n = "obj-" + std::to_string(i);
    Status st = io->write_full(n, BufferList::copy_of(value(n, version[i] + 1)));
    ASSERT_TRUE(st.ok()) << n << ": " << st.to_string();
    ++version[i];
  }
  void some() {
    for (size_t i = static_cast<size_t>(round % 5); i < version.size(); i += 5)
      ASSERT_NO_FATAL_FAILURE(write(i));
    ++round;
  }
  void verify() const {
    for (size_t i = 0; i < version.size(); ++i) {
      std::string n = "obj-" + std::to_string(i);
      auto r = io->read(n, 0, 0);
      ASSERT_TRUE(r.ok()) << n << ": " << r.status().to_string();
      ASSERT_TRUE(r->to_string() == value(n, version[i])) << n << " reads " << r->to_string().substr(0, 20);
    }
  }
};

// Writes go on until every PG is active+clean and `settled` holds; PGs must never
// be degraded or undersized on the way (the moving copies stay acting meanwhile).
void move_until(OsdCluster& c, Writer& w, const std::function<bool(const std::vector<PgSets>&)>& settled,
                bool& saw_remapped) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(150);
  for (;;) {
    ASSERT_NO_FATAL_FAILURE(w.some());
    auto sets = pg_sets(c);
    for (const auto& p : sets) {
      ASSERT_EQ(p.state.find("degraded"), std::string::npos) << "pg " << p.pgid << " " << p.state;
      ASSERT_EQ(p.state.find("undersized"), std::string::npos) << "pg " << p.pgid << " " << p.state;
      // Remapped: the map's acting set (a pg_temp) differs from CRUSH's up set. The
      // state string says so too, but only from the OSD's next stats report (1 s
      // here), which a quick backfill can beat.
      if (p.state.find("remapped") != std::string::npos || p.up != p.acting) saw_remapped = true;
    }
    if (w.round >= 3 && !sets.empty() && settled(sets) && c.wait_clean(std::chrono::milliseconds(1))) return;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << c.mons.cli({"pg", "dump"}).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

bool holds(const PgSets& p, int osd) {
  return std::find(p.acting.begin(), p.acting.end(), osd) != p.acting.end() ||
         std::find(p.up.begin(), p.up.end(), osd) != p.up.end();
}

TEST(Rebalance, DrainingAnOsdAndRemovingAHostKeepEveryCopy) {
  // hostA holds osd.0 and osd.1; hostB, hostC and hostD one OSD each. Size 3, one copy per host.
  OsdCluster c(1, 5, {"--osd-heartbeat-grace", "3s"},
               {"--osd-heartbeat-grace", "3s", "--osd-stats-interval", "1s"}, "1G");
  const std::vector<std::string> host{"hostA", "hostA", "hostB", "hostC", "hostD"};
  for (int i = 0; i < 5; ++i) c.set_host(i, host[static_cast<size_t>(i)]);
  ASSERT_TRUE(c.start_with_pool("p", 32, 3, 2).ok());
  auto cl = client::Cluster::connect(c.client_options());
  ASSERT_TRUE(cl.ok()) << cl.status().to_string();
  auto io = (*cl)->io_ctx("p");
  ASSERT_TRUE(io.ok());
  Writer w{&*io, std::vector<int>(240, 0)};
  ASSERT_NO_FATAL_FAILURE(w.write_all());
  auto one_copy_per_host = [&](const std::vector<PgSets>& sets) {
    for (const auto& p : sets) {
      std::set<std::string> hosts;
      for (int o : p.acting) hosts.insert(host[static_cast<size_t>(o)]);
      if (p.acting.size() != 3 || hosts.size() != 3) return false;
    }
    return true;
  };
  ASSERT_TRUE(one_copy_per_host(pg_sets(c)));

  // 1. osd.1 is marked out: it is drained (mostly onto osd.0, its host's other OSD)
  // while it keeps serving, and ends up holding nothing.
  ASSERT_TRUE(c.cli_ok({"osd", "out", "1"}).ok());
  bool saw_remapped = false;
  ASSERT_NO_FATAL_FAILURE(move_until(
      c, w,
      [](const std::vector<PgSets>& sets) {
        return std::none_of(sets.begin(), sets.end(), [](const PgSets& p) { return holds(p, 1); });
      },
      saw_remapped));
  EXPECT_TRUE(saw_remapped);
  EXPECT_TRUE(one_copy_per_host(pg_sets(c)));
  EXPECT_EQ(c.copies_differ(), "");
  ASSERT_NO_FATAL_FAILURE(w.verify());

  // 2. hostA leaves: osd.0 goes out too, then both leave CRUSH and the host bucket is removed.
  ASSERT_TRUE(c.cli_ok({"osd", "out", "0"}).ok());
  saw_remapped = false;
  auto off_host_a = [&](const std::vector<PgSets>& sets) {
    return std::none_of(sets.begin(), sets.end(), [](const PgSets& p) { return holds(p, 0) || holds(p, 1); });
  };
  ASSERT_NO_FATAL_FAILURE(move_until(c, w, off_host_a, saw_remapped));
  EXPECT_TRUE(saw_remapped);
  // Every PG has a copy on each of the three hosts left.
  EXPECT_TRUE(one_copy_per_host(pg_sets(c))) << c.mons.cli({"pg", "dump"}).out;
  EXPECT_EQ(c.copies_differ(), "");
  ASSERT_NO_FATAL_FAILURE(w.verify());
  // A bucket that still holds OSDs cannot go.
  EXPECT_NE(c.mons.cli({"osd", "crush", "rm", "hostA"}).exit_code, 0);
  c.stop_osd(0);
  c.stop_osd(1);
  ASSERT_TRUE(c.cli_ok({"osd", "down", "0", "1"}).ok());
  ASSERT_TRUE(c.cli_ok({"osd", "rm", "0", "1"}).ok());
  ASSERT_TRUE(c.cli_ok({"osd", "crush", "rm", "hostA"}).ok());
  EXPECT_EQ(c.mons.cli({"osd", "tree"}).out.find("hostA"), std::string::npos)
      << c.mons.cli({"osd", "tree"}).out;
  ASSERT_NO_FATAL_FAILURE(move_until(c, w, off_host_a, saw_remapped));
  EXPECT_TRUE(one_copy_per_host(pg_sets(c)));
  ASSERT_NO_FATAL_FAILURE(w.verify());
}

TEST(Rebalance, BackfillWaitsWhileTheTargetIsOverItsBackfillfullRatio) {
  OsdCluster c(1, 3, {"--osd-heartbeat-grace", "3s"},
               {"--osd-heartbeat-grace", "3s", "--osd-stats-interval", "1s"}, "1G");
  ASSERT_TRUE(c.start_with_pool("p", 16, 2, 1).ok());
  auto cl = client::Cluster::connect(c.client_options());
  ASSERT_TRUE(cl.ok()) << cl.status().to_string();
  auto io = (*cl)->io_ctx("p");
  ASSERT_TRUE(io.ok());
  Writer w{&*io, std::vector<int>(150, 0)};
  ASSERT_NO_FATAL_FAILURE(w.write_all());
  // Bad ratios are refused.
  EXPECT_NE(c.mons.cli({"osd", "set-backfillfull-ratio", "1.5"}).exit_code, 0);
  EXPECT_NE(c.mons.cli({"osd", "set-backfillfull-ratio", "x"}).exit_code, 0);
  // A ratio of 0: every OSD counts as too full to backfill onto.
  ASSERT_TRUE(c.cli_ok({"osd", "set-backfillfull-ratio", "0"}).ok());
  auto flagged = [&](int osd) {
    auto d = nlohmann::json::parse(c.mons.cli({"osd", "dump"}, true).out, nullptr, false);
    if (d.is_discarded()) return false;
    for (const auto& o : d["osds"])
      if (o.value("osd", -1) == osd) return o.value("fullness", "") == "backfillfull";
    return false;
  };
  for (int i = 0; i < 60 && !flagged(0); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  ASSERT_TRUE(flagged(0)) << c.mons.cli({"osd", "dump"}).out;
  EXPECT_NE(c.mons.cli({"health", "detail"}).out.find("OSD_BACKFILLFULL"), std::string::npos);

  int added = c.add_osd();
  ASSERT_TRUE(c.start_osd(added).ok());
  ASSERT_TRUE(c.wait_osd_state(added, true, std::chrono::seconds(30)));
  // The PGs that move to the new OSD stay on their old copies and wait; writes go on.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (c.pgs_with("backfill_toofull") <= 0) {
    ASSERT_NO_FATAL_FAILURE(w.some());
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << c.mons.cli({"pg", "dump"}).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  for (int i = 0; i < 40 && !flagged(added); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_TRUE(flagged(added));
  for (int i = 0; i < 10; ++i) {
    ASSERT_NO_FATAL_FAILURE(w.some());
    for (const auto& p : pg_sets(c)) {
      EXPECT_EQ(std::find(p.acting.begin(), p.acting.end(), added), p.acting.end()) << "pg " << p.pgid;
      EXPECT_EQ(p.state.find("degraded"), std::string::npos) << "pg " << p.pgid << " " << p.state;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_NE(c.mons.cli({"health", "detail"}).out.find("PG_BACKFILL_FULL"), std::string::npos);
  // Room again: the backfill runs and the new OSD takes its share.
  ASSERT_TRUE(c.cli_ok({"osd", "set-backfillfull-ratio", "0.9"}).ok());
  bool saw_remapped = false;
  ASSERT_NO_FATAL_FAILURE(move_until(
      c, w,
      [&](const std::vector<PgSets>& sets) {
        return std::any_of(sets.begin(), sets.end(), [&](const PgSets& p) { return holds(p, added); });
      },
      saw_remapped));
  EXPECT_FALSE(flagged(added));
  EXPECT_EQ(c.copies_differ(), "");
  ASSERT_NO_FATAL_FAILURE(w.verify());
}

}  // namespace
}  // namespace cairn::test
