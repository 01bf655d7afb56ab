// ExtentMap: where an object's 4 KiB logical blocks live on the device, with the
// crc32c of each block's contents (verified on every read).
//
// An extent maps logical blocks [lblock, lblock + n) to device blocks
// [dev_block, dev_block + n); crcs[i] is the crc32c of logical block lblock + i.
// Extents never overlap. Unmapped blocks are holes and read as zeros.
//
// Shards: a large object's map is stored in pieces of kShardBlocks logical blocks
// each (an extent crossing a shard's edge is cut there when encoded and joined
// again when decoded), so a small write re-encodes and rewrites only the shards it
// changed: the map remembers which (dirty_shards) until clear_dirty().
//
// In memory the map is kept per shard too, each shard's extents cut at its
// edges and shared between copies until one changes it: copying a large map (a
// transaction's private copy of an onode) costs one pointer per shard, and a
// write touches only its shards. extents() joins the pieces again.
//
// Thread-safety: a value, owned by its Onode (immutable once published); copies
// share shards read-only (a shared shard is copied before it changes).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "common/encoding.h"

namespace cairn::store {

inline constexpr uint64_t kBlockSize = 4096;
// Logical blocks per extent-map shard: 256 KiB of object, a 276-byte shard when
// it is one extent, under 1.5 KiB when every block is an extent of its own.
inline constexpr uint64_t kShardBlocks = 64;

struct DevExtent {
  uint64_t block = 0;  // first device block
  uint64_t count = 0;  // blocks
};

struct BlockRef {
  uint64_t dev_block = 0;
  uint32_t crc = 0;
};

class ExtentMap {
 public:
  struct Extent {
    uint64_t dev_block = 0;
    std::vector<uint32_t> crcs;  // one per block; size() is the extent's length
  };

  std::optional<BlockRef> lookup(uint64_t lblock) const;
  // Unmaps [begin, end) and returns the device blocks that held them.
  std::vector<DevExtent> punch(uint64_t begin, uint64_t end);
  // Maps [lblock, lblock + crcs.size()) to dev_block...; the range must be unmapped.
  void insert(uint64_t lblock, uint64_t dev_block, std::vector<uint32_t> crcs);
  // Replaces the checksum of a mapped block (a deferred overwrite in place).
  bool set_crc(uint64_t lblock, uint32_t crc);

  // Every extent in logical order, pieces that continue one another across a
  // shard's edge joined into one (a walk of the whole map: not for the write path).
  std::vector<std::pair<uint64_t, Extent>> extents() const;
  // The first logical block past the last mapped one (0 when empty).
  uint64_t end_block() const;
  uint64_t mapped_blocks() const;
  bool empty() const { return shards_.empty(); }
  // Approximate heap bytes of the map (for the onode cache's budget); O(shards).
  size_t memory_bytes() const;

  void encode(Encoder& e) const;
  // Fails the decoder on overlapping, empty or overflowing extents.
  void decode(Decoder& d);

  // The shards that hold a mapped block, ascending.
  std::vector<uint32_t> shards() const;
  bool maps_any_in_shard(uint32_t shard) const { return shards_.find(shard) < shards_.size(); }
  // The part of the map inside `shard`'s blocks (possibly no extents).
  void encode_shard(uint32_t shard, Encoder& e) const;
  // Adds a shard's extents. Shards must come in ascending order; fails the
  // decoder on an extent outside the shard or overlapping what is there.
  void decode_shard(uint32_t shard, Decoder& d);
  // Shards changed by punch, insert or set_crc since the last clear_dirty().
  const std::set<uint32_t>& dirty_shards() const { return dirty_; }
  void clear_dirty() { dirty_.clear(); }

 private:
  // One shard's extents, cut at its edges; key: first logical block. Shared
  // between copies of the map (a transaction's private copy of an onode shares
  // every shard it does not change) and copied on first change.
  struct Shard {
    std::map<uint64_t, Extent> m;
    uint64_t blocks = 0;  // mapped blocks
  };
  using ShardPtr = std::shared_ptr<const Shard>;
  // Shard number -> shard, sorted: the numbers in one array, the shards in
  // another (index-based), replacing a std::map. Against one array of (number,
  // shard) pairs it measured no faster (extent_map_bench: a cold lookup's misses
  // are in the shard and its extent, not here).
  class ShardIndex {
   public:
    size_t size() const { return keys_.size(); }
    bool empty() const { return keys_.empty(); }
    uint32_t key(size_t i) const { return keys_[i]; }
    const Shard& shard(size_t i) const { return *vals_[i]; }
    ShardPtr& ptr(size_t i) { return vals_[i]; }
    // The first position whose key is >= k (size() if none).
    size_t lower(uint32_t k) const {
      return static_cast<size_t>(std::lower_bound(keys_.begin(), keys_.end(), k) - keys_.begin());
    }
    // The position of k, or size().
    size_t find(uint32_t k) const {
      size_t i = lower(k);
      return i < keys_.size() && keys_[i] == k ? i : keys_.size();
    }
    // The position of k, inserted (with a null shard) if absent.
    size_t find_or_insert(uint32_t k) {
      size_t i = lower(k);
      if (i == keys_.size() || keys_[i] != k) {
        keys_.insert(keys_.begin() + static_cast<long>(i), k);
        vals_.insert(vals_.begin() + static_cast<long>(i), nullptr);
      }
      return i;
    }
    void erase_at(size_t i) {
      keys_.erase(keys_.begin() + static_cast<long>(i));
      vals_.erase(vals_.begin() + static_cast<long>(i));
    }
    void clear() {
      keys_.clear();
      vals_.clear();
    }

   private:
    std::vector<uint32_t> keys_;
    std::vector<ShardPtr> vals_;
  };
  // The shard for writing: a private copy if another map shares it; created if absent.
  Shard& mut(uint32_t shard);
  void drop_if_empty(uint32_t shard);
  // Ensures no extent of the shard straddles `lblock` (splits the one that does).
  static void split_at(Shard& sh, uint64_t lblock);
  void mark_dirty(uint64_t lblock, uint64_t count);
  // insert() without marking, cut at shard edges; each piece merges with the
  // previous extent of its shard when contiguous.
  void join(uint64_t lblock, uint64_t dev_block, std::vector<uint32_t> crcs);
  ShardIndex shards_;  // never holds an empty shard
  std::set<uint32_t> dirty_;
};

}  // namespace cairn::store
