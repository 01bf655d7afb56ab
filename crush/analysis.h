// Whole-range analysis of a rule: the mappings of many inputs, per-device
// utilization, and what moves between two maps. Used by cairn-crushtool and the
// property tests. Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "common/status.h"
#include "crush/mapper.h"

namespace cairn::crush {

// The mappings of inputs min_x..min_x+count-1, num_rep slots each (kNoItem pads).
struct Mappings {
  uint32_t min_x = 0;
  uint32_t num_rep = 0;
  std::vector<ItemId> slots;

  size_t count() const { return num_rep == 0 ? 0 : slots.size() / num_rep; }
  std::span<const ItemId> row(size_t i) const { return {slots.data() + i * num_rep, num_rep}; }
};

inline constexpr uint64_t kMaxRangeInputs = 1ull << 26;  // bounds the table's memory

Result<Mappings> map_range(const Mapper& m, int32_t rule, uint32_t min_x, uint32_t max_x, uint32_t num_rep,
                           std::span<const Weight> reweights = {});

struct Utilization {
  std::map<ItemId, uint64_t> per_device;  // replicas per device
  uint64_t replicas = 0;
  uint64_t bad_mappings = 0;  // fewer than num_rep devices, or a duplicate device
};
Utilization utilization(const Mappings& m);

struct MoveStats {
  uint64_t inputs = 0;
  uint64_t replicas = 0;              // replicas in the new mappings
  uint64_t moved = 0;                 // replicas on a device that did not hold that input before
  uint64_t changed_inputs = 0;        // inputs whose mapping changed at all
  std::map<ItemId, uint64_t> gained;  // per device: replicas it newly holds
  std::map<ItemId, uint64_t> lost;    // per device: replicas it no longer holds
  double moved_fraction() const { return replicas == 0 ? 0.0 : static_cast<double>(moved) / replicas; }
};
// Compares two tables over the same inputs. `positional` (indep pools) counts a
// device in a different slot as moved; otherwise a mapping is compared as a set.
Result<MoveStats> diff(const Mappings& before, const Mappings& after, bool positional);

}  // namespace cairn::crush
