#include "crush/internal/choose.h"

#include <array>

#include "crush/internal/hash.h"

namespace cairn::crush::internal {
namespace {

inline Weight in_weight(std::span<const Weight> rw, ItemId id) {
  size_t i = static_cast<size_t>(id);
  return i < rw.size() ? rw[i] : kWeightOne;
}

// All leaves share one weight and none is partially in: the best clock is the
// largest hash's, so one log per domain suffices (same order as beats()).
bool fast_draw(const DomainSet& ds, const Domain& dom, uint32_t x, uint64_t salt, std::span<const Weight> rw,
               Draw& best) {
  uint64_t best_h = 0;
  ItemId best_leaf = kNoItem;
  for (uint32_t i = 0; i < dom.leaf_count; ++i) {
    const Leaf& l = ds.leaves[dom.first_leaf + i];
    Weight in = in_weight(rw, l.id);
    if (in == 0) continue;
    if (in < kWeightOne) return false;
    uint64_t h = draw_hash(x, l.id, salt);
    if (best_leaf == kNoItem || h > best_h || (h == best_h && l.id < best_leaf)) {
      best_h = h;
      best_leaf = l.id;
    }
  }
  best = Draw{};
  if (best_leaf != kNoItem)
    best = Draw{neg_log2_q32(best_h), ds.leaves[dom.first_leaf].weight, best_h, best_leaf};
  return true;
}

}  // namespace

Draw domain_draw(const DomainSet& ds, const Domain& dom, uint32_t x, uint64_t salt,
                 std::span<const Weight> rw) {
  Draw best;
  if (dom.equal_weights && fast_draw(ds, dom, x, salt, rw, best)) return best;
  for (uint32_t i = 0; i < dom.leaf_count; ++i) {
    const Leaf& l = ds.leaves[dom.first_leaf + i];
    Weight in = in_weight(rw, l.id);
    if (in == 0) continue;
    Weight w =
        in >= kWeightOne ? l.weight : static_cast<Weight>((static_cast<uint64_t>(l.weight) * in) >> 16);
    if (w == 0) continue;
    uint64_t h = draw_hash(x, l.id, salt);
    Draw c{neg_log2_q32(h), w, h, l.id};
    if (beats(c, best)) best = c;
  }
  return best;
}

uint32_t choose_firstn(const DomainSet& ds, uint32_t x, uint32_t n, bool leaves, std::span<const Weight> rw,
                       ItemId* out) {
  std::array<Draw, kMaxReplicas> top;
  std::array<ItemId, kMaxReplicas> dom_ids;
  uint32_t have = 0;
  for (const Domain& dom : ds.domains) {
    Draw d = domain_draw(ds, dom, x, 0, rw);
    if (!d.valid()) continue;
    if (have == n && !beats(d, top[n - 1])) continue;
    uint32_t pos = have < n ? have++ : n - 1;  // insertion sort into the top n
    while (pos > 0 && beats(d, top[pos - 1])) {
      top[pos] = top[pos - 1];
      dom_ids[pos] = dom_ids[pos - 1];
      --pos;
    }
    top[pos] = d;
    dom_ids[pos] = dom.id;
  }
  for (uint32_t i = 0; i < have; ++i) out[i] = leaves ? top[i].leaf : dom_ids[i];
  return have;
}

namespace {

// Index of the best domain not in `taken` (one flag per domain), or -1.
int best_free_domain(const DomainSet& ds, uint32_t x, uint64_t salt, std::span<const Weight> rw,
                     const std::vector<bool>& taken, Draw& best) {
  int at = -1;
  best = Draw{};
  for (size_t i = 0; i < ds.domains.size(); ++i) {
    if (taken[i]) continue;
    Draw d = domain_draw(ds, ds.domains[i], x, salt, rw);
    if (beats(d, best)) {
      best = d;
      at = static_cast<int>(i);
    }
  }
  return at;
}

}  // namespace

void choose_indep(const DomainSet& ds, uint32_t x, uint32_t n, bool leaves, std::span<const Weight> rw,
                  ItemId* out) {
  std::vector<bool> taken(ds.domains.size(), false);
  std::array<int, kMaxReplicas> base;
  for (uint32_t r = 0; r < n; ++r) {  // phase 1: crush weights only
    Draw d;
    base[r] = best_free_domain(ds, x, salt_for(r + 1), {}, taken, d);
    if (base[r] >= 0) taken[static_cast<size_t>(base[r])] = true;
  }
  std::array<bool, kMaxReplicas> lost{};
  for (uint32_t r = 0; r < n; ++r) {  // phase 2: each position's usable device
    out[r] = kNoItem;
    if (base[r] < 0) continue;
    const Domain& dom = ds.domains[static_cast<size_t>(base[r])];
    Draw d = domain_draw(ds, dom, x, salt_for(r + 1), rw);
    if (d.valid())
      out[r] = leaves ? d.leaf : dom.id;
    else
      lost[r] = true;
  }
  for (uint32_t r = 0; r < n; ++r) {  // phase 3: replace positions whose domain is empty
    if (!lost[r]) continue;
    Draw d;
    int at = best_free_domain(ds, x, salt_for(r + 1), rw, taken, d);
    if (at < 0) continue;
    taken[static_cast<size_t>(at)] = true;
    out[r] = leaves ? d.leaf : ds.domains[static_cast<size_t>(at)].id;
  }
}

}  // namespace cairn::crush::internal
