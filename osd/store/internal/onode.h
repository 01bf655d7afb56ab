// Onode: the BlockStore's metadata of one object, stored under its 'O' key.
//
// Encoding (versioned struct, see common/encoding.h):
//   v1: u64 nid | u64 size | map<string, bytes> xattrs | ExtentMap extents
// `nid` is a store-unique number that names the object's omap keys, so moving an
// object between collections rewrites only this one key.
//
// Thread-safety: immutable once shared (OnodeRef is a pointer to const); a
// transaction modifies a private copy and publishes it.
#pragma once

#include <cstdint>
#include <memory>

#include "osd/store/internal/extent_map.h"
#include "osd/store/transaction.h"

namespace cairn::store {

struct Onode {
  uint64_t nid = 0;
  uint64_t size = 0;
  AttrMap xattrs;
  ExtentMap extents;

  void encode(Encoder& e) const;
  void decode(Decoder& d);
  // Approximate memory footprint, for the cache's budget.
  size_t memory_bytes() const;
};

using OnodeRef = std::shared_ptr<const Onode>;

}  // namespace cairn::store
