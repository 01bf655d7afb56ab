// A deterministic random workload for crash tests: transaction i depends only on
// (seed, i), and every transaction is valid whatever state it meets (each op
// touches its object first), so the writer process and the checker's MemStore
// model apply exactly the same sequence.
#pragma once

#include <cstdint>

#include "osd/store/object_store.h"

namespace cairn::store::testing {

inline constexpr int kWorkloadObjects = 12;
inline const CollectionId kWorkloadColl{7, 0x3};
// The object whose omap key "seq" records the last transaction applied.
ObjectId workload_meta();
ObjectId workload_object(int n);
Transaction make_workload_txn(uint64_t seed, uint64_t i);

}  // namespace cairn::store::testing
