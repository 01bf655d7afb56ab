// Basic CRUSH vocabulary: item ids, 16.16 weights and the limits every map obeys.
//
// Devices have ids >= 0 and buckets ids < 0 (as in Ceph), so one int32 names any
// item of the hierarchy. Weights are unsigned 16.16 fixed point: 0x10000 is 1.0
// (by convention one TiB of raw capacity). Thread-safety: values only.
#pragma once

#include <cstdint>

namespace cairn::crush {

using ItemId = int32_t;
using Weight = uint32_t;  // 16.16 fixed point

// A hole in an `indep` mapping: that position has no device.
inline constexpr ItemId kNoItem = 0x7fffffff;
inline constexpr Weight kWeightOne = 0x10000;

// Limits: a map or a rule beyond them is rejected when compiled or decoded, so a
// corrupt map cannot make the mapper allocate or loop without bound.
inline constexpr uint32_t kMaxDevices = 1u << 20;  // far beyond any real cluster
inline constexpr uint32_t kMaxBuckets = 1u << 20;
inline constexpr uint32_t kMaxTypes = 64;  // osd < host < ... < root, with room
inline constexpr uint32_t kMaxRules = 1024;
inline constexpr uint32_t kMaxSteps = 64;        // steps in one rule
inline constexpr uint32_t kMaxReplicas = 64;     // results of one choose step / one mapping
inline constexpr uint32_t kMaxDepth = 32;        // levels of the hierarchy
inline constexpr uint32_t kMaxNameLength = 256;  // device, bucket, type, class, rule names

// Device type is always type 0 ("osd" by default).
inline constexpr uint32_t kDeviceType = 0;

}  // namespace cairn::crush
