// Allocator: free space of the BlockStore's device in 4 KiB blocks
// (min_alloc_size = 4 KiB), kept as an extent tree of free runs.
//
// It holds only what may be handed out now: blocks freed by a transaction come
// back (release) only after that transaction is durable, so a crash can never
// leave committed metadata pointing at blocks that a newer, unacknowledged write
// has already overwritten.
//
// Thread-safety: none; the BlockStore guards it with its state mutex.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "common/status.h"
#include "osd/store/internal/extent_map.h"

namespace cairn::store {

class Allocator {
 public:
  explicit Allocator(uint64_t total_blocks) : total_(total_blocks) {}

  // `count` blocks as few extents as possible, or kNoSpace (then nothing is taken).
  Result<std::vector<DevExtent>> allocate(uint64_t count);
  // Returns blocks to the free set (they must not be free already).
  void release(const DevExtent& e);
  // Takes the free blocks inside `range` out of the free set (the rest of the
  // range is in use and stays so); the caller releases them again. The cursor
  // does not move.
  std::vector<DevExtent> take_free_in(const DevExtent& range);
  // Where the next allocation starts looking (next-fit).
  uint64_t cursor() const { return cursor_; }
  uint64_t free_blocks() const { return free_blocks_; }
  uint64_t total_blocks() const { return total_; }
  const std::map<uint64_t, uint64_t>& free_runs() const { return free_; }

 private:
  void take(std::map<uint64_t, uint64_t>::iterator it, uint64_t count, std::vector<DevExtent>& out);
  uint64_t total_;
  uint64_t free_blocks_ = 0;
  uint64_t cursor_ = 0;                // next-fit: keeps sequential writes sequential on disk
  std::map<uint64_t, uint64_t> free_;  // first block -> count
};

// The persisted form of the allocation state: one bit per block (1 = in use),
// stored in RocksDB in groups of kBlocksPerGroup bits under 'B' keys. Updated
// when a transaction is prepared (set on allocate, cleared on free) and written
// into that transaction's batch, so the bitmap on disk always matches the
// onodes on disk.
// 1024 blocks per group: a 128-byte value per 4 MiB of device keeps a
// transaction's bitmap Puts small, and a 1 TiB device has 256 Ki keys to load.
inline constexpr uint64_t kBlocksPerGroup = 1024;
inline constexpr size_t kGroupBytes = kBlocksPerGroup / 8;

class AllocBitmap {
 public:
  explicit AllocBitmap(uint64_t total_blocks);
  void set(const DevExtent& e, bool used);
  bool test(uint64_t block) const { return (words_[block / 64] >> (block % 64)) & 1; }
  uint64_t used_blocks() const { return used_; }
  uint64_t total_blocks() const { return total_; }
  uint64_t groups() const { return (total_ + kBlocksPerGroup - 1) / kBlocksPerGroup; }
  // The kGroupBytes value of one group (little-endian bit order).
  std::string group_value(uint64_t group) const;
  Status load_group(uint64_t group, std::string_view value);
  // Free runs, for building the Allocator at mount.
  std::vector<DevExtent> free_runs() const;

 private:
  uint64_t total_;
  uint64_t used_ = 0;
  std::vector<uint64_t> words_;
};

}  // namespace cairn::store
