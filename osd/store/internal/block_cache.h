// A bounded LRU cache of 4 KiB device blocks for small client reads.
//
// Reads go to the device with O_DIRECT, so without this every small read is a
// device round trip even for data read a moment ago (BlueStore keeps a buffer
// cache for the same reason). Entries are keyed by device block and carry the
// crc32c their contents were verified against. A lookup names the crc the
// reader's onode expects for that block, and only an entry with that crc is a
// hit: a block freed and written again, or overwritten in place by a deferred
// write, has a new crc in every onode that points to it, so a stale entry can
// only miss (and is then replaced by the verified device read). Freed blocks are
// also dropped, so that stale entries do not hold the space.
//
// All memory is one arena of `bytes / 4 KiB` slots, allocated up front (pages
// become resident as slots fill). Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace cairn::store {

class BlockCache {
 public:
  explicit BlockCache(uint64_t bytes);
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // Copies the contents of `dev_block` into `dst` (4 KiB) if they are cached
  // with crc `crc`.
  bool get(uint64_t dev_block, uint32_t crc, char* dst);
  // Caches 4 KiB from `src`, verified against `crc`, as `dev_block`'s contents.
  void put(uint64_t dev_block, uint32_t crc, const char* src);
  // Drops blocks [dev_block, dev_block + count).
  void erase(uint64_t dev_block, uint64_t count);

  uint64_t hits() const;
  uint64_t misses() const;
  uint64_t capacity_blocks() const { return slots_.size(); }

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  struct Slot {
    uint64_t block = 0;
    uint32_t crc = 0;
    uint32_t prev = kNil;  // towards the most recently used
    uint32_t next = kNil;  // towards the least recently used
  };
  void unlink(uint32_t s);
  void push_front(uint32_t s);
  char* data(uint32_t s) { return arena_.get() + static_cast<size_t>(s) * kBlock; }

  static constexpr size_t kBlock = 4096;
  mutable std::mutex mu_;
  std::unique_ptr<char[]> arena_;
  std::vector<Slot> slots_;
  std::unordered_map<uint64_t, uint32_t> index_;  // dev block -> slot
  std::vector<uint32_t> free_;                    // slots holding nothing
  uint32_t head_ = kNil, tail_ = kNil;            // most and least recently used
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace cairn::store
