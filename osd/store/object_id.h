// Identities of what an ObjectStore holds: collections (one per PG) and objects.
//
// Sort order is part of the contract: objects of a collection are listed by
// (hash, namespace, name, snap), so a backfill or scrub cursor (an ObjectId) stays
// valid while objects come and go, and objects of one PG sit contiguously when a
// PG splits (the split child takes a hash range). `hash` is the object's
// placement hash (computed by the client from the name); the store never
// recomputes it, it only sorts by it.
//
// Thread-safety: values; no shared state.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/encoding.h"
#include "common/status.h"

namespace cairn::store {

// A collection: the objects of one placement group. Printed "<pool>.<hex seed>".
struct CollectionId {
  int64_t pool = 0;
  uint32_t seed = 0;

  auto operator<=>(const CollectionId&) const = default;
  std::string to_string() const;
  static Result<CollectionId> parse(std::string_view text);

  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// The head (writable) version of an object; clones made for snapshots carry the snap id.
inline constexpr uint64_t kHeadSnap = ~0ull - 1;

struct ObjectId {
  uint32_t hash = 0;   // placement hash of `name`: the primary sort key
  std::string nspace;  // namespace inside the pool ("" = default)
  std::string name;
  uint64_t snap = kHeadSnap;

  // Member order is the sort order: hash, nspace, name, snap.
  auto operator<=>(const ObjectId&) const = default;
  // The smallest id: the cursor that starts a listing at the beginning.
  static ObjectId min() { return ObjectId{0, "", "", 0}; }
  std::string to_string() const;

  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

}  // namespace cairn::store
