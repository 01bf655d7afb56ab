// Transaction: an ordered list of mutations applied atomically by an ObjectStore.
//
// After a crash a queued transaction is either wholly present or wholly absent.
// Ops are checked while the store prepares the transaction; the first failing op
// (writing to a missing collection, removing a missing object, ...) fails the
// whole transaction with that op's status and nothing of it is applied.
//
// Op semantics (ObjectStore implementations must agree; tests/store checks them):
//   create_collection  kExists if present.      remove_collection  kBusy unless empty.
//   touch              creates the object empty if absent.
//   write(off, data)   creates the object if absent; extends size to off+len.
//   zero(off, len)     creates if absent; bytes read as 0; extends size like write.
//                      (A write or zero of length 0 creates the object, nothing more.)
//   truncate(size)     creates if absent; shrinking drops data, growing reads as 0.
//   remove             kNotFound if absent; drops data, xattrs and omap.
//   setattrs/rmattr    object must exist (rmattr of a missing name is kNotFound).
//   omap_*             object must exist. rm_range removes keys in [first, last).
//   clone(src -> dst)  dst becomes a full copy (data, xattrs, omap) of src; replaces dst.
//   move(src -> dst)   renames src to dst (any collection); kExists if dst exists.
//
// Thread-safety: a value; build it on one thread, then hand it to queue_transaction.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/buffer.h"
#include "common/encoding.h"
#include "osd/store/object_id.h"

namespace cairn::store {

using AttrMap = std::map<std::string, BufferList>;

class Transaction {
 public:
  enum class OpType : uint8_t {
    kCreateCollection = 1,
    kRemoveCollection = 2,
    kTouch = 3,
    kWrite = 4,
    kZero = 5,
    kTruncate = 6,
    kRemove = 7,
    kSetAttrs = 8,
    kRmAttr = 9,
    kOmapSetKeys = 10,
    kOmapRmKeys = 11,
    kOmapRmRange = 12,
    kOmapClear = 13,
    kOmapSetHeader = 14,
    kClone = 15,
    kMove = 16,
  };

  struct Op {
    OpType type = OpType::kTouch;
    CollectionId cid;
    ObjectId oid;
    uint64_t off = 0;               // write, zero; truncate: the new size
    uint64_t len = 0;               // zero
    BufferList data;                // write; omap header
    AttrMap kvs;                    // setattrs, omap set keys
    std::vector<std::string> keys;  // rmattr (one), omap rm keys; rm range: [first, last)
    CollectionId dst_cid;           // clone, move
    ObjectId dst_oid;

    void encode(Encoder& e) const;
    void decode(Decoder& d);
  };

  Transaction& create_collection(const CollectionId& cid);
  Transaction& remove_collection(const CollectionId& cid);
  Transaction& touch(const CollectionId& cid, const ObjectId& oid);
  Transaction& write(const CollectionId& cid, const ObjectId& oid, uint64_t off, BufferList data);
  Transaction& zero(const CollectionId& cid, const ObjectId& oid, uint64_t off, uint64_t len);
  Transaction& truncate(const CollectionId& cid, const ObjectId& oid, uint64_t size);
  Transaction& remove(const CollectionId& cid, const ObjectId& oid);
  Transaction& setattrs(const CollectionId& cid, const ObjectId& oid, AttrMap attrs);
  Transaction& rmattr(const CollectionId& cid, const ObjectId& oid, std::string name);
  Transaction& omap_setkeys(const CollectionId& cid, const ObjectId& oid, AttrMap kvs);
  Transaction& omap_rmkeys(const CollectionId& cid, const ObjectId& oid, std::vector<std::string> keys);
  Transaction& omap_rmrange(const CollectionId& cid, const ObjectId& oid, std::string first,
                            std::string last);
  Transaction& omap_clear(const CollectionId& cid, const ObjectId& oid);
  Transaction& omap_setheader(const CollectionId& cid, const ObjectId& oid, BufferList header);
  Transaction& clone(const CollectionId& cid, const ObjectId& src, const ObjectId& dst);
  Transaction& move(const CollectionId& src_cid, const ObjectId& src, const CollectionId& dst_cid,
                    const ObjectId& dst);

  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  // Bytes of data carried (writes, omap values): for throttling and batching.
  uint64_t data_bytes() const { return data_bytes_; }

  void encode(Encoder& e) const;
  void decode(Decoder& d);

 private:
  Op& add(OpType type, const CollectionId& cid, const ObjectId& oid);
  std::vector<Op> ops_;
  uint64_t data_bytes_ = 0;
};

}  // namespace cairn::store
