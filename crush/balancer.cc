#include "crush/balancer.h"

#include <algorithm>
#include <set>

namespace cairn::crush {
namespace {

struct Dev {
  ItemId id;
  Weight w;       // effective weight (crush weight x in-weight)
  ItemId domain;  // failure domain of the rule
  std::set<uint32_t> pgs;
};

struct State {
  std::vector<Dev> devs;                  // candidates, in id order
  std::map<ItemId, size_t> index;         // device id -> devs index
  std::vector<std::vector<ItemId>> sets;  // per PG seed: its devices after upmap
  uint64_t total = 0, weight = 0;

  uint64_t load(const Dev& d, int64_t delta = 0) const {
    return ((static_cast<uint64_t>(static_cast<int64_t>(d.pgs.size()) + delta)) << 32) / d.w;
  }
  uint64_t mean() const { return weight == 0 ? 0 : (total << 32) / weight; }
};

// The single choose step of a supported rule, or an error.
Result<const Step*> simple_step(const CrushMap& cm, int32_t rule) {
  const Rule* r = cm.rule(rule);
  if (!r) return Status(Errc::kNotFound, "no crush rule " + std::to_string(rule));
  if (r->steps.size() != 3 || r->steps[0].op != StepOp::kTake || r->steps[2].op != StepOp::kEmit ||
      (r->steps[1].op != StepOp::kChoose && r->steps[1].op != StepOp::kChooseLeaf))
    return Status(Errc::kNotSupported, "balancer supports take / choose[leaf] / emit rules only");
  if (r->steps[1].op == StepOp::kChoose && r->steps[1].type != kDeviceType)
    return Status(Errc::kNotSupported, "balancer needs a rule that emits devices");
  return &r->steps[1];
}

bool is_under(const CrushMap& cm, ItemId id, ItemId root) {
  for (uint32_t depth = 0; depth <= kMaxDepth; ++depth) {
    if (id == root) return true;
    auto p = cm.parent(id);
    if (!p) return false;
    id = *p;
  }
  return false;
}

Status collect_devices(const CrushMap& cm, const Step& take, const Step& choose, const DeviceStates& st,
                       State& s) {
  for (const auto& [id, d] : cm.devices) {
    if (!take.device_class.empty() && d.device_class != take.device_class) continue;
    if (!is_under(cm, id, take.item)) continue;
    Weight in =
        static_cast<size_t>(id) < st.in_weight.size() ? st.in_weight[static_cast<size_t>(id)] : kWeightOne;
    uint64_t w = in >= kWeightOne ? d.weight : (static_cast<uint64_t>(d.weight) * in) >> 16;
    if (w == 0 || !st.is_up(id)) continue;
    auto dom = cm.ancestor_of_type(id, choose.type);
    s.index[id] = s.devs.size();
    s.devs.push_back(Dev{id, static_cast<Weight>(w), dom.value_or(id), {}});
    s.weight += w;
  }
  if (s.devs.empty()) return error(Errc::kInvalid, "no devices to balance over");
  return ok_status();
}

size_t fullest(const State& s, const std::vector<bool>& stuck) {
  size_t best = s.devs.size();
  for (size_t i = 0; i < s.devs.size(); ++i)
    if (!stuck[i] && (best == s.devs.size() || s.load(s.devs[i]) > s.load(s.devs[best]))) best = i;
  return best;
}

bool domain_free(const State& s, const std::vector<ItemId>& set, ItemId leaving, const Dev& to) {
  for (ItemId id : set) {
    if (id == leaving || id == kNoItem) continue;
    if (id == to.id) return false;
    auto it = s.index.find(id);
    if (it != s.index.end() && s.devs[it->second].domain == to.domain) return false;
  }
  return true;
}

void record(Overrides& o, const PgId& pg, ItemId from, ItemId to) {
  auto& items = o.pg_upmap_items[pg];
  auto it = std::find_if(items.begin(), items.end(), [&](const auto& p) { return p.second == from; });
  if (it == items.end()) {
    items.emplace_back(from, to);
  } else if (it->first == to) {
    items.erase(it);
  } else {
    it->second = to;
  }
  if (items.empty()) o.pg_upmap_items.erase(pg);
}

// Moves one replica off devs[o] to the least loaded device that improves the
// spread and keeps failure domains distinct. False when no such move exists.
bool move_one(State& s, size_t o, const Pool& pool, Overrides& ov) {
  std::vector<size_t> order(s.devs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return s.load(s.devs[a]) < s.load(s.devs[b]); });
  Dev& from = s.devs[o];
  for (size_t u : order) {
    Dev& to = s.devs[u];
    if (u == o || s.load(to, 1) >= s.load(from)) break;  // no further target helps
    for (uint32_t seed : from.pgs) {
      if (!domain_free(s, s.sets[seed], from.id, to)) continue;
      std::replace(s.sets[seed].begin(), s.sets[seed].end(), from.id, to.id);
      record(ov, PgId{pool.id, seed}, from.id, to.id);
      to.pgs.insert(seed);
      from.pgs.erase(seed);
      return true;
    }
  }
  return false;
}

std::map<ItemId, uint32_t> counts(const State& s) {
  std::map<ItemId, uint32_t> c;
  for (const Dev& d : s.devs) c[d.id] = static_cast<uint32_t>(d.pgs.size());
  return c;
}

}  // namespace

Result<BalanceResult> balance(const Mapper& m, const Pool& pool, const DeviceStates& st, const Overrides& in,
                              const BalanceOptions& opt) {
  const CrushMap& cm = m.crush_map();
  if (pool.pg_num == 0 || pool.pg_num > kMaxBalancePgs || pool.size == 0 || pool.size > kMaxReplicas)
    return Status(Errc::kInvalid, "balancer: pg_num or size out of range");
  CAIRN_ASSIGN_OR_RETURN(const Step* choose, simple_step(cm, pool.rule));
  State s;
  CAIRN_RETURN_IF_ERROR(collect_devices(cm, cm.rule(pool.rule)->steps[0], *choose, st, s));
  BalanceResult r;
  r.overrides = in;
  s.sets.resize(pool.pg_num);
  for (uint32_t seed = 0; seed < pool.pg_num; ++seed) {
    CAIRN_RETURN_IF_ERROR(pg_to_raw(m, pool, seed, st, s.sets[seed]));
    apply_upmap(in, PgId{pool.id, seed}, st, s.sets[seed]);
    for (ItemId id : s.sets[seed]) {
      auto it = s.index.find(id);
      if (it == s.index.end()) continue;
      s.devs[it->second].pgs.insert(seed);
      ++s.total;
    }
  }
  r.mean_load = s.mean();
  r.pgs_before = counts(s);
  std::vector<bool> stuck(s.devs.size(), false);
  r.max_load_before = s.load(s.devs[fullest(s, stuck)]);
  while (r.moves < opt.max_moves) {
    size_t o = fullest(s, stuck);
    if (o == s.devs.size() || s.load(s.devs[o]) <= balance_limit(r.mean_load)) break;
    if (move_one(s, o, pool, r.overrides)) {
      ++r.moves;
    } else {
      stuck[o] = true;  // nothing can leave it; try the next fullest
    }
  }
  std::fill(stuck.begin(), stuck.end(), false);
  r.max_load_after = s.load(s.devs[fullest(s, stuck)]);
  r.target_met = r.max_load_after <= balance_limit(r.mean_load);
  r.pgs_after = counts(s);
  return r;
}

}  // namespace cairn::crush
