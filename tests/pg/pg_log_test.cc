#include "osd/pg/pg_log.h"

#include <gtest/gtest.h>

#include "common/env.h"

namespace cairn::pg {
namespace {

store::ObjectId obj(const std::string& name) {
  return store::ObjectId{static_cast<uint32_t>(name.size()), "", name};
}

LogEntry mod(uint32_t epoch, uint64_t v, const std::string& name, Eversion prior, uint64_t client = 0,
             uint64_t tid = 0) {
  LogEntry e;
  e.op = LogEntry::Op::kModify;
  e.oid = obj(name);
  e.version = {epoch, v};
  e.prior_version = prior;
  e.reqid = {client, tid};
  return e;
}

LogEntry del(uint32_t epoch, uint64_t v, const std::string& name, Eversion prior) {
  LogEntry e = mod(epoch, v, name, prior);
  e.op = LogEntry::Op::kDelete;
  return e;
}

TEST(PgLog, AppendOrderAndReqids) {
  PgLog log;
  ASSERT_TRUE(log.append(mod(1, 1, "a", {}, 7, 1)).ok());
  ASSERT_TRUE(log.append(mod(1, 2, "b", {}, 7, 2)).ok());
  EXPECT_EQ(log.append(mod(1, 2, "c", {})).code(), Errc::kInvalid);      // not after head
  EXPECT_EQ(log.append(mod(1, 5, "c", {1, 6})).code(), Errc::kInvalid);  // prior not older
  EXPECT_EQ(log.head(), (Eversion{1, 2}));
  EXPECT_EQ(*log.find_reqid({7, 2}), (Eversion{1, 2}));
  EXPECT_FALSE(log.find_reqid({7, 3}).has_value());
  EXPECT_EQ(log.newest_for(obj("a"))->version, (Eversion{1, 1}));
  EXPECT_EQ(log.entries_after({1, 1}).size(), 1u);
}

TEST(PgLog, TrimKeepsReqidsAsDupsBounded) {
  PgLog log;
  for (uint64_t v = 1; v <= 100; ++v)
    ASSERT_TRUE(log.append(mod(1, v, "o" + std::to_string(v), {}, 9, v)).ok());
  log.trim_to({1, 60}, 30);
  EXPECT_EQ(log.tail(), (Eversion{1, 60}));
  EXPECT_EQ(log.entries().size(), 40u);
  EXPECT_EQ(*log.find_reqid({9, 59}), (Eversion{1, 59}));  // a dup
  EXPECT_FALSE(log.find_reqid({9, 10}).has_value());       // beyond the dup bound
  EXPECT_EQ(*log.find_reqid({9, 61}), (Eversion{1, 61}));
  log.trim_to_size(10);
  EXPECT_EQ(log.entries().size(), 10u);
  EXPECT_EQ(log.tail(), (Eversion{1, 90}));
}

TEST(PgLog, EncodeRoundTripAndCorruptInput) {
  PgLog log;
  for (uint64_t v = 1; v <= 10; ++v)
    ASSERT_TRUE(log.append(mod(2, v, "x", v > 1 ? Eversion{2, v - 1} : Eversion{}, 1, v)).ok());
  log.trim_to({2, 3});
  std::string bytes = encode_to_buffer(log).to_string();
  auto r = decode_from<PgLog>(bytes);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->head(), log.head());
  EXPECT_EQ(r->tail(), log.tail());
  EXPECT_EQ(r->entries().size(), 7u);
  EXPECT_EQ(*r->find_reqid({1, 2}), (Eversion{2, 2}));
  SeededRandom rng(5);
  for (int i = 0; i < 5000; ++i) {
    std::string s = bytes;
    s[rng.uniform(s.size())] ^= static_cast<char>(1 + rng.uniform(255));
    auto x = decode_from<PgLog>(s);  // must not crash; ordering checks may reject
    if (x.ok()) {
      EXPECT_LE(x->tail(), x->head());
    }
  }
}

// Replica logs compared with the authoritative one.
TEST(MergeLog, CaughtUpReplicaNeedsNothing) {
  PgLog a;
  for (uint64_t v = 1; v <= 5; ++v) ASSERT_TRUE(a.append(mod(1, v, "o" + std::to_string(v), {})).ok());
  auto m = merge_log(a, {}, a);
  EXPECT_FALSE(m.needs_backfill);
  EXPECT_TRUE(m.divergent.empty());
  EXPECT_TRUE(m.missing.empty());
}

TEST(MergeLog, LaggingReplicaMissesNewerObjects) {
  PgLog auth, local;
  for (uint64_t v = 1; v <= 3; ++v) {
    ASSERT_TRUE(auth.append(mod(1, v, "o" + std::to_string(v), {})).ok());
    ASSERT_TRUE(local.append(mod(1, v, "o" + std::to_string(v), {})).ok());
  }
  ASSERT_TRUE(auth.append(mod(1, 4, "o1", {1, 1})).ok());
  ASSERT_TRUE(auth.append(mod(1, 5, "o1", {1, 4})).ok());
  ASSERT_TRUE(auth.append(del(1, 6, "o2", {1, 2})).ok());
  auto m = merge_log(local, {}, auth);
  EXPECT_TRUE(m.divergent.empty());
  ASSERT_EQ(m.missing.size(), 2u);
  EXPECT_EQ(m.missing.find(obj("o1"))->need, (Eversion{1, 5}));  // the newest, once
  EXPECT_EQ(m.missing.find(obj("o1"))->have, (Eversion{1, 1}));
  EXPECT_TRUE(m.missing.find(obj("o2"))->is_delete);
  EXPECT_EQ(m.merged.head(), auth.head());
}

TEST(MergeLog, DivergentEntriesRollBack) {
  // Common history 1'1..1'3; then an old primary wrote 1'4 (modify o1) and 1'5
  // (create o9) that were never acknowledged; the new primary wrote 2'4 (o3).
  PgLog common;
  ASSERT_TRUE(common.append(mod(1, 1, "o1", {})).ok());
  ASSERT_TRUE(common.append(mod(1, 2, "o2", {})).ok());
  ASSERT_TRUE(common.append(mod(1, 3, "o3", {})).ok());
  PgLog local = common, auth = common;
  ASSERT_TRUE(local.append(mod(1, 4, "o1", {1, 1})).ok());
  ASSERT_TRUE(local.append(mod(1, 5, "o9", {})).ok());
  ASSERT_TRUE(auth.append(mod(2, 4, "o3", {1, 3})).ok());
  auto m = merge_log(local, {}, auth);
  EXPECT_FALSE(m.needs_backfill);
  ASSERT_EQ(m.divergent.size(), 2u);
  EXPECT_EQ(m.missing.find(obj("o1"))->need, (Eversion{1, 1}));  // back to its prior version
  EXPECT_TRUE(m.missing.find(obj("o9"))->is_delete);             // never existed: remove
  EXPECT_EQ(m.missing.find(obj("o3"))->need, (Eversion{2, 4}));  // the authoritative write
  EXPECT_EQ(m.missing.size(), 3u);
}

TEST(MergeLog, DivergentObjectAlsoRewrittenByAuthTakesAuthVersion) {
  PgLog common;
  ASSERT_TRUE(common.append(mod(1, 1, "o1", {})).ok());
  PgLog local = common, auth = common;
  ASSERT_TRUE(local.append(mod(1, 2, "o1", {1, 1})).ok());
  ASSERT_TRUE(auth.append(mod(2, 2, "o1", {1, 1})).ok());
  auto m = merge_log(local, {}, auth);
  ASSERT_EQ(m.divergent.size(), 1u);
  EXPECT_EQ(m.missing.find(obj("o1"))->need, (Eversion{2, 2}));
}

TEST(MergeLog, NoOverlapNeedsBackfillAndPriorMissingCarriesOver) {
  PgLog auth, local;
  ASSERT_TRUE(local.append(mod(1, 1, "a", {})).ok());
  for (uint64_t v = 1; v <= 10; ++v) ASSERT_TRUE(auth.append(mod(1, v, "o" + std::to_string(v), {})).ok());
  auth.trim_to({1, 5});
  EXPECT_TRUE(merge_log(local, {}, auth).needs_backfill);

  PgLog same = auth;
  MissingSet prior;
  prior.add(obj("old"), {1, 2}, {}, false);
  auto m = merge_log(same, prior, auth);
  EXPECT_FALSE(m.needs_backfill);
  EXPECT_TRUE(m.missing.is_missing(obj("old")));
}

}  // namespace
}  // namespace cairn::pg
