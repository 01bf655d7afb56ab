// How each ObjectStore under test is made (and remade, to test remount).
#pragma once

#include <memory>

#include "osd/store/block_store.h"
#include "osd/store/mem_store.h"
#include "store_test_util.h"

namespace cairn::store {

struct MemStoreFactory {
  static constexpr bool kDurable = false;
  std::unique_ptr<ObjectStore> open(bool /*fresh*/) { return std::make_unique<MemStore>(); }
};

// A 64 MiB sparse block file in a fresh temporary directory.
template <bool kDsync>
struct BlockStoreFactoryT {
  static constexpr bool kDurable = true;
  testing::TempDir dir;
  BlockStoreOptions options() const {
    BlockStoreOptions o;
    o.path = dir.path();
    o.device_bytes = 64ull << 20;
    o.cache_bytes = 16ull << 20;
    o.dsync_data_writes = kDsync;
    return o;
  }
  std::unique_ptr<ObjectStore> open(bool fresh) {
    if (fresh && !BlockStore::mkfs(options()).ok()) return nullptr;
    auto s = BlockStore::open(options());
    if (!s.ok()) return nullptr;
    return std::move(*s);
  }
};
using BlockStoreFactory = BlockStoreFactoryT<false>;
using BlockStoreDsyncFactory = BlockStoreFactoryT<true>;

}  // namespace cairn::store
