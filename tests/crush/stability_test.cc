// Stability: what moves when one device is added, removed, marked out or reweighted.
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <set>

#include "tests/crush/add_osd_check.h"

namespace cairn::crush {
namespace {

using testing::built;
using testing::check_add;
using testing::table;

TEST(CrushStability, AddOsdOsdFailureDomain3x4) {
  check_add({"3x4 osd domain", 3, 4, 200000, kRuleReplicatedOsd, 1.0 / 13});
}

TEST(CrushStability, AddOsdHostFailureDomain3x4) {
  // Every PG has one replica per host; host0's third is shared by 5 devices now.
  check_add({"3x4 host domain", 3, 4, 200000, kRuleReplicatedHost, 1.0 / 3 / 5});
}

TEST(CrushStability, AddOsdHostFailureDomain100x10) {
  check_add({"100x10 host domain", 100, 10, 400000, kRuleReplicatedHost, 1.0 / 1001});
}

TEST(CrushStability, AddOsdOsdFailureDomain100x10) {
  check_add({"100x10 osd domain", 100, 10, 400000, kRuleReplicatedOsd, 1.0 / 1001});
}

// Every input whose mapping changed must have `dev` leave or join it, with exactly
// one replica swapped.
void check_only_through(const Mappings& a, const Mappings& b, ItemId dev) {
  for (size_t i = 0; i < a.count(); ++i) {
    std::set<ItemId> sa(a.row(i).begin(), a.row(i).end()), sb(b.row(i).begin(), b.row(i).end());
    if (sa == sb) continue;
    std::vector<ItemId> gone, came;
    std::set_difference(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(gone));
    std::set_difference(sb.begin(), sb.end(), sa.begin(), sa.end(), std::back_inserter(came));
    ASSERT_EQ(gone.size(), 1u) << "x=" << i;
    ASSERT_EQ(came.size(), 1u) << "x=" << i;
    ASSERT_TRUE(gone[0] == dev || came[0] == dev) << "x=" << i;
  }
}

TEST(CrushStability, RemovingOsdMovesOnlyWhatItHeld) {
  for (int32_t rule : {kRuleReplicatedHost, kRuleReplicatedOsd}) {
    CrushMap before = built(3, 4), after = before;
    ASSERT_TRUE(after.remove_device(6).ok());
    Mappings a = table(before, rule, 100000, 3), b = table(after, rule, 100000, 3);
    auto d = diff(a, b, false);
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(d->lost.size(), 1u);
    EXPECT_EQ(d->lost.begin()->first, 6);
    EXPECT_EQ(d->moved, d->lost[6]);
    check_only_through(a, b, 6);
  }
}

TEST(CrushStability, MarkingOutMovesOnlyWhatItHeld) {
  CrushMap m = built(10, 4);
  std::vector<Weight> rw(40, kWeightOne);
  rw[13] = 0;
  Mappings a = table(m, kRuleReplicatedHost, 100000, 3), b = table(m, kRuleReplicatedHost, 100000, 3, rw);
  auto d = diff(a, b, false);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->lost.size(), 1u);
  EXPECT_EQ(d->moved, d->lost[13]);
  check_only_through(a, b, 13);
}

TEST(CrushStability, ReweightMovesOnlyToOrFromIt) {
  for (Weight w : {kWeightOne / 2, kWeightOne * 2, kWeightOne + 1}) {
    for (int32_t rule : {kRuleReplicatedHost, kRuleReplicatedOsd}) {
      CrushMap before = built(4, 4), after = before;
      ASSERT_TRUE(after.set_weight(9, w).ok());
      Mappings a = table(before, rule, 100000, 3), b = table(after, rule, 100000, 3);
      check_only_through(a, b, 9);
      auto d = diff(a, b, false);
      ASSERT_TRUE(d.ok());
      if (w > kWeightOne) {
        EXPECT_LE(d->gained.size(), 1u);
      } else {
        EXPECT_LE(d->lost.size(), 1u);
      }
    }
  }
}

}  // namespace
}  // namespace cairn::crush
