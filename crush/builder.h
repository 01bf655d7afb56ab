// Ready-made maps for tools, tests and benchmarks. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "crush/crush_map.h"

namespace cairn::crush {

struct BuildSpec {
  uint32_t hosts = 3;
  uint32_t osds_per_host = 4;
  Weight osd_weight = kWeightOne;
  std::string device_class = "hdd";
};

// Rule ids of a built map.
inline constexpr int32_t kRuleReplicatedHost = 0;  // chooseleaf firstn 0 type host
inline constexpr int32_t kRuleReplicatedOsd = 1;   // chooseleaf firstn 0 type osd
inline constexpr int32_t kRuleErasureHost = 2;     // chooseleaf indep 0 type host
inline constexpr int32_t kRuleErasureOsd = 3;      // choose indep 0 type osd

// A root "default" holding hosts host0..host{N-1}, each with M devices
// osd.{h*M}..osd.{h*M+M-1} (ids in host order), and the four rules above.
Result<CrushMap> build_map(const BuildSpec& spec);

// Adds device `id` (named osd.<id>) under the bucket named `host`.
Status add_osd(CrushMap& map, ItemId id, const std::string& host, Weight weight,
               const std::string& device_class = "hdd");

}  // namespace cairn::crush
