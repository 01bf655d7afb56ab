// The compiled form of a CRUSH map that the mapper runs on.
//
// For every (working item, failure-domain type, device class) a rule can reach,
// compile() lists the failure domains under the item and, for each, the devices
// (leaves) under it that can hold data: class matches and crush weight > 0. The
// mapper then only hashes leaves and compares draws: no tree walks, no lookups
// by name, no allocation.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "crush/crush_map.h"

namespace cairn::crush::internal {

struct Leaf {
  ItemId id;
  Weight weight;
};

struct Domain {
  ItemId id;            // the failure domain (a bucket, or a device for type 0)
  uint32_t first_leaf;  // index into DomainSet::leaves
  uint32_t leaf_count;
  bool equal_weights;  // all leaves share one crush weight: one log per draw
};

struct DomainSet {
  std::vector<Domain> domains;
  std::vector<Leaf> leaves;
  bool uniform = true;  // every leaf has the same crush weight: order by hash alone
};

struct CompiledStep {
  StepOp op = StepOp::kEmit;
  ChooseMode mode = ChooseMode::kFirstn;
  int32_t count = 0;
  bool output_leaves = false;  // chooseleaf, or choose of type 0: emit devices
  ItemId take = 0;
  // kChoose/kChooseLeaf: working item -> index into Compiled::sets, sorted by item.
  std::vector<std::pair<ItemId, uint32_t>> sets;
};

struct CompiledRule {
  std::vector<CompiledStep> steps;
};

struct Compiled {
  CrushMap map;
  std::map<int32_t, CompiledRule> rules;
  std::vector<DomainSet> sets;
};

// Builds the compiled form of a validated map.
Compiled compile_map(const CrushMap& map);

}  // namespace cairn::crush::internal
