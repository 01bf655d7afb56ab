// How each ObjectStore under test is made (and remade, to test remount).
#pragma once

#include <memory>

#include "osd/store/mem_store.h"
#include "store_test_util.h"

namespace cairn::store {

struct MemStoreFactory {
  static constexpr bool kDurable = false;
  std::unique_ptr<ObjectStore> open(bool /*fresh*/) { return std::make_unique<MemStore>(); }
};

}  // namespace cairn::store
