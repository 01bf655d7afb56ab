// compile_map(): flattens each rule's reachable failure domains (internal/compiled.h).
#include <algorithm>
#include <tuple>

#include "crush/internal/compiled.h"

namespace cairn::crush::internal {
namespace {

using SetKey = std::tuple<ItemId, uint32_t, std::string>;  // item, domain type, class

class Compiler {
 public:
  explicit Compiler(Compiled& out) : out_(out), map_(out.map) {}

  void compile_rule(const Rule& r) {
    CompiledRule cr;
    std::vector<ItemId> working;
    std::string cls;
    for (const Step& s : r.steps) {
      CompiledStep cs;
      cs.op = s.op;
      cs.mode = s.mode;
      cs.count = s.count;
      if (s.op == StepOp::kTake) {
        cs.take = s.item;
        cls = s.device_class;
        working = {s.item};
      } else if (s.op == StepOp::kEmit) {
        working.clear();
      } else {
        cs.output_leaves = s.op == StepOp::kChooseLeaf || s.type == kDeviceType;
        std::vector<ItemId> next;
        for (ItemId w : working) {
          uint32_t idx = set_for(w, s.type, cls);
          cs.sets.emplace_back(w, idx);
          if (!cs.output_leaves)
            for (const Domain& d : out_.sets[idx].domains) next.push_back(d.id);
        }
        std::sort(cs.sets.begin(), cs.sets.end());
        cs.sets.erase(std::unique(cs.sets.begin(), cs.sets.end()), cs.sets.end());
        std::sort(next.begin(), next.end());
        next.erase(std::unique(next.begin(), next.end()), next.end());
        working = std::move(next);
      }
      cr.steps.push_back(std::move(cs));
    }
    out_.rules.emplace(r.id, std::move(cr));
  }

 private:
  uint32_t set_for(ItemId root, uint32_t type, const std::string& cls) {
    SetKey key{root, type, cls};
    auto it = index_.find(key);
    if (it != index_.end()) return it->second;
    DomainSet ds;
    find_domains(root, type, cls, ds, 0);
    for (const Leaf& l : ds.leaves) ds.uniform = ds.uniform && l.weight == ds.leaves[0].weight;
    uint32_t idx = static_cast<uint32_t>(out_.sets.size());
    out_.sets.push_back(std::move(ds));
    index_.emplace(std::move(key), idx);
    return idx;
  }

  // Depth-first, in bucket item order, so the compiled order is deterministic.
  void find_domains(ItemId at, uint32_t type, const std::string& cls, DomainSet& ds, uint32_t depth) {
    if (depth > kMaxDepth) return;
    auto t = map_.item_type(at);
    if (!t) return;
    if (*t == type) {
      Domain d{at, static_cast<uint32_t>(ds.leaves.size()), 0, true};
      add_leaves(at, cls, ds, depth);
      d.leaf_count = static_cast<uint32_t>(ds.leaves.size()) - d.first_leaf;
      for (uint32_t i = 1; i < d.leaf_count; ++i)
        if (ds.leaves[d.first_leaf + i].weight != ds.leaves[d.first_leaf].weight) d.equal_weights = false;
      if (d.leaf_count > 0) ds.domains.push_back(d);
      return;
    }
    if (const Bucket* b = map_.bucket(at))
      for (ItemId c : b->items) find_domains(c, type, cls, ds, depth + 1);
  }

  void add_leaves(ItemId at, const std::string& cls, DomainSet& ds, uint32_t depth) {
    if (depth > kMaxDepth) return;
    if (const Device* d = map_.device(at)) {
      if (d->weight > 0 && (cls.empty() || d->device_class == cls))
        ds.leaves.push_back(Leaf{d->id, d->weight});
      return;
    }
    if (const Bucket* b = map_.bucket(at))
      for (ItemId c : b->items) add_leaves(c, cls, ds, depth + 1);
  }

  Compiled& out_;
  const CrushMap& map_;
  std::map<SetKey, uint32_t> index_;
};

}  // namespace

Compiled compile_map(const CrushMap& map) {
  Compiled out;
  out.map = map;
  Compiler c(out);
  for (const auto& [id, r] : map.rules) c.compile_rule(r);
  return out;
}

}  // namespace cairn::crush::internal
