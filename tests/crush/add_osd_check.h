// The "add one OSD" stability check, shared by the unit and the slow tests.
#pragma once

#include <cstdio>

#include "tests/crush/test_util.h"

namespace cairn::crush::testing {

struct AddCase {
  const char* name;
  uint32_t hosts, osds, inputs;
  int32_t rule;
  double ideal;  // the new device's fair share of all replicas
};

// Adds osd.<n> of weight 1.0 to host0 and checks that the moved fraction is at
// most 1.1x the ideal share and that every moved replica went to the new device.
inline void check_add(const AddCase& c) {
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

}  // namespace cairn::crush::testing
