#include "crush/internal/choose.h"

#include <array>

#include "crush/internal/hash.h"

namespace cairn::crush::internal {
namespace {

inline Weight in_weight(std::span<const Weight> rw, ItemId id) {
  size_t i = static_cast<size_t>(id);
  return i < rw.size() ? rw[i] : kWeightOne;
}

// The largest hash among a domain's usable leaves, for leaves of equal weight.
// False if a leaf is partially in (its weight differs: use full draws).
// Leaves `leaf` at kNoItem when every leaf is out.
inline bool max_hash(const DomainSet& ds, const Domain& dom, uint32_t x, uint64_t salt,
                     std::span<const Weight> rw, uint64_t& best_h, ItemId& best_leaf) {
  best_h = 0;
  best_leaf = kNoItem;
  for (uint32_t i = 0; i < dom.leaf_count; ++i) {
    const Leaf& l = ds.leaves[dom.first_leaf + i];
    Weight in = in_weight(rw, l.id);
    if (in == 0) continue;
    if (in < kWeightOne) return false;
    uint64_t h = draw_hash(x, l.id, salt);
    if (best_leaf == kNoItem || hash_beats(h, l.id, best_h, best_leaf)) {
      best_h = h;
      best_leaf = l.id;
    }
  }
  return true;
}

}  // namespace

Draw domain_draw(const DomainSet& ds, const Domain& dom, uint32_t x, uint64_t salt,
                 std::span<const Weight> rw) {
  Draw best{};
  uint64_t h = 0;
  ItemId leaf = kNoItem;
  if (dom.equal_weights && max_hash(ds, dom, x, salt, rw, h, leaf)) {
    if (leaf != kNoItem) best = Draw{neg_log2_q32(h), ds.leaves[dom.first_leaf].weight, h, leaf};
    return best;
  }
  for (uint32_t i = 0; i < dom.leaf_count; ++i) {
    const Leaf& l = ds.leaves[dom.first_leaf + i];
    Weight in = in_weight(rw, l.id);
    if (in == 0) continue;
    Weight w =
        in >= kWeightOne ? l.weight : static_cast<Weight>((static_cast<uint64_t>(l.weight) * in) >> 16);
    if (w == 0) continue;
    h = draw_hash(x, l.id, salt);
    Draw c{neg_log2_q32(h), w, h, l.id};
    if (beats(c, best)) best = c;
  }
  return best;
}

namespace {

// firstn over a uniform set: every clock has the same weight, so the order is
// the hashes' order and no logarithm is needed. False on a partial in-weight.
bool firstn_uniform(const DomainSet& ds, uint32_t x, uint32_t n, bool leaves, std::span<const Weight> rw,
                    ItemId* out, uint32_t& have) {
  std::array<uint64_t, kMaxReplicas> top_h;
  std::array<ItemId, kMaxReplicas> top_leaf, top_dom;
  have = 0;
  for (const Domain& dom : ds.domains) {
    uint64_t h;
    ItemId leaf;
    if (!max_hash(ds, dom, x, 0, rw, h, leaf)) return false;
    if (leaf == kNoItem) continue;
    if (have == n && !hash_beats(h, leaf, top_h[n - 1], top_leaf[n - 1])) continue;
    uint32_t pos = have < n ? have++ : n - 1;  // insertion sort into the top n
    for (; pos > 0 && hash_beats(h, leaf, top_h[pos - 1], top_leaf[pos - 1]); --pos) {
      top_h[pos] = top_h[pos - 1];
      top_leaf[pos] = top_leaf[pos - 1];
      top_dom[pos] = top_dom[pos - 1];
    }
    top_h[pos] = h;
    top_leaf[pos] = leaf;
    top_dom[pos] = dom.id;
  }
  for (uint32_t i = 0; i < have; ++i) out[i] = leaves ? top_leaf[i] : top_dom[i];
  return true;
}

}  // namespace

uint32_t choose_firstn(const DomainSet& ds, uint32_t x, uint32_t n, bool leaves, std::span<const Weight> rw,
                       ItemId* out) {
  uint32_t have = 0;
  if (ds.uniform && firstn_uniform(ds, x, n, leaves, rw, out, have)) return have;
  std::array<Draw, kMaxReplicas> top;
  std::array<ItemId, kMaxReplicas> dom_ids;
  have = 0;
  for (const Domain& dom : ds.domains) {
    Draw d = domain_draw(ds, dom, x, 0, rw);
    if (!d.valid()) continue;
    if (have == n && !beats(d, top[n - 1])) continue;
    uint32_t pos = have < n ? have++ : n - 1;  // insertion sort into the top n
    for (; pos > 0 && beats(d, top[pos - 1]); --pos) {
      top[pos] = top[pos - 1];
      dom_ids[pos] = dom_ids[pos - 1];
    }
    top[pos] = d;
    dom_ids[pos] = dom.id;
  }
  for (uint32_t i = 0; i < have; ++i) out[i] = leaves ? top[i].leaf : dom_ids[i];
  return have;
}

namespace {

// Index of the best domain not in `taken`, or -1; its best leaf in `leaf`.
// With no in-weights over a uniform set, hashes alone order the clocks.
int best_free_domain(const DomainSet& ds, uint32_t x, uint64_t salt, std::span<const Weight> rw,
                     const std::vector<bool>& taken, ItemId& leaf) {
  int at = -1;
  leaf = kNoItem;
  if (ds.uniform && rw.empty()) {
    uint64_t best_h = 0, h;
    ItemId l;
    for (size_t i = 0; i < ds.domains.size(); ++i) {
      if (taken[i]) continue;
      max_hash(ds, ds.domains[i], x, salt, rw, h, l);
      if (l != kNoItem && (at < 0 || hash_beats(h, l, best_h, leaf))) {
        best_h = h;
        leaf = l;
        at = static_cast<int>(i);
      }
    }
    return at;
  }
  Draw best{};
  for (size_t i = 0; i < ds.domains.size(); ++i) {
    if (taken[i]) continue;
    Draw d = domain_draw(ds, ds.domains[i], x, salt, rw);
    if (beats(d, best)) {
      best = d;
      at = static_cast<int>(i);
    }
  }
  if (at >= 0) leaf = best.leaf;
  return at;
}

}  // namespace

void choose_indep(const DomainSet& ds, uint32_t x, uint32_t n, bool leaves, std::span<const Weight> rw,
                  ItemId* out) {
  std::vector<bool> taken(ds.domains.size(), false);
  std::array<int, kMaxReplicas> base;
  ItemId leaf;
  for (uint32_t r = 0; r < n; ++r) {  // phase 1: crush weights only
    base[r] = best_free_domain(ds, x, salt_for(r + 1), {}, taken, leaf);
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
    int at = best_free_domain(ds, x, salt_for(r + 1), rw, taken, leaf);
    if (at < 0) continue;
    taken[static_cast<size_t>(at)] = true;
    out[r] = leaves ? leaf : ds.domains[static_cast<size_t>(at)].id;
  }
}

}  // namespace cairn::crush::internal
