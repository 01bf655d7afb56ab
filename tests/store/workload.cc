#include "workload.h"

#include <string>

#include "common/env.h"

namespace cairn::store::testing {

namespace {
BufferList bytes(SeededRandom& r, size_t len) {
  std::string s(len, '\0');
  uint64_t x = r.next_u64();
  for (size_t i = 0; i < len; ++i) s[i] = static_cast<char>((x >> (8 * (i % 8))) + i / 8);
  return BufferList::copy_of(s);
}
}  // namespace

ObjectId workload_meta() { return ObjectId{0xffffffff, "", "meta", kHeadSnap}; }
ObjectId workload_object(int n) {
  return ObjectId{static_cast<uint32_t>(n * 0x9e3779b9u), "", "obj" + std::to_string(n), kHeadSnap};
}

Transaction make_workload_txn(uint64_t seed, uint64_t i) {
  SeededRandom r(seed * 1000003 + i);
  Transaction t;
  const CollectionId& c = kWorkloadColl;
  int nops = 1 + static_cast<int>(r.uniform(3));
  for (int k = 0; k < nops; ++k) {
    ObjectId o = workload_object(static_cast<int>(r.uniform(kWorkloadObjects)));
    t.touch(c, o);
    switch (r.uniform(10)) {
      case 0:
      case 1: t.write(c, o, r.uniform(256 * 1024), bytes(r, 1 + r.uniform(8000))); break;       // small
      case 2: t.write(c, o, r.uniform(64) * 4096, bytes(r, 4096 * (1 + r.uniform(4)))); break;  // aligned
      case 3: t.write(c, o, r.uniform(128 * 1024), bytes(r, 64 * 1024 + r.uniform(192 * 1024))); break;
      case 4: t.zero(c, o, r.uniform(200 * 1024), r.uniform(64 * 1024)); break;
      case 5: t.truncate(c, o, r.uniform(300 * 1024)); break;
      case 6: t.setattrs(c, o, {{"a" + std::to_string(r.uniform(4)), bytes(r, r.uniform(100))}}); break;
      case 7:
        t.omap_setkeys(c, o, {{"k" + std::to_string(r.uniform(50)), bytes(r, r.uniform(200))}});
        if (r.chance(0.3)) t.omap_rmrange(c, o, "k1", "k3");
        if (r.chance(0.2)) t.omap_setheader(c, o, bytes(r, 30));
        break;
      case 8: t.remove(c, o); break;
      case 9: {
        ObjectId dst = workload_object(static_cast<int>(r.uniform(kWorkloadObjects)));
        if (r.chance(0.15)) t.clone(c, o, dst);
        break;
      }
    }
  }
  t.touch(c, workload_meta())
      .omap_setkeys(c, workload_meta(), {{"seq", BufferList::copy_of(std::to_string(i))}});
  return t;
}

}  // namespace cairn::store::testing
