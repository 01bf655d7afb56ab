// The upmap balancer: pg_upmap_items exceptions that even out PGs per device.
//
// CRUSH spreads replicas by weight only statistically: with a few hundred PGs
// per device, the fullest device typically holds 10-20% more than its share and
// fills first. The balancer moves single replicas from the most loaded device
// (PGs per unit of weight) to the least loaded one that keeps the rule's failure
// domains distinct, recording each move as a (from, to) pg_upmap_items pair,
// until the fullest device holds at most max(mean + 1, 1.03 x mean) PGs per unit
// of weight, or no move helps, or max_moves is reached.
//
// Integer arithmetic only and a fixed scan order, so every monitor computes the
// same exceptions. Supports rules of the form take / choose[leaf] N type T / emit.
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <map>

#include "common/status.h"
#include "crush/placement.h"

namespace cairn::crush {

// Largest pool the balancer takes on in one run: its tables are O(pg_num x size).
inline constexpr uint32_t kMaxBalancePgs = 1u << 22;

struct BalanceOptions {
  uint32_t max_moves = 100000;  // bound on the work of one run
};

struct BalanceResult {
  Overrides overrides;  // the input's, with pg_upmap_items updated
  uint32_t moves = 0;
  // PGs per unit of weight, x 65536: the mean, and the fullest device before/after.
  uint64_t mean_load = 0;
  uint64_t max_load_before = 0;
  uint64_t max_load_after = 0;
  bool target_met = false;
  std::map<ItemId, uint32_t> pgs_before, pgs_after;  // replicas per device
};

Result<BalanceResult> balance(const Mapper& m, const Pool& pool, const DeviceStates& st, const Overrides& in,
                              const BalanceOptions& opt = {});

// Highest PGs-per-unit-weight load (x 65536) allowed for `mean` by the target.
inline uint64_t balance_limit(uint64_t mean) { return std::max(mean + 65536, mean * 103 / 100); }

}  // namespace cairn::crush
