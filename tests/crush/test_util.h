// Helpers shared by the CRUSH tests.
#pragma once

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "crush/analysis.h"
#include "crush/builder.h"
#include "crush/mapper.h"

namespace cairn::crush::testing {

inline CrushMap built(uint32_t hosts, uint32_t osds, Weight w = kWeightOne) {
  auto m = build_map(BuildSpec{hosts, osds, w, "hdd"});
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  return *m;
}

inline Mapper mapper(const CrushMap& m) {
  auto r = Mapper::build(m);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return *r;
}

inline Mappings table(const CrushMap& m, int32_t rule, uint32_t n, uint32_t num_rep,
                      std::span<const Weight> rw = {}) {
  auto t = map_range(mapper(m), rule, 0, n - 1, num_rep, rw);
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  return *t;
}

}  // namespace cairn::crush::testing
