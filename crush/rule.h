// CRUSH rules: a short program of steps that turns an input x into devices.
//
//   step take <item> [class <c>]       start at a bucket; only devices of class c count
//   step choose firstn|indep N type T  pick N distinct items of type T under each working item
//   step chooseleaf firstn|indep N type T
//                                      pick N distinct failure domains of type T and one
//                                      device under each
//   step emit                          append the working items to the result
//
// N > 0 means N; N <= 0 means num_rep + N (so 0 is "as many as the pool's size").
// firstn returns a dense list (replicated pools: order = primary first); indep keeps
// positions (erasure-coded pools: shard i stays on its device when others fail) and
// leaves kNoItem holes. Thread-safety: values only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crush/types.h"

namespace cairn::crush {

enum class StepOp : uint8_t { kTake = 1, kChoose = 2, kChooseLeaf = 3, kEmit = 4 };
enum class ChooseMode : uint8_t { kFirstn = 0, kIndep = 1 };
enum class RuleType : uint8_t { kReplicated = 1, kErasure = 3 };

struct Step {
  StepOp op = StepOp::kEmit;
  ItemId item = 0;           // kTake
  std::string device_class;  // kTake: "" for all classes
  ChooseMode mode = ChooseMode::kFirstn;
  int32_t count = 0;  // kChoose/kChooseLeaf
  uint32_t type = 0;  // kChoose/kChooseLeaf: the failure-domain type

  bool operator==(const Step&) const = default;
};

struct Rule {
  int32_t id = 0;
  std::string name;
  RuleType type = RuleType::kReplicated;
  std::vector<Step> steps;

  bool operator==(const Rule&) const = default;
};

// Number of items a choose step picks for a mapping of `num_rep` replicas (0 = none).
inline uint32_t step_count(int32_t count, uint32_t num_rep) {
  int64_t n = count > 0 ? count : static_cast<int64_t>(num_rep) + count;
  if (n <= 0) return 0;
  return n > static_cast<int64_t>(kMaxReplicas) ? kMaxReplicas : static_cast<uint32_t>(n);
}

}  // namespace cairn::crush
