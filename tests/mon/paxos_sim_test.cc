// Paxos under the deterministic simulator: elections, failover, partitions,
// message loss, crashes and restarts. Each property is checked over many seeds;
// a failure prints its seed so it replays exactly.
#include "paxos_sim.h"

#include <gtest/gtest.h>

namespace cairn::mon::sim {
namespace {

// Runs until a readable leader exists; returns it (or -1 after `limit_ms`).
int wait_leader(Cluster& c, uint64_t limit_ms = 20000) {
  for (uint64_t t = 0; t < limit_ms; t += 10) {
    int l = c.leader();
    if (l >= 0) return l;
    c.run_ms(10);
  }
  return -1;
}

void expect_converged(Cluster& c, uint64_t seed) {
  std::string d0;
  for (int r = 0; r < c.size(); ++r) {
    ASSERT_TRUE(c.up(r));
    std::string d = c.state_digest(r);
    if (r == 0) d0 = d;
    EXPECT_EQ(d, d0) << "seed " << seed << " rank " << r << " diverged";
  }
  for (int64_t id : c.acked()) {
    for (int r = 0; r < c.size(); ++r) {
      auto v = c.store(r).get("c" + std::to_string(id));
      ASSERT_TRUE(v.has_value()) << "seed " << seed << ": acked write " << id << " lost on rank " << r;
      EXPECT_EQ(*v, "v" + std::to_string(id));
    }
  }
  EXPECT_TRUE(c.violations().empty()) << "seed " << seed << ": " << c.violations().front();
}

TEST(PaxosSim, SingleMonitorCommits) {
  Cluster c(1, 1);
  ASSERT_EQ(wait_leader(c), 0);
  for (int i = 0; i < 100; ++i) c.propose_one();
  c.run_ms(10);
  EXPECT_EQ(c.acked().size(), 100u);
  expect_converged(c, 1);
}

TEST(PaxosSim, LeaderMeasuresEachFollowersClockSkew) {
  Cluster c(3, 7);
  c.set_wall_offset_ns(1, 300'000'000);  // 300 ms ahead
  c.set_wall_offset_ns(2, -2'000'000);   // 2 ms behind
  int l = wait_leader(c);
  ASSERT_EQ(l, 0);
  c.run_ms(3000);
  const auto& skew = c.paxos(0)->clock_skew_ns();
  ASSERT_TRUE(skew.count(1) && skew.count(2));
  // The lease's one-way delay (0.1-2 ms in the simulator) is included.
  EXPECT_GE(skew.at(1), 300'000'000);
  EXPECT_LT(skew.at(1), 303'000'000);
  EXPECT_GE(skew.at(2), -2'000'000);
  EXPECT_LT(skew.at(2), 1'000'000);
}

TEST(PaxosSim, LowestRankLeadsAndThousandChangesCommitInOrder) {
  for (int n : {3, 5}) {
    Cluster c(n, 7);
    ASSERT_EQ(wait_leader(c), 0) << "rank 0 should win the first election";
    for (int i = 0; i < 1000; ++i) {
      ASSERT_GE(c.propose_one(), 0);
      if (i % 50 == 0) c.run_ms(3);
    }
    c.run_ms(500);
    EXPECT_EQ(c.acked().size(), 1000u);
    // Batching: far fewer Paxos rounds than transactions.
    EXPECT_LT(c.store(0).last_committed(), 200u);
    expect_converged(c, 7);
  }
}

TEST(PaxosSim, LeaderCrashFailsOverWithinSeconds) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Cluster c(3, seed);
    int l = wait_leader(c);
    ASSERT_GE(l, 0);
    for (int i = 0; i < 50; ++i) c.propose_one();
    c.run_ms(seed * 3 % 7);  // crash at varied points, some mid-commit
    c.crash(l);
    uint64_t t0 = c.now_ms();
    int l2 = wait_leader(c);
    ASSERT_GE(l2, 0) << "seed " << seed;
    EXPECT_NE(l2, l);
    EXPECT_LT(c.now_ms() - t0, 5000u) << "seed " << seed << ": failover took too long";
    EXPECT_EQ(c.paxos(l2)->quorum().size(), 2u) << "the two survivors";
    for (int i = 0; i < 50; ++i) c.propose_one();
    c.restart(l);
    c.run_ms(3000);
    expect_converged(c, seed);
  }
}

TEST(PaxosSim, IsolatedLeaderStopsAndCatchesUpAfterHeal) {
  Cluster c(3, 11);
  int l = wait_leader(c);
  ASSERT_GE(l, 0);
  for (int i = 0; i < 20; ++i) c.propose_one();
  c.run_ms(100);
  c.isolate(l);
  c.run_ms(3000);
  // The old leader lost its majority: it neither leads nor accepts proposals.
  EXPECT_FALSE(c.paxos(l)->is_leader());
  EXPECT_FALSE(c.paxos(l)->readable());
  KvTxn t;
  t.put("x", "y");
  EXPECT_EQ(c.paxos(l)->propose(t, nullptr).code(), Errc::kAgain);
  int l2 = c.leader();
  ASSERT_GE(l2, 0);
  EXPECT_NE(l2, l);
  for (int i = 0; i < 20; ++i) c.propose_one();
  c.run_ms(500);
  EXPECT_LT(c.store(l).last_committed(), c.store(l2).last_committed());
  c.heal();
  c.run_ms(5000);
  ASSERT_GE(wait_leader(c), 0);
  expect_converged(c, 11);
}

TEST(PaxosSim, MinorityNeverCommits) {
  Cluster c(5, 5);
  int l = wait_leader(c);
  ASSERT_GE(l, 0);
  // Cut the leader and one follower away from the other three.
  int f = (l + 1) % 5;
  for (int o = 0; o < 5; ++o) {
    if (o != l && o != f) {
      c.cut(l, o);
      c.cut(f, o);
    }
  }
  uint64_t lc_before = c.store(l).last_committed();
  for (int i = 0; i < 10; ++i) {
    KvTxn t;
    t.put("minority" + std::to_string(i), "x");
    (void)c.paxos(l)->propose(t, nullptr);
  }
  c.run_ms(4000);
  EXPECT_EQ(c.store(l).last_committed(), lc_before);
  EXPECT_EQ(c.store(f).last_committed(), lc_before);
  for (int r = 0; r < 5; ++r) EXPECT_FALSE(c.store(r).get("minority0").has_value());
}

TEST(PaxosSim, WholeClusterRestartKeepsState) {
  Cluster c(3, 3);
  ASSERT_GE(wait_leader(c), 0);
  for (int i = 0; i < 100; ++i) c.propose_one();
  c.run_ms(500);
  ASSERT_EQ(c.acked().size(), 100u);
  for (int r = 0; r < 3; ++r) c.crash(r);
  for (int r = 0; r < 3; ++r) c.restart(r);
  ASSERT_GE(wait_leader(c), 0);
  c.propose_one();
  c.run_ms(500);
  expect_converged(c, 3);
  EXPECT_EQ(c.acked().size(), 101u);
}

TEST(PaxosSim, FarBehindMonitorSyncsFromSnapshot) {
  PaxosConfig cfg;
  cfg.log_keep = 20;
  cfg.max_batch_txns = 1;  // one round per transaction, so the log grows fast
  Cluster c(3, 9, cfg);
  int l = wait_leader(c);
  ASSERT_GE(l, 0);
  int down = (l + 1) % 3;
  c.crash(down);
  for (int i = 0; i < 300; ++i) {
    c.propose_one();
    c.run_ms(2);
  }
  c.run_ms(200);
  EXPECT_GT(c.store(l).first_committed(), 100u)
      << "log should have been trimmed: lc " << c.store(l).last_committed() << " acked " << c.acked().size()
      << " pending " << c.paxos(l)->pending() << " leader " << c.paxos(l)->is_leader();
  c.restart(down);
  c.run_ms(3000);
  expect_converged(c, 9);
}

// The thrash: random crashes, restarts, partitions and message loss, always
// keeping a majority able to make progress at some point; then heal and check.
TEST(PaxosSim, RandomFaultsNeverLoseAckedOrDiverge) {
  for (uint64_t seed = 100; seed < 160; ++seed) {
    int n = seed % 2 ? 5 : 3;
    SeededRandom rng(seed * 7919);
    // Vary timing so that some seeds have candidates racing each other.
    PaxosConfig cfg;
    cfg.rank_stagger_ms = static_cast<uint32_t>(rng.uniform(250));
    cfg.election_timeout_ms = 1000 + static_cast<uint32_t>(rng.uniform(500));
    cfg.max_batch_txns = 1 + static_cast<uint32_t>(rng.uniform(8));
    cfg.sticky_leases = rng.chance(0.5);  // without them, candidates really compete
    Cluster c(n, seed, cfg);
    c.fault().drop = 0.01 * static_cast<double>(rng.uniform(5));
    for (int step = 0; step < 600; ++step) {  // about 30 s simulated
      for (int k = 0; k < 3; ++k) c.propose_one();
      c.run_ms(1 + rng.uniform(100));  // faults land at any point of a round
      if (rng.chance(0.1)) {
        int r = static_cast<int>(rng.uniform(n));
        int down = 0;
        for (int i = 0; i < n; ++i) down += !c.up(i);
        if (c.up(r) && down < n / 2)
          c.crash(r);
        else if (!c.up(r))
          c.restart(r);
      }
      if (rng.chance(0.03)) c.isolate(static_cast<int>(rng.uniform(n)));
      if (rng.chance(0.03)) c.cut(static_cast<int>(rng.uniform(n)), static_cast<int>(rng.uniform(n)));
      if (rng.chance(0.05)) c.heal();
    }
    c.heal();
    c.fault().drop = 0;
    for (int r = 0; r < n; ++r)
      if (!c.up(r)) c.restart(r);
    ASSERT_GE(wait_leader(c), 0) << "seed " << seed;
    c.propose_one();
    c.run_ms(5000);
    expect_converged(c, seed);
    EXPECT_GT(c.acked().size(), 100u) << "seed " << seed << ": too little progress";
  }
}

TEST(PaxosMsg, GarbageNeverCrashesTheDecoder) {
  SeededRandom rng(77);
  PaxosMsg m;
  m.op = PaxosOp::kPromise;
  m.uncommitted = Uncommitted{5, 6, "val"};
  m.entries.push_back(LogEntry{3, "abc"});
  std::string good = encode_to_buffer(m).to_string();
  ASSERT_TRUE(decode_from<PaxosMsg>(good).ok());
  int ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = good;
    s[rng.uniform(s.size())] = static_cast<char>(rng.next_u64());
    if (rng.chance(0.5)) s.resize(rng.uniform(s.size()));
    ok += decode_from<PaxosMsg>(s).ok();
  }
  EXPECT_LT(ok, 20000);
}

TEST(PaxosMsg, UnknownRanksAreIgnored) {
  Cluster c(3, 1);
  int l = wait_leader(c);
  ASSERT_GE(l, 0);
  PaxosMsg m;
  m.op = PaxosOp::kPrepare;
  m.pn = ~0ull;
  c.paxos(l)->handle(17, m);
  c.paxos(l)->handle(-1, m);
  c.paxos(l)->handle(l, m);
  EXPECT_TRUE(c.paxos(l)->is_leader());
}

}  // namespace
}  // namespace cairn::mon::sim

namespace cairn::mon {
namespace {

struct RecordingHost : PaxosHost {
  ManualClock clock;
  std::vector<std::pair<int, PaxosMsg>> sent;
  void send(int to, const PaxosMsg& m) override { sent.emplace_back(to, m); }
  uint64_t now_ns() const override { return clock.now_ns(); }
};

// The acceptor rules, one message at a time.
TEST(PaxosAcceptor, PromisesOnlyHigherBallotsAndAcceptsOnlyPromisedOnes) {
  auto store = make_mem_paxos_store();
  RecordingHost host;
  SeededRandom rng(1);
  PaxosConfig cfg;
  cfg.sticky_leases = false;
  Paxos p(0, 3, *store, host, rng, cfg);
  PaxosMsg prep;
  prep.op = PaxosOp::kPrepare;
  prep.pn = 0x201;
  p.handle(1, prep);
  ASSERT_EQ(host.sent.size(), 1u);
  EXPECT_EQ(host.sent[0].second.op, PaxosOp::kPromise);
  EXPECT_EQ(store->promised_pn(), 0x201u);
  prep.pn = 0x102;  // lower ballot from another candidate
  p.handle(2, prep);
  ASSERT_EQ(host.sent.size(), 2u);
  EXPECT_EQ(host.sent[1].second.op, PaxosOp::kReject);
  EXPECT_EQ(host.sent[1].second.pn, 0x201u);
  EXPECT_EQ(store->promised_pn(), 0x201u);
  PaxosMsg acc;
  acc.op = PaxosOp::kAccept;
  acc.pn = 0x102;
  acc.version = 1;
  acc.value = encode_to_buffer(PaxosValue{}).to_string();
  p.handle(2, acc);
  EXPECT_EQ(host.sent.back().second.op, PaxosOp::kReject);
  EXPECT_FALSE(store->uncommitted().has_value());
  acc.pn = 0x201;
  p.handle(1, acc);
  EXPECT_EQ(host.sent.back().second.op, PaxosOp::kAccepted);
  ASSERT_TRUE(store->uncommitted().has_value());
  EXPECT_EQ(store->uncommitted()->pn, 0x201u);
  acc.value = "not a paxos value";
  acc.version = 1;
  size_t before = host.sent.size();
  p.handle(1, acc);  // undecodable: ignored, nothing sent, nothing stored
  EXPECT_EQ(host.sent.size(), before);
  EXPECT_EQ(store->uncommitted()->value, encode_to_buffer(PaxosValue{}).to_string());
}

}  // namespace
}  // namespace cairn::mon
