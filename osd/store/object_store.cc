#include "osd/store/object_store.h"

#include <future>

namespace cairn::store {

Status apply_transaction(ObjectStore& store, const CollectionId& ch, Transaction txn) {
  auto done = std::make_shared<std::promise<Status>>();
  std::future<Status> f = done->get_future();
  store.queue_transaction(ch, std::move(txn), [done](Status st) { done->set_value(std::move(st)); });
  return f.get();
}

}  // namespace cairn::store
