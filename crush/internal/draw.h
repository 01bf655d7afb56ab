// The straw2 draw: every candidate device gets an exponential "clock"
// -ln(u) / weight from its own hash; the smallest clock wins.
//
// Properties the rest of CRUSH is built on (docs/crush.md):
//  - P(device i wins) = w_i / sum(w) exactly in the model: a race of exponentials.
//  - A device's clock depends only on (x, its id, its weight): adding, removing or
//    reweighting one device changes only races that device wins or stops winning.
//  - The minimum clock under a bucket is itself exponential with the bucket's total
//    weight, so taking "a bucket's draw = its best device's clock" makes a
//    hierarchical choice behave exactly like a flat one (no cascade on change).
//
// Clocks are compared exactly, without division: a.ln / a.w < b.ln / b.w
// <=> a.ln * b.w < b.ln * a.w in 128-bit integers. Ties (only possible through
// the fixed-point log) go to the larger raw hash, then the smaller id, so the
// order is total and the same everywhere.
#pragma once

#include <cstdint>

#include "crush/internal/log2.h"
#include "crush/types.h"

namespace cairn::crush::internal {

struct Draw {
  uint64_t ln = 0;  // -log2(u) in Q32
  Weight w = 0;     // effective weight, 16.16; 0 means "no draw"
  uint64_t h = 0;   // the raw hash (tie-break)
  ItemId leaf = kNoItem;

  bool valid() const { return w != 0; }
};

// True when `a` beats `b`. An invalid draw loses to any valid one.
inline bool beats(const Draw& a, const Draw& b) {
  if (!b.valid()) return a.valid();
  if (!a.valid()) return false;
  unsigned __int128 l = static_cast<unsigned __int128>(a.ln) * b.w;
  unsigned __int128 r = static_cast<unsigned __int128>(b.ln) * a.w;
  if (l != r) return l < r;
  if (a.h != b.h) return a.h > b.h;
  return a.leaf < b.leaf;
}

// The same order for two draws of equal weight, from the hashes alone: -log2 is
// non-increasing in h, so the larger hash never has the larger clock.
inline bool hash_beats(uint64_t ha, ItemId la, uint64_t hb, ItemId lb) {
  return ha != hb ? ha > hb : la < lb;
}

}  // namespace cairn::crush::internal
