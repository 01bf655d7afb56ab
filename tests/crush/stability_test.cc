// Stability: what moves when one device is added, removed, marked out or reweighted.
#include <cstdio>

#include "tests/crush/test_util.h"

namespace cairn::crush {
namespace {

using testing::built;
using testing::table;

struct AddCase {
  const char* name;
  uint32_t hosts, osds, inputs;
  int32_t rule;
  double ideal;  // the new device's fair share of all replicas
};

// Adds osd.<n> of weight 1.0 to host0 and checks that the moved fraction is at
// most 1.1x the ideal share and that every moved replica went to the new device.
void check_add(const AddCase& c) {
  CrushMap before = built(c.hosts, c.osds);
  CrushMap after = before;
  ItemId id = after.next_device_id();
  ASSERT_TRUE(add_osd(after, id, "host0", kWeightOne).ok());
  Mappings a = table(before, c.rule, c.inputs, 3);
  Mappings b = table(after, c.rule, c.inputs, 3);
  auto d = diff(a, b, false);
  ASSERT_TRUE(d.ok());
  double ratio = d->moved_fraction() / c.ideal;
  std::printf("[ moved    ] %s: moved %.5f ideal %.5f ratio %.3f\n", c.name, d->moved_fraction(), c.ideal,
              ratio);
  EXPECT_LE(ratio, 1.1) << c.name;
  EXPECT_GE(ratio, 0.9) << c.name;  // the new device does get its share
  ASSERT_EQ(d->gained.size(), 1u) << c.name;
  EXPECT_EQ(d->gained.begin()->first, id) << c.name;
}

TEST(CrushStability, AddOsdOsdFailureDomain3x4) {
  check_add({"3x4 osd domain", 3, 4, 200000, kRuleReplicatedOsd, 1.0 / 13});
}

TEST(CrushStability, AddOsdHostFailureDomain3x4) {
  // Every PG has one replica per host; host0's third is shared by 5 devices now.
  check_add({"3x4 host domain", 3, 4, 200000, kRuleReplicatedHost, 1.0 / 3 / 5});
}

TEST(CrushStability, AddOsdHostFailureDomain100x10) {
  check_add({"100x10 host domain", 100, 10, 1000000, kRuleReplicatedHost, 1.0 / 1001});
}

TEST(CrushStability, AddOsdOsdFailureDomain100x10) {
  check_add({"100x10 osd domain", 100, 10, 300000, kRuleReplicatedOsd, 1.0 / 1001});
}

}  // namespace
}  // namespace cairn::crush
