// Peering across intervals, with real processes: a PG whose up-to-date copies are
// all down must not go active on an older copy (it would serve stale data and
// then overwrite the newer copies); it reports `down` and waits, and when one of
// those copies returns, every acknowledged write is there.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "client/rados.h"
#include "osd_cluster.h"

namespace cairn::test {
namespace {

std::string value(const std::string& name, int version) {
  return name + " version " + std::to_string(version) + std::string(40000, static_cast<char>('a' + version));
}

// Writes version `version` of obj-0 .. obj-<objects - 1>.
void write_all(client::IoCtx& io, int objects, int version) {
  for (int i = 0; i < objects; ++i) {
    std::string n = "obj-" + std::to_string(i);
    Status st = io.write_full(n, BufferList::copy_of(value(n, version)));
    ASSERT_TRUE(st.ok()) << n << ": " << st.to_string();
  }
}

// Some PG is active and recovering a replica (it went active before the replica was whole).
bool active_recovering(const OsdCluster& c) {
  auto d = nlohmann::json::parse(c.mons.cli({"pg", "dump"}, true).out, nullptr, false);
  if (d.is_discarded()) return false;
  for (const auto& p : d["pgs"]) {
    std::string st = p.value("state", "");
    if (st.rfind("active", 0) == 0 && st.find("recovering") != std::string::npos) return true;
  }
  return false;
}

TEST(Peering, OlderCopyWaitsForTheNewerIntervalAndNothingAckedIsLost) {
  OsdCluster c(1, 3,
               {"--osd-heartbeat-grace", "3s", "--mon-osd-down-out-interval", "600s",
                "--mon-osd-beacon-timeout", "6s"},
               {"--osd-heartbeat-grace", "3s", "--osd-stats-interval", "1s", "--osd-beacon-interval", "1s"},
               "1G");
  ASSERT_TRUE(c.start_with_pool("p", 8, 2, 1).ok());
  client::ClusterOptions o = c.client_options();
  auto cl = client::Cluster::connect(o);
  ASSERT_TRUE(cl.ok()) << cl.status().to_string();
  auto io = (*cl)->io_ctx("p");
  ASSERT_TRUE(io.ok());
  constexpr int kOld = 40, kNew = 20;
  // Interval 1: every OSD holds copies of version 1.
  for (int i = 0; i < kOld; ++i) {
    std::string n = "obj-" + std::to_string(i);
    ASSERT_TRUE(io->write_full(n, BufferList::copy_of(value(n, 1))).ok()) << n;
  }
  // osd.2 goes away; its PGs move to osd.0 and osd.1, which take version 2 and new objects.
  c.kill9_osd(2);
  ASSERT_TRUE(c.wait_osd_state(2, false, std::chrono::seconds(30)));
  ASSERT_TRUE(c.cli_ok({"osd", "out", "2"}).ok());
  ASSERT_TRUE(c.wait_clean(std::chrono::seconds(60)));
  for (int i = 0; i < kOld + kNew; ++i) {
    std::string n = "obj-" + std::to_string(i);
    ASSERT_TRUE(io->write_full(n, BufferList::copy_of(value(n, 2))).ok()) << n;
  }
  // Both holders of version 2 die; only osd.2 (version 1, or nothing) is left to map to.
  c.kill9_osd(0);
  c.kill9_osd(1);
  ASSERT_TRUE(c.wait_osd_state(0, false, std::chrono::seconds(30)));
  ASSERT_TRUE(c.wait_osd_state(1, false, std::chrono::seconds(30)));
  ASSERT_TRUE(c.cli_ok({"osd", "out", "0"}).ok());
  ASSERT_TRUE(c.cli_ok({"osd", "out", "1"}).ok());
  ASSERT_TRUE(c.cli_ok({"osd", "in", "2"}).ok());
  ASSERT_TRUE(c.start_osd(2).ok());
  ASSERT_TRUE(c.wait_osd_state(2, true, std::chrono::seconds(30)));
  // Every PG had an interval on {0, 1} that accepted writes: all of them wait, down.
  int down = 0;
  for (int i = 0; i < 60 && down != 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    down = c.pgs_with("down");
  }
  EXPECT_EQ(down, 8) << c.mons.cli({"pg", "dump"}).out;
  EXPECT_EQ(c.pgs_with("active"), 0);
  {
    // A read now gets no answer (never the stale version 1).
    client::ClusterOptions quick = o;
    quick.op_timeout = std::chrono::seconds(4);
    auto qc = client::Cluster::connect(quick);
    ASSERT_TRUE(qc.ok());
    auto qio = (*qc)->io_ctx("p");
    ASSERT_TRUE(qio.ok());
    auto r = qio->read("obj-0", 0, 0);
    EXPECT_FALSE(r.ok()) << "served " << r->to_string().substr(0, 20);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Errc::kTimedOut) << r.status().to_string();
    }
  }
  // osd.0 comes back (still out): peering hears from it, takes its newer copy onto
  // osd.2 and goes active on osd.2 alone.
  ASSERT_TRUE(c.start_osd(0).ok());
  for (int i = 0; i < kOld + kNew; ++i) {
    std::string n = "obj-" + std::to_string(i);
    auto r = io->read(n, 0, 0);
    ASSERT_TRUE(r.ok()) << n << ": " << r.status().to_string();
    ASSERT_TRUE(r->to_string() == value(n, 2)) << n << " reads " << r->to_string().substr(0, 20);
  }
  for (int i = 0; i < 40 && down != 0; ++i) {  // the PG summary follows within a stats interval
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    down = c.pgs_with("down");
  }
  EXPECT_EQ(down, 0);
  // Everyone back in: clean, and still version 2 everywhere.
  ASSERT_TRUE(c.start_osd(1).ok());
  ASSERT_TRUE(c.cli_ok({"osd", "in", "0"}).ok());
  ASSERT_TRUE(c.cli_ok({"osd", "in", "1"}).ok());
  ASSERT_TRUE(c.wait_clean(std::chrono::seconds(90))) << c.mons.cli({"pg", "dump"}).out;
  for (int i = 0; i < kOld + kNew; ++i) {
    std::string n = "obj-" + std::to_string(i);
    auto r = io->read(n, 0, 0);
    ASSERT_TRUE(r.ok()) << n;
    EXPECT_TRUE(r->to_string() == value(n, 2)) << n << " reads " << r->to_string().substr(0, 20);
  }
}

// A new OSD joins: the PGs that move to it stay active on their old copies
// (pg_temp) while it is filled in the background, writes go on the whole time
// and none is lost, and at the end the new copies match the old ones.
TEST(Peering, NewOsdIsBackfilledWhileTheOldCopiesServe) {
  // Copies more than 10 entries behind are backfilled (the default is 100; this keeps the test small).
  OsdCluster c(
      1, 3, {"--osd-heartbeat-grace", "3s"},
      {"--osd-heartbeat-grace", "3s", "--osd-stats-interval", "1s", "--osd-recovery-max-log-entries", "10"},
      "1G");
  ASSERT_TRUE(c.start_with_pool("p", 16, 2, 1).ok());
  auto cl = client::Cluster::connect(c.client_options());
  ASSERT_TRUE(cl.ok()) << cl.status().to_string();
  auto io = (*cl)->io_ctx("p");
  ASSERT_TRUE(io.ok());
  constexpr int kObjects = 300;
  std::vector<int> version(kObjects, 1);
  for (int i = 0; i < kObjects; ++i) {
    std::string n = "obj-" + std::to_string(i);
    ASSERT_TRUE(io->write_full(n, BufferList::copy_of(value(n, 1))).ok()) << n;
  }
  int added = c.add_osd();
  // Slow links to the new OSD, so the copying lasts long enough to be seen.
  for (int i = 0; i < 3; ++i)
    ASSERT_NE(c.osd_admin(i, "fault delay 100 osd." + std::to_string(added)), "") << i;
  ASSERT_TRUE(c.start_osd(added).ok());
  ASSERT_TRUE(c.wait_osd_state(added, true, std::chrono::seconds(30)));
  auto holds_pgs = [&] {
    auto d = nlohmann::json::parse(c.mons.cli({"pg", "dump"}, true).out, nullptr, false);
    if (d.is_discarded()) return false;
    for (const auto& p : d["pgs"]) {
      auto acting = p["acting"].get<std::vector<int>>();
      if (std::find(acting.begin(), acting.end(), added) != acting.end()) return true;
    }
    return false;
  };
  // Writes continue while PGs move; remapped PGs are seen on the way.
  bool saw_remapped = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int round = 0;
  for (;;) {
    for (int i = round % 7; i < kObjects; i += 7) {
      std::string n = "obj-" + std::to_string(i);
      Status st = io->write_full(n, BufferList::copy_of(value(n, version[i] + 1)));
      ASSERT_TRUE(st.ok()) << n << ": " << st.to_string();
      ++version[i];
    }
    ++round;
    if (!saw_remapped) saw_remapped = c.pgs_with("remapped") > 0;
    if (round >= 4 && holds_pgs() && c.wait_clean(std::chrono::milliseconds(1))) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << c.mons.cli({"pg", "dump"}).out;
  }
  EXPECT_TRUE(saw_remapped);
  ASSERT_TRUE(c.wait_clean(std::chrono::seconds(60)));
  // The new OSD holds PGs now, every acknowledged write reads back, and each PG's
  // copies agree.
  EXPECT_EQ(c.copies_differ(), "");
  auto d = nlohmann::json::parse(c.mons.cli({"pg", "dump"}, true).out, nullptr, false);
  ASSERT_FALSE(d.is_discarded());
  int on_new = 0;
  for (const auto& p : d["pgs"]) {
    std::vector<int> acting = p["acting"].get<std::vector<int>>();
    if (std::find(acting.begin(), acting.end(), added) != acting.end()) ++on_new;
  }
  EXPECT_GT(on_new, 0);
  for (int i = 0; i < kObjects; ++i) {
    std::string n = "obj-" + std::to_string(i);
    auto r = io->read(n, 0, 0);
    ASSERT_TRUE(r.ok()) << n;
    EXPECT_TRUE(r->to_string() == value(n, version[i])) << n << " reads " << r->to_string().substr(0, 20);
  }
}

// A replica that was down comes back within the log's reach: the PG goes active
// at once and recovers it in the background (active+recovering); a write to an
// object the replica still lacks has that object pushed first instead of waiting
// for the whole PG; at the end the copies agree and every write reads back.
TEST(Peering, ReplicaRecoversWhileThePgServesAndAWriteToAMissingObjectGoesFirst) {
  OsdCluster c(1, 3, {"--osd-heartbeat-grace", "3s"},
               {"--osd-heartbeat-grace", "3s", "--osd-stats-interval", "1s"}, "1G");
  ASSERT_TRUE(c.start_with_pool("p", 8, 3, 2).ok());
  auto cl = client::Cluster::connect(c.client_options());
  ASSERT_TRUE(cl.ok()) << cl.status().to_string();
  auto io = (*cl)->io_ctx("p");
  ASSERT_TRUE(io.ok());
  constexpr int kObjects = 600;  // about 75 per PG: within the log's 100 entries
  ASSERT_NO_FATAL_FAILURE(write_all(*io, kObjects, 1));
  c.kill9_osd(2);
  ASSERT_TRUE(c.wait_osd_state(2, false, std::chrono::seconds(30)));
  ASSERT_NO_FATAL_FAILURE(write_all(*io, kObjects, 2));  // osd.2 misses every object's second version
  // Pushes to osd.2 take a second each round, so its recovery lasts a while.
  for (int i = 0; i < 2; ++i) ASSERT_NE(c.osd_admin(i, "fault delay 1000 osd.2"), "") << i;
  ASSERT_TRUE(c.start_osd(2).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!active_recovering(c)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << c.mons.cli({"pg", "dump"}).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // `cairn status` shows the progress: copies and bytes left.
  auto status = nlohmann::json::parse(c.mons.cli({"status"}, true).out, nullptr, false);
  ASSERT_FALSE(status.is_discarded());
  EXPECT_GT(status["recovery"].value("degraded_objects", 0u), 0u) << status.dump();
  EXPECT_GT(status["recovery"].value("pending_bytes", 0u), 0u) << status.dump();
  EXPECT_NE(c.mons.cli({"status"}).out.find("to copy"), std::string::npos);
  // Every object of a recovering PG is missing on osd.2: this write must wait for
  // one push, not for the PG's whole recovery.
  std::string target;
  std::string pgid;
  for (int i = 0; i < kObjects && target.empty(); ++i) {
    std::string n = "obj-" + std::to_string(i);
    auto m = nlohmann::json::parse(c.mons.cli({"pg", "map", "p", n}, true).out, nullptr, false);
    ASSERT_FALSE(m.is_discarded());
    std::string id = m.value("pgid", "");
    auto d = nlohmann::json::parse(c.mons.cli({"pg", "dump"}, true).out, nullptr, false);
    for (const auto& p : d["pgs"])
      if (p.value("pgid", "") == id && p.value("state", "").find("recovering") != std::string::npos) {
        target = n;
        pgid = id;
      }
  }
  ASSERT_FALSE(target.empty());
  ASSERT_TRUE(io->write_full(target, BufferList::copy_of(value(target, 3))).ok());
  auto d = nlohmann::json::parse(c.mons.cli({"pg", "dump"}, true).out, nullptr, false);
  std::string state_after;
  for (const auto& p : d["pgs"])
    if (p.value("pgid", "") == pgid) state_after = p.value("state", "");
  EXPECT_NE(state_after.find("recovering"), std::string::npos)
      << "pg " << pgid
      << " finished recovering before a write to one of its missing objects: " << state_after;
  EXPECT_EQ(state_after.rfind("active", 0), 0u) << state_after;
  for (int i = 0; i < 2; ++i) ASSERT_NE(c.osd_admin(i, "fault clear osd.2"), "") << i;
  ASSERT_TRUE(c.wait_clean(std::chrono::seconds(90))) << c.mons.cli({"pg", "dump"}).out;
  EXPECT_EQ(c.copies_differ(), "");
  for (int i = 0; i < kObjects; ++i) {
    std::string n = "obj-" + std::to_string(i);
    auto r = io->read(n, 0, 0);
    ASSERT_TRUE(r.ok()) << n;
    ASSERT_TRUE(r->to_string() == value(n, n == target ? 3 : 2)) << n;
  }
}

// The only whole copy dies while it is recovering the other: the copy left has
// the newest log but lacks objects, so the PG is `incomplete` and serves nothing
// (never the stale versions it holds) until the whole copy returns.
TEST(Peering, ACopyStillBeingRecoveredIsIncompleteWithoutTheWholeOne) {
  // Two OSDs: no peer can make up the two reporters a down mark needs, so the
  // monitors' beacon timeout is what notices a dead one (kept short here).
  OsdCluster c(1, 2,
               {"--osd-heartbeat-grace", "3s", "--mon-osd-down-out-interval", "600s",
                "--mon-osd-beacon-timeout", "6s"},
               {"--osd-heartbeat-grace", "3s", "--osd-stats-interval", "1s", "--osd-beacon-interval", "1s"},
               "1G");
  ASSERT_TRUE(c.start_with_pool("p", 4, 2, 1).ok());
  auto cl = client::Cluster::connect(c.client_options());
  ASSERT_TRUE(cl.ok()) << cl.status().to_string();
  auto io = (*cl)->io_ctx("p");
  ASSERT_TRUE(io.ok());
  constexpr int kObjects = 120;  // about 30 per PG
  ASSERT_NO_FATAL_FAILURE(write_all(*io, kObjects, 1));
  c.kill9_osd(1);
  ASSERT_TRUE(c.wait_osd_state(1, false, std::chrono::seconds(30)));
  ASSERT_NO_FATAL_FAILURE(write_all(*io, kObjects, 2));
  ASSERT_NE(c.osd_admin(0, "fault delay 1000 osd.1"), "");
  ASSERT_TRUE(c.start_osd(1).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  ASSERT_TRUE(c.wait_osd_state(1, true, std::chrono::seconds(30)));
  uint32_t up_from = 0;
  auto od = nlohmann::json::parse(c.mons.cli({"osd", "dump"}, true).out, nullptr, false);
  for (const auto& o : od["osds"])
    if (o.value("osd", -1) == 1) up_from = o.value("up_from", 0u);
  ASSERT_GT(up_from, 0u);
  // Wait until osd.1 took part in an activation since it came back (its copy then
  // counts as the newest) while it still lacks objects.
  auto in_new_interval_and_missing = [&] {
    for (int seed = 0; seed < 4; ++seed) {
      auto d =
          nlohmann::json::parse(c.osd_admin(1, "dump-objects 1." + std::to_string(seed)), nullptr, false);
      if (!d.is_discarded() && d.value("has_missing", false) && d.value("last_epoch_started", 0u) >= up_from)
        return true;
    }
    return false;
  };
  while (!in_new_interval_and_missing()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << c.mons.cli({"pg", "dump"}).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  c.kill9_osd(0);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (c.pgs_with("incomplete") <= 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << c.mons.cli({"pg", "dump"}).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_NE(c.mons.cli({"pg", "dump"}).out.find("incomplete"), std::string::npos);
  // Nothing stale is served meanwhile: a read either waits (and times out) or is current.
  client::ClusterOptions o = c.client_options();
  o.op_timeout = std::chrono::seconds(2);
  auto cl2 = client::Cluster::connect(o);
  ASSERT_TRUE(cl2.ok());
  auto io2 = (*cl2)->io_ctx("p");
  ASSERT_TRUE(io2.ok());
  int timed_out = 0;
  for (int i = 0; i < kObjects; i += 20) {
    std::string n = "obj-" + std::to_string(i);
    auto r = io2->read(n, 0, 0);
    if (!r.ok()) {
      ++timed_out;
      continue;
    }
    EXPECT_TRUE(r->to_string() == value(n, 2)) << n << " reads " << r->to_string().substr(0, 20);
  }
  EXPECT_GT(timed_out, 0);
  // The whole copy returns: everything heals, nothing acknowledged is lost.
  ASSERT_TRUE(c.start_osd(0).ok());
  ASSERT_TRUE(c.wait_clean(std::chrono::seconds(90))) << c.mons.cli({"pg", "dump"}).out;
  EXPECT_EQ(c.copies_differ(), "");
  for (int i = 0; i < kObjects; ++i) {
    std::string n = "obj-" + std::to_string(i);
    auto r = io->read(n, 0, 0);
    ASSERT_TRUE(r.ok()) << n;
    ASSERT_TRUE(r->to_string() == value(n, 2)) << n;
  }
}

}  // namespace
}  // namespace cairn::test
