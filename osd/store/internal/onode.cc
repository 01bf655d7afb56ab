#include "osd/store/internal/onode.h"

namespace cairn::store {

void Onode::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.u64(nid);
  e.u64(size);
  e.put(xattrs);
  e.put(extents);
  e.end_struct(m);
}

void Onode::decode(Decoder& d) {
  auto s = d.begin_struct(1, "Onode");
  nid = d.u64();
  size = d.u64();
  d.get(xattrs);
  d.get(extents);
  d.end_struct(s);
  // The extents must lie within the object's blocks (a hole-free tail is fine).
  if (!d.failed() && !extents.empty()) {
    const auto& last = *extents.extents().rbegin();
    if (last.first + last.second.crcs.size() > (size + kBlockSize - 1) / kBlockSize) {
      d.fail("onode: extent beyond object size");
    }
  }
}

size_t Onode::memory_bytes() const {
  size_t n = sizeof(Onode) + 64;
  for (const auto& [k, v] : xattrs) n += k.size() + v.size() + 64;
  for (const auto& [l, e] : extents.extents()) n += 64 + e.crcs.size() * 4;
  return n;
}

}  // namespace cairn::store
