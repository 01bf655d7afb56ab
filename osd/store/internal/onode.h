// Onode: the BlockStore's metadata of one object, stored under its 'O' key.
//
// Encoding (versioned struct, see common/encoding.h):
//   v1: u64 nid | u64 size | map<string, bytes> xattrs | ExtentMap extents
//   v2: u64 nid | u64 size | map<string, bytes> xattrs | u8 sharded |
//       sharded ? vector<u32> stored shard numbers : ExtentMap extents
// `nid` is a store-unique number that names the object's omap keys and extent-map
// shards, so moving an object between collections rewrites only this one key.
// Objects larger than one shard (Onode::wants_shards) keep their extent map in
// 'X' nid shard keys (extent_map.h), the rest inline.
//
// Thread-safety: immutable once shared (OnodeRef is a pointer to const); a
// transaction modifies a private copy and publishes it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "osd/store/internal/extent_map.h"
#include "osd/store/transaction.h"

namespace cairn::store {

struct Onode {
  uint64_t nid = 0;
  uint64_t size = 0;
  AttrMap xattrs;
  ExtentMap extents;
  // How the extent map is stored now: inline, or in the shards listed (each a key
  // that exists). A transaction's copy keeps these until the store writes it.
  bool sharded = false;
  std::vector<uint32_t> stored_shards;

  static bool wants_shards(uint64_t size) { return size > kShardBlocks * kBlockSize; }

  // A sharded onode decodes without its extents: the store reads the shards.
  void encode(Encoder& e) const;
  void decode(Decoder& d);
  // The extents lie within the object's blocks.
  bool extents_fit() const;
  // Approximate memory footprint, for the cache's budget.
  size_t memory_bytes() const;
};

using OnodeRef = std::shared_ptr<const Onode>;

}  // namespace cairn::store
