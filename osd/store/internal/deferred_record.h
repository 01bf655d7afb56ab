// DeferredRecord: the value of a 'D' key. A small overwrite inside allocated
// blocks is logged here, whole 4 KiB blocks at a time, in the same RocksDB batch
// as the onode that carries the new checksums; it is applied in place after the
// commit and replayed at mount until its deletion is durable.
//
// Encoding (versioned struct): v1 { map<u64 device block, bytes (4096)> blocks }
#pragma once

#include <cstdint>
#include <map>

#include "common/encoding.h"

namespace cairn::store {

struct DeferredRecord {
  std::map<uint64_t, BufferList> blocks;

  void encode(Encoder& e) const {
    auto m = e.begin_struct(1, 1);
    e.put(blocks);
    e.end_struct(m);
  }
  void decode(Decoder& d) {
    auto s = d.begin_struct(1, "DeferredRecord");
    d.get(blocks);
    d.end_struct(s);
  }
};

}  // namespace cairn::store
