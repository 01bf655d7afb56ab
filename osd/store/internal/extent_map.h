// ExtentMap: where an object's 4 KiB logical blocks live on the device, with the
// crc32c of each block's contents (verified on every read).
//
// An extent maps logical blocks [lblock, lblock + n) to device blocks
// [dev_block, dev_block + n); crcs[i] is the crc32c of logical block lblock + i.
// Extents never overlap. Unmapped blocks are holes and read as zeros.
//
// Thread-safety: a value, owned by its Onode (immutable once published).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "common/encoding.h"

namespace cairn::store {

inline constexpr uint64_t kBlockSize = 4096;

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

  const std::map<uint64_t, Extent>& extents() const { return m_; }
  uint64_t mapped_blocks() const;
  bool empty() const { return m_.empty(); }

  void encode(Encoder& e) const;
  // Fails the decoder on overlapping, empty or overflowing extents.
  void decode(Decoder& d);

 private:
  // Ensures no extent straddles `lblock` (splits the one that does).
  void split_at(uint64_t lblock);
  std::map<uint64_t, Extent> m_;  // key: first logical block
};

}  // namespace cairn::store
