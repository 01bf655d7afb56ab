#include "crush/mapper.h"

#include <algorithm>
#include <array>

#include "crush/internal/choose.h"
#include "crush/internal/compiled.h"

namespace cairn::crush {
namespace {

using internal::CompiledStep;

// The working set of a rule between steps, bounded by kMaxReplicas (a rule whose
// steps multiply past it is truncated, never overflows).
struct Working {
  std::array<ItemId, kMaxReplicas> items;
  uint32_t size = 0;
};

const internal::DomainSet* find_set(const internal::Compiled& c, const CompiledStep& s, ItemId item) {
  auto it = std::lower_bound(s.sets.begin(), s.sets.end(), std::make_pair(item, uint32_t{0}));
  if (it == s.sets.end() || it->first != item) return nullptr;
  return &c.sets[it->second];
}

void run_choose(const internal::Compiled& c, const CompiledStep& s, uint32_t x, uint32_t num_rep,
                std::span<const Weight> rw, const Working& in, Working& next) {
  next.size = 0;
  uint32_t n = step_count(s.count, num_rep);
  for (uint32_t i = 0; i < in.size && n > 0; ++i) {
    uint32_t room = kMaxReplicas - next.size;
    uint32_t want = std::min(n, room);
    if (want == 0) break;
    ItemId* dst = next.items.data() + next.size;
    const internal::DomainSet* ds = in.items[i] == kNoItem ? nullptr : find_set(c, s, in.items[i]);
    if (s.mode == ChooseMode::kIndep) {
      if (ds)
        internal::choose_indep(*ds, x, want, s.output_leaves, rw, dst);
      else
        std::fill(dst, dst + want, kNoItem);
      next.size += want;
    } else if (ds) {
      next.size += internal::choose_firstn(*ds, x, want, s.output_leaves, rw, dst);
    }
  }
}

}  // namespace

Result<Mapper> Mapper::build(const CrushMap& map) {
  CAIRN_RETURN_IF_ERROR(map.validate());
  return Mapper(std::make_shared<const internal::Compiled>(internal::compile_map(map)));
}

const CrushMap& Mapper::crush_map() const { return c_->map; }

Status Mapper::map(int32_t rule_id, uint32_t x, uint32_t num_rep, std::span<const Weight> rw,
                   std::vector<ItemId>& out) const {
  out.clear();
  auto rit = c_->rules.find(rule_id);
  if (rit == c_->rules.end()) return error(Errc::kNotFound, "no crush rule " + std::to_string(rule_id));
  num_rep = std::min(num_rep, kMaxReplicas);
  Working a, b;
  Working* cur = &a;
  Working* next = &b;
  for (const CompiledStep& s : rit->second.steps) {
    switch (s.op) {
      case StepOp::kTake:
        cur->items[0] = s.take;
        cur->size = 1;
        break;
      case StepOp::kChoose:
      case StepOp::kChooseLeaf:
        run_choose(*c_, s, x, num_rep, rw, *cur, *next);
        std::swap(cur, next);
        break;
      case StepOp::kEmit:
        for (uint32_t i = 0; i < cur->size && out.size() < num_rep; ++i) out.push_back(cur->items[i]);
        cur->size = 0;
        break;
    }
  }
  return ok_status();
}

Result<std::vector<ItemId>> Mapper::map(int32_t rule_id, uint32_t x, uint32_t num_rep,
                                        std::span<const Weight> reweights) const {
  std::vector<ItemId> out;
  CAIRN_RETURN_IF_ERROR(map(rule_id, x, num_rep, reweights, out));
  return out;
}

}  // namespace cairn::crush
