// The thrash test's linearizability checker on hand-made and generated histories.
#include "linearizability.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

namespace cairn::test::lin {
namespace {

// A small builder: times in "ticks" (1 tick = 1 ms), ids in order of creation.
class H {
 public:
  Op& write(Tag v, int64_t a, int64_t b, Outcome o = Outcome::kOk) {
    return add(OpKind::kWriteFull, v, a, b, o);
  }
  Op& append(Tag v, Tag pred, int64_t a, int64_t b, Outcome o = Outcome::kOk) {
    Op& op = add(OpKind::kAppend, v, a, b, o);
    op.append_pred = pred;
    return op;
  }
  Op& xattr(Tag v, int64_t a, int64_t b, Outcome o = Outcome::kOk) {
    return add(OpKind::kSetXattr, v, a, b, o);
  }
  Op& omap(Tag v, int64_t a, int64_t b, Outcome o = Outcome::kOk) {
    return add(OpKind::kSetOmap, v, a, b, o);
  }
  Op& create(Tag v, int64_t a, int64_t b, Outcome o = Outcome::kOk) {
    return add(OpKind::kCreate, v, a, b, o);
  }
  Op& remove(int64_t a, int64_t b, Outcome o = Outcome::kOk) { return add(OpKind::kRemove, kNoTag, a, b, o); }
  // A read that saw the state a write_full(v) leaves on a fresh object (v = 0: absent).
  Op& read(Tag v, int64_t a, int64_t b) { return read_state(v ? ObjState{v, v, 0, 0} : ObjState{}, a, b); }
  Op& read_state(ObjState s, int64_t a, int64_t b) {
    Op& op = add(OpKind::kRead, kNoTag, a, b, Outcome::kOk);
    op.observed = s;
    return op;
  }
  Verdict verdict() const { return check_object(ops_).verdict; }
  ObjectResult result() const { return check_object(ops_); }
  std::vector<Op> ops_;

 private:
  Op& add(OpKind k, Tag v, int64_t a, int64_t b, Outcome o) {
    Op op;
    op.kind = k;
    op.tag = v;
    op.outcome = o;
    op.invoke_ns = a * 1'000'000;
    op.complete_ns = b * 1'000'000;
    op.worker = static_cast<int>(ops_.size() % 4);
    op.id = ops_.size();
    ops_.push_back(op);
    return ops_.back();
  }
};

constexpr Verdict kYes = Verdict::kLinearizable;
constexpr Verdict kNo = Verdict::kNotLinearizable;

TEST(Linearizability, EmptyAndSequentialHistories) {
  EXPECT_EQ(H().verdict(), kYes);
  H h;
  h.read(0, 0, 1);
  h.write(1, 2, 3);
  h.read(1, 4, 5);
  h.write(2, 6, 7);
  h.read(2, 8, 9);
  h.remove(10, 11);
  h.read(0, 12, 13);
  EXPECT_EQ(h.verdict(), kYes);
}

TEST(Linearizability, StaleReadAfterAckedWriteIsCaught) {
  H h;
  h.write(1, 0, 1);
  h.write(2, 2, 3);
  h.read(1, 4, 5);  // w2 was acked before this read began
  auto r = h.result();
  EXPECT_EQ(r.verdict, kNo);
  EXPECT_EQ(r.culprit, 2u);
  EXPECT_NE(r.description.find("read -> {tag 1"), std::string::npos) << r.description;
}

TEST(Linearizability, ReadOfAValueNeverWrittenIsCaught) {
  H h;
  h.write(1, 0, 1);
  h.read(7, 2, 3);
  EXPECT_EQ(h.verdict(), kNo);
  H absent;
  absent.read(7, 0, 1);
  EXPECT_EQ(absent.verdict(), kNo);
}

TEST(Linearizability, NewThenOldReadIsCaught) {
  H h;
  h.write(1, 0, 1);
  h.write(2, 2, 20);  // concurrent with both reads
  h.read(2, 3, 4);
  h.read(1, 5, 6);  // after a read that saw 2: going back is not allowed
  EXPECT_EQ(h.verdict(), kNo);
  // The other order is fine: 1 first, then 2 takes effect.
  H ok;
  ok.write(1, 0, 1);
  ok.write(2, 2, 20);
  ok.read(1, 3, 4);
  ok.read(2, 5, 6);
  EXPECT_EQ(ok.verdict(), kYes);
}

TEST(Linearizability, ConcurrentWritesMayLandInEitherOrder) {
  H h;
  h.write(1, 0, 10);
  h.write(2, 0, 10);
  h.read(2, 1, 2);
  h.read(1, 3, 4);  // w2, r, w1, r
  h.read(1, 11, 12);
  EXPECT_EQ(h.verdict(), kYes);
  h.read(2, 13, 14);  // both writes are over and 1 was last
  EXPECT_EQ(h.verdict(), kNo);
}

TEST(Linearizability, UnknownWriteMayApplyLateOrNever) {
  {
    H h;  // applied late
    h.write(1, 0, 1);
    h.write(2, 2, 3, Outcome::kUnknown);
    h.read(1, 10, 11);
    h.read(2, 20, 21);
    EXPECT_EQ(h.verdict(), kYes);
  }
  {
    H h;  // never applied
    h.write(1, 0, 1);
    h.write(2, 2, 3, Outcome::kUnknown);
    h.read(1, 10, 11);
    h.read(1, 100, 101);
    EXPECT_EQ(h.verdict(), kYes);
  }
  {
    H h;  // but at most once, and not before its invocation
    h.write(1, 0, 1);
    h.write(2, 2, 3, Outcome::kUnknown);
    h.read(2, 10, 11);
    h.read(1, 20, 21);
    EXPECT_EQ(h.verdict(), kNo);
    H early;
    early.read(2, 0, 1);
    early.write(2, 2, 3, Outcome::kUnknown);
    EXPECT_EQ(early.verdict(), kNo);
  }
  {
    H h;  // an unknown write cannot resurrect what an acked write replaced... unless it lands after
    h.write(1, 0, 1, Outcome::kUnknown);
    h.write(2, 2, 3);
    h.read(1, 4, 5);
    EXPECT_EQ(h.verdict(), kYes);  // w1 landed after w2 (it was still in flight)
    h.read(2, 6, 7);
    EXPECT_EQ(h.verdict(), kNo);
  }
}

TEST(Linearizability, FailedMutationsAreNotApplied) {
  H h;
  h.write(1, 0, 1);
  h.write(2, 2, 3, Outcome::kFailed);
  h.read(2, 4, 5);
  EXPECT_EQ(h.verdict(), kNo);
}

TEST(Linearizability, DeletedObjectsStayDeleted) {
  H h;
  h.write(1, 0, 1);
  h.remove(2, 3);
  h.read(0, 4, 5);
  EXPECT_EQ(h.verdict(), kYes);
  h.read(1, 6, 7);
  EXPECT_EQ(h.verdict(), kNo);
  H twice;  // an acked remove needs the object present
  twice.write(1, 0, 1);
  twice.remove(2, 3);
  twice.remove(4, 5);
  EXPECT_EQ(twice.verdict(), kNo);
  H enoent;  // ENOENT says it was absent
  enoent.write(1, 0, 1);
  enoent.remove(2, 3, Outcome::kFailed);
  EXPECT_EQ(enoent.verdict(), kNo);
  H enoent_ok;
  enoent_ok.write(1, 0, 1);
  enoent_ok.remove(2, 3);
  enoent_ok.remove(4, 5, Outcome::kFailed);
  EXPECT_EQ(enoent_ok.verdict(), kYes);
}

TEST(Linearizability, ExclusiveCreate) {
  H h;
  h.create(1, 0, 10);
  h.create(2, 0, 10);
  EXPECT_EQ(h.verdict(), kNo);  // both cannot win
  H one;
  one.create(1, 0, 10);
  one.create(2, 0, 10, Outcome::kFailed);
  one.read_state({1, 0, 0, 0}, 11, 12);
  EXPECT_EQ(one.verdict(), kYes);
  H exists;  // EEXIST on an object nobody created
  exists.create(2, 0, 10, Outcome::kFailed);
  EXPECT_EQ(exists.verdict(), kNo);
}

TEST(Linearizability, AppendsApplyOnTheDataTheyWereSeenOn) {
  H h;
  h.write(1, 0, 1);
  h.append(2, 1, 2, 10);
  h.append(3, 1, 2, 10);  // both claim to sit right on 1: one must be lost
  h.read_state({3, 3, 0, 0}, 11, 12);
  EXPECT_EQ(h.verdict(), kNo);
  H chain;
  chain.write(1, 0, 1);
  chain.append(2, 1, 2, 10);
  chain.append(3, 2, 2, 10);
  chain.read_state({3, 3, 0, 0}, 11, 12);
  EXPECT_EQ(chain.verdict(), kYes);
  H unseen;  // an append no read saw inside the data has no constraint
  unseen.write(1, 0, 1);
  unseen.append(2, kAnyPred, 2, 3);
  unseen.read_state({2, 2, 0, 0}, 4, 5);
  EXPECT_EQ(unseen.verdict(), kYes);
}

TEST(Linearizability, XattrAndOmapUpdatesAreNotLost) {
  H h;
  h.write(1, 0, 1);
  h.omap(2, 2, 3);
  h.xattr(3, 4, 5);
  h.write(4, 6, 7);
  h.read_state({4, 4, 2, 3}, 8, 9);
  EXPECT_EQ(h.verdict(), kYes);
  h.read_state({4, 4, 0, 3}, 10, 11);  // the omap update vanished
  EXPECT_EQ(h.verdict(), kNo);
  H created;  // set_xattr on an absent object creates it, with no data
  created.xattr(5, 0, 1);
  created.read_state({5, 0, 0, 5}, 2, 3);
  EXPECT_EQ(created.verdict(), kYes);
}

// A generated history: K clients on one register, each op taking effect at a random
// point inside its interval, so the history is linearizable by construction.
std::vector<Op> generated(uint64_t seed, int n, int clients, double unknown_p) {
  std::mt19937_64 rng(seed);
  struct Pending {
    Op op;
    int64_t at;  // when it takes effect
  };
  std::vector<Op> done;
  ObjState state;
  std::vector<Pending> inflight;
  std::vector<int64_t> free_at(clients, 0);
  Tag next = 1;
  int64_t now = 0;
  int issued = 0;
  while (issued < n || !inflight.empty()) {
    // Issue on every idle client.
    for (int c = 0; c < clients && issued < n; ++c) {
      if (free_at[c] > now) continue;
      Op op;
      op.worker = c;
      op.id = static_cast<uint64_t>(issued++);
      int k = static_cast<int>(rng() % 10);
      op.kind = k < 4   ? OpKind::kRead
                : k < 6 ? OpKind::kWriteFull
                : k < 7 ? OpKind::kSetOmap
                : k < 8 ? OpKind::kAppend
                : k < 9 ? OpKind::kRemove
                        : OpKind::kCreate;
      if (op.kind != OpKind::kRead && op.kind != OpKind::kRemove) op.tag = next++;
      op.invoke_ns = now;
      int64_t len = 1 + static_cast<int64_t>(rng() % 20);
      op.complete_ns = now + len;
      free_at[c] = op.complete_ns + 1;
      inflight.push_back({op, now + static_cast<int64_t>(rng() % static_cast<uint64_t>(len + 1))});
    }
    // Apply the ops that take effect now, in a random order.
    std::shuffle(inflight.begin(), inflight.end(), rng);
    for (auto& p : inflight) {
      if (p.at != now) continue;
      ObjState ns;
      Op& op = p.op;
      if (op.kind == OpKind::kRead) {
        op.observed = state;
      } else if (op.kind == OpKind::kAppend) {
        op.append_pred = state.data;
        step(op, state, &state);
      } else if (!step(op, state, &ns)) {
        op.outcome = Outcome::kFailed;  // EEXIST / ENOENT
      } else {
        state = ns;
      }
    }
    for (size_t i = 0; i < inflight.size();) {
      if (inflight[i].op.complete_ns == now) {
        Op op = inflight[i].op;
        bool mutation = op.kind != OpKind::kRead && op.outcome == Outcome::kOk;
        if (mutation && std::uniform_real_distribution<double>(0, 1)(rng) < unknown_p)
          op.outcome = Outcome::kUnknown;
        done.push_back(op);
        inflight.erase(inflight.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
    ++now;
  }
  return done;
}

TEST(Linearizability, GeneratedHistoriesAreLinearizableAndFast) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    auto ops = generated(seed, 400, 6, 0.05);
    auto r = check_object(ops);
    ASSERT_EQ(r.verdict, kYes) << "seed " << seed << "\n" << r.description;
  }
  // Many timeouts (each may land any time later, or never).
  for (uint64_t seed = 21; seed <= 25; ++seed) {
    auto ops = generated(seed, 1000, 8, 0.3);
    auto r = check_object(ops);
    ASSERT_EQ(r.verdict, kYes) << "seed " << seed << "\n" << r.description;
  }
  // A long one, like an object's share of a soak: must stay quick.
  auto t = std::chrono::steady_clock::now();
  auto ops = generated(99, 5000, 8, 0.02);
  auto r = check_object(ops);
  EXPECT_EQ(r.verdict, kYes) << r.description;
  EXPECT_LT(std::chrono::steady_clock::now() - t, std::chrono::seconds(10));
}

TEST(Linearizability, CorruptedGeneratedHistoriesAreCaught) {
  // Make a read that saw a present object see a value from long before, when
  // writes have happened since: almost always a violation; require most to be caught.
  int caught = 0, tried = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    auto ops = generated(seed, 300, 4, 0.0);
    // The last read that sees a value, made to see the first value written.
    Tag first = 0;
    for (const Op& op : ops)
      if (op.kind == OpKind::kWriteFull && op.outcome == Outcome::kOk) {
        first = op.tag;
        break;
      }
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
      if (it->kind == OpKind::kRead && it->observed.exists() && it->observed.tag != first) {
        it->observed = {first, first, 0, 0};
        ++tried;
        caught += check_object(ops).verdict == kNo;
        break;
      }
    }
  }
  EXPECT_GT(tried, 20);
  EXPECT_EQ(caught, tried);
}

TEST(Linearizability, HistoriesArePartitionedByObject) {
  H a, b;
  a.write(1, 0, 1);
  a.read(1, 2, 3);
  b.write(2, 0, 1);
  b.read(1, 2, 3);  // 1 was written, but to the other object
  auto h = check_history({{"a", a.ops_}, {"b", b.ops_}});
  EXPECT_EQ(h.objects, 2u);
  ASSERT_EQ(h.failed.size(), 1u);
  EXPECT_EQ(h.failed[0], "b");
  EXPECT_TRUE(h.inconclusive.empty());
}

TEST(Linearizability, ManyUnknownWritesStayTractable) {
  // Every write times out, reads see them in issue order: the memo keeps the
  // search polynomial although each unknown write could land anywhere later.
  H h;
  int64_t t = 0;
  for (Tag v = 1; v <= 60; ++v) {
    h.write(v, t, t + 1, Outcome::kUnknown);
    h.read(v, t + 2, t + 3);
    t += 4;
  }
  auto r = h.result();
  EXPECT_EQ(r.verdict, kYes);
  EXPECT_LT(r.steps, 1'000'000u);
}

}  // namespace
}  // namespace cairn::test::lin
