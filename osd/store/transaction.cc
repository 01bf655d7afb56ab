#include "osd/store/transaction.h"

#include <utility>

namespace cairn::store {

Transaction::Op& Transaction::add(OpType type, const CollectionId& cid, const ObjectId& oid) {
  Op& op = ops_.emplace_back();
  op.type = type;
  op.cid = cid;
  op.oid = oid;
  return op;
}

Transaction& Transaction::create_collection(const CollectionId& cid) {
  add(OpType::kCreateCollection, cid, {});
  return *this;
}
Transaction& Transaction::remove_collection(const CollectionId& cid) {
  add(OpType::kRemoveCollection, cid, {});
  return *this;
}
Transaction& Transaction::touch(const CollectionId& cid, const ObjectId& oid) {
  add(OpType::kTouch, cid, oid);
  return *this;
}
Transaction& Transaction::write(const CollectionId& cid, const ObjectId& oid, uint64_t off, BufferList data) {
  Op& op = add(OpType::kWrite, cid, oid);
  op.off = off;
  data_bytes_ += data.size();
  op.data = std::move(data);
  return *this;
}
Transaction& Transaction::zero(const CollectionId& cid, const ObjectId& oid, uint64_t off, uint64_t len) {
  Op& op = add(OpType::kZero, cid, oid);
  op.off = off;
  op.len = len;
  return *this;
}
Transaction& Transaction::truncate(const CollectionId& cid, const ObjectId& oid, uint64_t size) {
  add(OpType::kTruncate, cid, oid).off = size;
  return *this;
}
Transaction& Transaction::remove(const CollectionId& cid, const ObjectId& oid) {
  add(OpType::kRemove, cid, oid);
  return *this;
}
Transaction& Transaction::setattrs(const CollectionId& cid, const ObjectId& oid, AttrMap attrs) {
  Op& op = add(OpType::kSetAttrs, cid, oid);
  for (auto& [k, v] : attrs) data_bytes_ += k.size() + v.size();
  op.kvs = std::move(attrs);
  return *this;
}
Transaction& Transaction::rmattr(const CollectionId& cid, const ObjectId& oid, std::string name) {
  add(OpType::kRmAttr, cid, oid).keys.push_back(std::move(name));
  return *this;
}
Transaction& Transaction::omap_setkeys(const CollectionId& cid, const ObjectId& oid, AttrMap kvs) {
  Op& op = add(OpType::kOmapSetKeys, cid, oid);
  for (auto& [k, v] : kvs) data_bytes_ += k.size() + v.size();
  op.kvs = std::move(kvs);
  return *this;
}
Transaction& Transaction::omap_rmkeys(const CollectionId& cid, const ObjectId& oid,
                                      std::vector<std::string> keys) {
  add(OpType::kOmapRmKeys, cid, oid).keys = std::move(keys);
  return *this;
}
Transaction& Transaction::omap_rmrange(const CollectionId& cid, const ObjectId& oid, std::string first,
                                       std::string last) {
  Op& op = add(OpType::kOmapRmRange, cid, oid);
  op.keys.push_back(std::move(first));
  op.keys.push_back(std::move(last));
  return *this;
}
Transaction& Transaction::omap_clear(const CollectionId& cid, const ObjectId& oid) {
  add(OpType::kOmapClear, cid, oid);
  return *this;
}
Transaction& Transaction::omap_setheader(const CollectionId& cid, const ObjectId& oid, BufferList header) {
  Op& op = add(OpType::kOmapSetHeader, cid, oid);
  data_bytes_ += header.size();
  op.data = std::move(header);
  return *this;
}
Transaction& Transaction::clone(const CollectionId& cid, const ObjectId& src, const ObjectId& dst) {
  Op& op = add(OpType::kClone, cid, src);
  op.dst_cid = cid;
  op.dst_oid = dst;
  return *this;
}
Transaction& Transaction::move(const CollectionId& src_cid, const ObjectId& src, const CollectionId& dst_cid,
                               const ObjectId& dst) {
  Op& op = add(OpType::kMove, src_cid, src);
  op.dst_cid = dst_cid;
  op.dst_oid = dst;
  return *this;
}

// v2 pads the bytes before a large `data` so that it starts at a multiple of 4 KiB
// from the start of the encoding: a replica that receives an encoded transaction
// as a message's data segment (a page-aligned buffer) hands the payload to the
// store's O_DIRECT writes without copying it. Small data (copied when decoded
// anyway) keeps the v1 layout.
void Transaction::Op::encode(Encoder& e) const {
  bool pad = data.size() >= Decoder::kShareMinBytes;
  auto m = e.begin_struct(pad ? 2 : 1, pad ? 2 : 1);
  e.put(type);
  e.put(cid);
  e.put(oid);
  e.u64(off);
  e.u64(len);
  if (pad) {
    // u16 count, that many zero bytes, then the u32 length of `data`.
    size_t at = e.out().size() + 2 + 4;
    uint16_t n = static_cast<uint16_t>((kDirectIoAlign - at % kDirectIoAlign) % kDirectIoAlign);
    e.u16(n);
    static const char kZeros[kDirectIoAlign] = {};
    e.raw(kZeros, n);
  }
  e.put(data);
  e.put(kvs);
  e.put(keys);
  e.put(dst_cid);
  e.put(dst_oid);
  e.end_struct(m);
}

void Transaction::Op::decode(Decoder& d) {
  auto s = d.begin_struct(2, "Transaction::Op");
  d.get(type);
  d.get(cid);
  d.get(oid);
  off = d.u64();
  len = d.u64();
  if (s.version >= 2) {
    uint16_t n = d.u16();
    if (n >= kDirectIoAlign) d.fail("transaction op: padding beyond a block");
    (void)d.raw(n);
  }
  d.get(data);
  d.get(kvs);
  d.get(keys);
  d.get(dst_cid);
  d.get(dst_oid);
  d.end_struct(s);
  if (type < OpType::kCreateCollection || type > OpType::kMove) d.fail("unknown transaction op");
}

void Transaction::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(ops_);
  e.end_struct(m);
}

void Transaction::decode(Decoder& d) {
  auto s = d.begin_struct(1, "Transaction");
  d.get(ops_);
  d.end_struct(s);
  data_bytes_ = 0;
  for (const Op& op : ops_) {
    data_bytes_ += op.data.size();
    for (auto& [k, v] : op.kvs) data_bytes_ += k.size() + v.size();
  }
}

}  // namespace cairn::store
