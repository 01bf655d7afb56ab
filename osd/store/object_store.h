// ObjectStore: the local store of one OSD. Collections (one per PG) hold objects;
// an object has data (a byte array), xattrs (small named values, read with the
// object) and an omap (a sorted key/value map, read by key or by range).
//
// Writes: queue_transaction() takes a Transaction (osd/store/transaction.h) and
// returns at once; on_commit(status) fires exactly once, when the transaction is
// durable (ok) or was rejected as a whole (an error: nothing of it applied).
// Many transactions may be in flight; they commit in the order they were queued
// (queue_transaction calls are serialised by the store). `ch` names the ordering
// channel (the PG); today every channel commits in one global order.
//
// Reads see committed transactions only: a read issued after on_commit fired sees
// the transaction; one issued while it is in flight sees the state before it.
// Callers (the PG) order reads of an object against writes to that same object.
//
// Threads: every method may be called from any thread. on_commit runs on a store
// thread (BlockStore: its commit thread; MemStore: inline, before
// queue_transaction returns). It must be short and must not call back into the
// store: post the continuation to your own executor.
//
// Errors: kNotFound (collection/object/attr absent), kExists, kNoSpace (device
// full: nothing of the transaction was written), kIo (media or checksum error:
// the data is unreadable here, repair from a replica), kInvalid (bad argument),
// kBusy (removing a non-empty collection), kCorrupt (metadata failed to decode).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/buffer.h"
#include "common/status.h"
#include "osd/store/object_id.h"
#include "osd/store/transaction.h"

namespace cairn::store {

struct ObjectStat {
  uint64_t size = 0;
};

struct StoreStatfs {
  uint64_t total = 0;      // bytes usable for data
  uint64_t used = 0;       // bytes allocated to objects
  uint64_t available = 0;  // bytes free for new data
};

// One page of a listing: `next` is where the following page starts (absent at the end).
struct ObjectPage {
  std::vector<ObjectId> objects;
  std::optional<ObjectId> next;
};

struct OmapPage {
  std::vector<std::pair<std::string, BufferList>> entries;
  bool more = false;  // keys remain after the last entry
};

class ObjectStore {
 public:
  using CommitCallback = std::function<void(Status)>;
  virtual ~ObjectStore() = default;

  // ---- writes ----
  virtual void queue_transaction(const CollectionId& ch, Transaction txn, CommitCallback on_commit) = 0;
  // Blocks until every transaction queued before the call has committed.
  virtual Status flush() = 0;

  // ---- collections ----
  virtual bool collection_exists(const CollectionId& cid) = 0;
  virtual Result<std::vector<CollectionId>> list_collections() = 0;
  // Objects of `cid` in sort order, starting at `start` (inclusive), at most `max`.
  virtual Result<ObjectPage> list_objects(const CollectionId& cid, const ObjectId& start, size_t max) = 0;

  // ---- object reads ----
  virtual Result<ObjectStat> stat(const CollectionId& cid, const ObjectId& oid) = 0;
  // Bytes [off, off+len) clipped to the object's size; len 0 reads to the end.
  virtual Result<BufferList> read(const CollectionId& cid, const ObjectId& oid, uint64_t off,
                                  uint64_t len) = 0;
  virtual Result<BufferList> getattr(const CollectionId& cid, const ObjectId& oid,
                                     const std::string& name) = 0;
  virtual Result<AttrMap> getattrs(const CollectionId& cid, const ObjectId& oid) = 0;

  // ---- omap reads ----
  virtual Result<BufferList> omap_get_header(const CollectionId& cid, const ObjectId& oid) = 0;
  // The values of those `keys` that exist.
  virtual Result<AttrMap> omap_get_values(const CollectionId& cid, const ObjectId& oid,
                                          const std::vector<std::string>& keys) = 0;
  // Entries with key >= start, in key order, at most `max`.
  virtual Result<OmapPage> omap_list(const CollectionId& cid, const ObjectId& oid, const std::string& start,
                                     size_t max) = 0;

  virtual Result<StoreStatfs> statfs() = 0;
};

// Queues `txn` and waits for its commit: for tests and tools, never on a shard thread.
Status apply_transaction(ObjectStore& store, const CollectionId& ch, Transaction txn);

}  // namespace cairn::store
