// MemStore: an ObjectStore in memory, for unit tests of the layers above (PG,
// OSD) and as the reference the BlockStore is tested against (tests/store runs
// one behavioural suite on both).
//
// Nothing is durable: destroying the store loses everything. on_commit runs
// inline, before queue_transaction returns.
//
// Thread-safety: every method may be called from any thread; one mutex (mu_)
// guards all state. Objects are immutable once published (copy on write), so a
// transaction is staged on the side and published whole, or not at all.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "osd/store/object_store.h"

namespace cairn::store {

class MemStore final : public ObjectStore {
 public:
  MemStore() = default;

  void queue_transaction(const CollectionId& ch, Transaction txn, CommitCallback on_commit) override;
  Status flush() override { return ok_status(); }

  bool collection_exists(const CollectionId& cid) override;
  Result<std::vector<CollectionId>> list_collections() override;
  Result<ObjectPage> list_objects(const CollectionId& cid, const ObjectId& start, size_t max) override;

  Result<ObjectStat> stat(const CollectionId& cid, const ObjectId& oid) override;
  Result<BufferList> read(const CollectionId& cid, const ObjectId& oid, uint64_t off, uint64_t len) override;
  Result<BufferList> getattr(const CollectionId& cid, const ObjectId& oid, const std::string& name) override;
  Result<AttrMap> getattrs(const CollectionId& cid, const ObjectId& oid) override;

  Result<BufferList> omap_get_header(const CollectionId& cid, const ObjectId& oid) override;
  Result<AttrMap> omap_get_values(const CollectionId& cid, const ObjectId& oid,
                                  const std::vector<std::string>& keys) override;
  Result<OmapPage> omap_list(const CollectionId& cid, const ObjectId& oid, const std::string& start,
                             size_t max) override;

  Result<StoreStatfs> statfs() override;

  struct Object {
    std::string data;
    AttrMap xattrs;
    AttrMap omap;
    BufferList omap_header;
  };
  using ObjectRef = std::shared_ptr<const Object>;
  using Collection = std::map<ObjectId, ObjectRef>;

 private:
  class Staging;
  Result<ObjectRef> find(const CollectionId& cid, const ObjectId& oid);  // mu_ held

  std::mutex mu_;
  std::map<CollectionId, Collection> colls_;  // guarded by mu_
};

}  // namespace cairn::store
