// The hashes behind every CRUSH draw. Integer only, identical on every machine.
#pragma once

#include <cstdint>

#include "crush/types.h"

namespace cairn::crush::internal {

// rrmxmx (Pelle Evensen): a 64-bit bijective mixer with full avalanche, good on
// counter-like inputs such as consecutive x and consecutive device ids.
inline uint64_t mix64(uint64_t v) {
  v ^= ((v >> 49) | (v << 15)) ^ ((v >> 24) | (v << 40));
  v *= 0x9FB21C651E98DF25ull;
  v ^= v >> 28;
  v *= 0x9FB21C651E98DF25ull;
  return v ^ (v >> 28);
}

// Salt for draws of one position: 0 for firstn (one draw per item and input),
// a position-specific constant for indep.
inline uint64_t salt_for(uint32_t position_plus_one) {
  return position_plus_one == 0 ? 0 : mix64(0x5A17'0000'0000'0000ull | position_plus_one);
}

// The draw hash of item `id` for input x. (x, id) is packed injectively into 64
// bits before mixing, so two items never share a hash for the same input and salt.
inline uint64_t draw_hash(uint32_t x, ItemId id, uint64_t salt) {
  uint64_t k = (static_cast<uint64_t>(x) << 32) | static_cast<uint32_t>(id);
  return mix64(k ^ salt);
}

// CRUSH input for a placement group: its seed mixed with the pool id, so PG n of
// two pools lands on unrelated devices.
inline uint32_t pg_input(uint32_t seed, int64_t pool) {
  return static_cast<uint32_t>(mix64((static_cast<uint64_t>(pool) << 32) ^ seed ^ 0xC2B2AE3D27D4EB4Full) >>
                               32);
}

}  // namespace cairn::crush::internal
