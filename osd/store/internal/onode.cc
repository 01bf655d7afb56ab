#include "osd/store/internal/onode.h"

#include <algorithm>

namespace cairn::store {

void Onode::encode(Encoder& e) const {
  auto m = e.begin_struct(2, 2);
  e.u64(nid);
  e.u64(size);
  e.put(xattrs);
  e.boolean(sharded);
  if (sharded) {
    e.put(stored_shards);
  } else {
    e.put(extents);
  }
  e.end_struct(m);
}

void Onode::decode(Decoder& d) {
  auto s = d.begin_struct(2, "Onode");
  nid = d.u64();
  size = d.u64();
  d.get(xattrs);
  sharded = s.version >= 2 && d.boolean();
  stored_shards.clear();
  extents = ExtentMap();
  if (sharded) {
    d.get(stored_shards);
    if (!std::is_sorted(stored_shards.begin(), stored_shards.end()) ||
        std::adjacent_find(stored_shards.begin(), stored_shards.end()) != stored_shards.end()) {
      d.fail("onode: shard list not ascending");
    }
  } else {
    d.get(extents);
  }
  d.end_struct(s);
  if (!d.failed() && !sharded && !extents_fit()) d.fail("onode: extent beyond object size");
}

bool Onode::extents_fit() const {
  if (extents.empty()) return true;
  return extents.end_block() <= (size + kBlockSize - 1) / kBlockSize;
}

size_t Onode::memory_bytes() const {
  size_t n = sizeof(Onode) + 64 + stored_shards.size() * 4;
  for (const auto& [k, v] : xattrs) n += k.size() + v.size() + 64;
  n += extents.memory_bytes();
  return n;
}

}  // namespace cairn::store
