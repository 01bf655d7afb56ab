#include "osd/store/internal/txn_builder.h"

#include <rocksdb/iterator.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "common/checksum.h"
#include "osd/store/internal/deferred_record.h"
#include "osd/store/internal/keys.h"

namespace cairn::store {

namespace {
// Objects are bounded so that block arithmetic never overflows; the OSD caps
// objects far lower (like Ceph's 128 MiB osd_max_object_size).
constexpr uint64_t kMaxObjectBytes = 1ull << 40;

Status missing_collection(const CollectionId& cid) {
  return error(Errc::kNotFound, "collection " + cid.to_string() + " does not exist");
}
Status missing_object(const ObjectId& oid) {
  return error(Errc::kNotFound, "object " + oid.to_string() + " does not exist");
}
static_assert(kBlockSize == kCrcBlock, "remembered payload crcs are per store block");
uint32_t block_crc(const char* p) { return crc32c(0, p, kBlockSize); }
}  // namespace

bool TxnBuilder::coll_exists(const CollectionId& cid) const {
  auto it = colls_.find(cid);
  if (it != colls_.end()) return it->second;
  return s_.latest_collection(cid);
}

Result<OnodeRef> TxnBuilder::get(const std::string& key) {
  auto it = staged_.find(key);
  if (it != staged_.end()) return OnodeRef(it->second);
  return s_.latest_onode(key);
}

Result<Onode*> TxnBuilder::mut(const CollectionId& cid, const ObjectId& oid, bool create) {
  if (!coll_exists(cid)) return missing_collection(cid);
  std::string key = keys::onode_key(cid, oid);
  auto it = staged_.find(key);
  if (it != staged_.end() && it->second) return it->second.get();
  CAIRN_ASSIGN_OR_RETURN(OnodeRef cur, get(key));
  if (!cur && !create) return missing_object(oid);
  std::shared_ptr<Onode> copy;
  if (cur) {
    copy = std::make_shared<Onode>(*cur);
  } else {
    copy = std::make_shared<Onode>();
    copy->nid = s_.next_nid_++;
    nid_used_ = true;
  }
  Onode* p = copy.get();
  staged_[key] = std::move(copy);
  return p;
}

Result<BufferPtr> TxnBuilder::block_content(uint64_t dev_block, uint32_t crc) {
  auto it = written_.find(dev_block);
  if (it != written_.end()) return it->second;
  return s_.latest_block(dev_block, crc);
}

Status TxnBuilder::fill_block(const Onode& o, uint64_t lblock, char* dst) {
  auto ref = o.extents.lookup(lblock);
  if (!ref) {
    std::memset(dst, 0, kBlockSize);
    return ok_status();
  }
  CAIRN_ASSIGN_OR_RETURN(BufferPtr old, block_content(ref->dev_block, ref->crc));
  std::memcpy(dst, old.data(), kBlockSize);
  return ok_status();
}

std::optional<PrebuiltWrite> prebuild_write(const Transaction::Op& op) {
  uint64_t len = op.data.size();
  if (op.type != Transaction::OpType::kWrite || len == 0 || op.off % kBlockSize || len % kBlockSize) {
    return std::nullopt;
  }
  PrebuiltWrite p;
  if (op.data.num_segments() == 1 && op.data.is_aligned()) {
    p.buf = op.data.segments()[0];  // zero-copy: the caller's buffer is already aligned
    // A received payload's block crcs were computed as it arrived: not again.
    // (Smaller writes cannot have any: they skip the pool's lock.)
    if (len >= kPayloadMinBytes && get_block_crcs(p.buf.data(), len / kBlockSize, p.crcs)) return p;
  } else {
    p.buf = BufferPtr::create_aligned(len);
    op.data.copy_out(0, len, p.buf.data());
  }
  p.crcs.resize(len / kBlockSize);
  for (size_t i = 0; i < p.crcs.size(); ++i) p.crcs[i] = block_crc(p.buf.data() + i * kBlockSize);
  return p;
}

Status TxnBuilder::write_deferred(Onode& o, uint64_t b0, const BufferPtr& buf,
                                  const std::vector<uint32_t>& crcs) {
  for (uint64_t i = 0; i < crcs.size(); ++i) {
    BufferPtr blk = buf.slice(i * kBlockSize, kBlockSize);
    auto ref = o.extents.lookup(b0 + i);
    o.extents.set_crc(b0 + i, crcs[i]);
    txn_->deferred[ref->dev_block] = blk;
    written_[ref->dev_block] = blk;
  }
  return ok_status();
}

Status TxnBuilder::write_new(Onode& o, uint64_t b0, const BufferPtr& buf, const std::vector<uint32_t>& crcs) {
  uint64_t nb = crcs.size();
  CAIRN_ASSIGN_OR_RETURN(std::vector<DevExtent> exts, s_.alloc_->allocate(nb));
  allocated_.insert(allocated_.end(), exts.begin(), exts.end());
  std::vector<DevExtent> freed = o.extents.punch(b0, b0 + nb);
  txn_->freed.insert(txn_->freed.end(), freed.begin(), freed.end());
  uint64_t pos = 0;
  for (const DevExtent& e : exts) {
    for (uint64_t j = 0; j < e.count; ++j)
      written_[e.block + j] = buf.slice((pos + j) * kBlockSize, kBlockSize);
    o.extents.insert(b0 + pos, e.block,
                     std::vector<uint32_t>(crcs.begin() + static_cast<long>(pos),
                                           crcs.begin() + static_cast<long>(pos + e.count)));
    txn_->writes.push_back(DataWrite{e.block, e.count, buf.slice(pos * kBlockSize, e.count * kBlockSize)});
    pos += e.count;
  }
  return ok_status();
}

Status TxnBuilder::write_blocks(Onode& o, uint64_t b0, const BufferPtr& buf,
                                const std::vector<uint32_t>& crcs) {
  bool deferred = buf.size() <= s_.opts_.deferred_max_bytes;
  for (uint64_t b = b0; deferred && b < b0 + crcs.size(); ++b) deferred = o.extents.lookup(b).has_value();
  if (deferred) return write_deferred(o, b0, buf, crcs);
  return write_new(o, b0, buf, crcs);
}

Status TxnBuilder::write_range(Onode& o, uint64_t off, const BufferList* src, uint64_t len) {
  if (len == 0) return ok_status();
  uint64_t b0 = off / kBlockSize, b1 = (off + len + kBlockSize - 1) / kBlockSize, nb = b1 - b0;
  BufferPtr buf = BufferPtr::create_aligned(nb * kBlockSize);
  uint64_t head = off - b0 * kBlockSize;
  uint64_t tail = (head + len) % kBlockSize;
  if (head != 0) CAIRN_RETURN_IF_ERROR(fill_block(o, b0, buf.data()));
  if (tail != 0 && (nb > 1 || head == 0)) {
    CAIRN_RETURN_IF_ERROR(fill_block(o, b1 - 1, buf.data() + (nb - 1) * kBlockSize));
  }
  if (src) {
    src->copy_out(0, len, buf.data() + head);
  } else {
    std::memset(buf.data() + head, 0, len);
  }
  std::vector<uint32_t> crcs(nb);
  for (uint64_t i = 0; i < nb; ++i) crcs[i] = block_crc(buf.data() + i * kBlockSize);
  return write_blocks(o, b0, buf, crcs);
}

void TxnBuilder::zero_range(Onode& o, uint64_t off, uint64_t len, Status& st) {
  uint64_t end = off + len;
  uint64_t full_b = (off + kBlockSize - 1) / kBlockSize, full_e = end / kBlockSize;
  if (full_b >= full_e) {
    st = write_range(o, off, nullptr, len);
    return;
  }
  std::vector<DevExtent> freed = o.extents.punch(full_b, full_e);
  txn_->freed.insert(txn_->freed.end(), freed.begin(), freed.end());
  if (off < full_b * kBlockSize) st = write_range(o, off, nullptr, full_b * kBlockSize - off);
  if (st.ok() && end > full_e * kBlockSize)
    st = write_range(o, full_e * kBlockSize, nullptr, end - full_e * kBlockSize);
}

Status TxnBuilder::apply_data(const Transaction::Op& op, const PrebuiltWrite* pre) {
  using T = Transaction::OpType;
  uint64_t len = op.type == T::kWrite ? op.data.size() : op.type == T::kZero ? op.len : 0;
  if (op.off > kMaxObjectBytes || len > kMaxObjectBytes - op.off) {
    return error(Errc::kInvalid, "object would exceed the maximum object size");
  }
  CAIRN_ASSIGN_OR_RETURN(Onode * o, mut(op.cid, op.oid, true));
  Status st;
  if (op.type == T::kWrite) {
    st = pre ? write_blocks(*o, op.off / kBlockSize, pre->buf, pre->crcs)
             : write_range(*o, op.off, &op.data, len);
    if (st.ok() && len > 0) o->size = std::max(o->size, op.off + len);
  } else if (op.type == T::kZero) {
    if (len > 0) zero_range(*o, op.off, len, st);
    if (st.ok() && len > 0) o->size = std::max(o->size, op.off + len);
  } else if (op.type == T::kTruncate) {
    uint64_t size = op.off;
    if (size < o->size) {
      uint64_t keep = (size + kBlockSize - 1) / kBlockSize;
      std::vector<DevExtent> freed = o->extents.punch(keep, ~0ull);
      txn_->freed.insert(txn_->freed.end(), freed.begin(), freed.end());
      // Bytes past the new size in its last block must read as zero if it grows again.
      if (size % kBlockSize != 0 && o->extents.lookup(size / kBlockSize)) {
        st = write_range(*o, size, nullptr, keep * kBlockSize - size);
      }
    }
    if (st.ok()) o->size = size;
  }
  return st;
}

Status TxnBuilder::apply_remove(const std::string& key, Onode& o) {
  std::vector<DevExtent> freed = o.extents.punch(0, ~0ull);
  txn_->freed.insert(txn_->freed.end(), freed.begin(), freed.end());
  for (uint32_t shard : o.stored_shards) txn_->batch.Delete(keys::shard_key(o.nid, shard));
  omap_.clear(o.nid);
  staged_[key] = nullptr;
  return ok_status();
}

Status TxnBuilder::apply_omap(const Transaction::Op& op) {
  using T = Transaction::OpType;
  if (!coll_exists(op.cid)) return missing_collection(op.cid);
  CAIRN_ASSIGN_OR_RETURN(OnodeRef o, get(keys::onode_key(op.cid, op.oid)));
  if (!o) return missing_object(op.oid);
  switch (op.type) {
    case T::kOmapSetKeys:
      for (const auto& [k, v] : op.kvs) omap_.set(o->nid, k, v.to_string());
      break;
    case T::kOmapRmKeys:
      for (const auto& k : op.keys) omap_.rm(o->nid, k);
      break;
    case T::kOmapRmRange:
      if (op.keys.size() != 2) return error(Errc::kInvalid, "omap_rmrange needs [first, last)");
      omap_.rm_range(o->nid, op.keys[0], op.keys[1]);
      break;
    case T::kOmapClear: omap_.clear(o->nid); break;
    case T::kOmapSetHeader: omap_.set_header(o->nid, op.data.to_string()); break;
    default: break;
  }
  return ok_status();
}

Status TxnBuilder::apply_collection(const Transaction::Op& op) {
  if (op.type == Transaction::OpType::kCreateCollection) {
    if (coll_exists(op.cid)) return error(Errc::kExists, "collection " + op.cid.to_string() + " exists");
    colls_[op.cid] = true;
    txn_->batch.Put(keys::coll_key(op.cid), "");
    return ok_status();
  }
  if (!coll_exists(op.cid)) return missing_collection(op.cid);
  // queue_transaction drained the pipeline first, so RocksDB plus this
  // transaction's staging is the whole truth about the collection's objects.
  std::string prefix = keys::onode_prefix(op.cid);
  Status busy = error(Errc::kBusy, "collection " + op.cid.to_string() + " is not empty");
  for (auto it = staged_.lower_bound(prefix); it != staged_.end() && it->first.starts_with(prefix); ++it) {
    if (it->second) return busy;
  }
  std::unique_ptr<rocksdb::Iterator> it(s_.db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto st = staged_.find(it->key().ToString());
    if (st == staged_.end() || st->second) return busy;
  }
  colls_[op.cid] = false;
  txn_->batch.Delete(keys::coll_key(op.cid));
  return ok_status();
}

Status TxnBuilder::apply_clone(const Transaction::Op& op) {
  if (!coll_exists(op.cid)) return missing_collection(op.cid);
  std::string src_key = keys::onode_key(op.cid, op.oid), dst_key = keys::onode_key(op.dst_cid, op.dst_oid);
  CAIRN_ASSIGN_OR_RETURN(OnodeRef src, get(src_key));
  if (!src) return missing_object(op.oid);
  if (src_key == dst_key) return ok_status();
  CAIRN_ASSIGN_OR_RETURN(OnodeRef old_dst, get(dst_key));
  if (old_dst) {
    CAIRN_ASSIGN_OR_RETURN(Onode * d, mut(op.dst_cid, op.dst_oid, false));
    CAIRN_RETURN_IF_ERROR(apply_remove(dst_key, *d));
  }
  CAIRN_ASSIGN_OR_RETURN(Onode * dst, mut(op.dst_cid, op.dst_oid, true));
  dst->size = src->size;
  dst->xattrs = src->xattrs;
  for (const auto& [lblock, ext] : src->extents.extents()) {
    uint64_t n = ext.crcs.size();
    BufferPtr buf = BufferPtr::create_aligned(n * kBlockSize);
    for (uint64_t i = 0; i < n; ++i) {
      CAIRN_ASSIGN_OR_RETURN(BufferPtr blk, block_content(ext.dev_block + i, ext.crcs[i]));
      std::memcpy(buf.data() + i * kBlockSize, blk.data(), kBlockSize);
    }
    CAIRN_RETURN_IF_ERROR(write_new(*dst, lblock, buf, ext.crcs));
  }
  // The pipeline was drained: RocksDB plus this transaction's staging is the source's omap.
  std::map<std::string, std::string> kvs;
  std::optional<std::string> header;
  CAIRN_RETURN_IF_ERROR(omap_.snapshot(*s_.db_, src->nid, kvs, header));
  for (auto& [k, v] : kvs) omap_.set(dst->nid, k, std::move(v));
  if (header) omap_.set_header(dst->nid, std::move(*header));
  return ok_status();
}

Status TxnBuilder::apply_move(const Transaction::Op& op) {
  if (!coll_exists(op.cid)) return missing_collection(op.cid);
  if (!coll_exists(op.dst_cid)) return missing_collection(op.dst_cid);
  std::string src_key = keys::onode_key(op.cid, op.oid), dst_key = keys::onode_key(op.dst_cid, op.dst_oid);
  CAIRN_ASSIGN_OR_RETURN(OnodeRef src, get(src_key));
  if (!src) return missing_object(op.oid);
  if (src_key == dst_key) return ok_status();
  CAIRN_ASSIGN_OR_RETURN(OnodeRef dst, get(dst_key));
  if (dst) return error(Errc::kExists, "move target " + op.dst_oid.to_string() + " exists");
  staged_[dst_key] = std::make_shared<Onode>(*src);  // same nid: the omap stays where it is
  staged_[src_key] = nullptr;
  return ok_status();
}

Status TxnBuilder::apply(const Transaction::Op& op, const PrebuiltWrite* pre) {
  using T = Transaction::OpType;
  switch (op.type) {
    case T::kCreateCollection:
    case T::kRemoveCollection: return apply_collection(op);
    case T::kTouch:
    case T::kWrite:
    case T::kZero:
    case T::kTruncate: return apply_data(op, pre);
    case T::kRemove: {
      CAIRN_ASSIGN_OR_RETURN(Onode * o, mut(op.cid, op.oid, false));
      return apply_remove(keys::onode_key(op.cid, op.oid), *o);
    }
    case T::kSetAttrs: {
      CAIRN_ASSIGN_OR_RETURN(Onode * o, mut(op.cid, op.oid, false));
      // The onode is cached: each value gets an allocation of its own size (an
      // encoded object info sits in a 4 KiB append segment; a decoded one may be
      // a slice of a 4 MiB message), so the cache's byte budget is what it holds.
      for (const auto& [k, v] : op.kvs) o->xattrs[k] = v.copy_exact();
      return ok_status();
    }
    case T::kRmAttr: {
      CAIRN_ASSIGN_OR_RETURN(Onode * o, mut(op.cid, op.oid, false));
      if (op.keys.empty() || o->xattrs.erase(op.keys[0]) == 0) return error(Errc::kNotFound, "no such xattr");
      return ok_status();
    }
    case T::kOmapSetKeys:
    case T::kOmapRmKeys:
    case T::kOmapRmRange:
    case T::kOmapClear:
    case T::kOmapSetHeader: return apply_omap(op);
    case T::kClone: return apply_clone(op);
    case T::kMove: return apply_move(op);
  }
  return error(Errc::kInvalid, "unknown transaction op");
}

void TxnBuilder::store_extents(Onode& o) {
  rocksdb::WriteBatch& b = txn_->batch;
  if (!Onode::wants_shards(o.size)) {
    for (uint32_t shard : o.stored_shards) b.Delete(keys::shard_key(o.nid, shard));
    o.stored_shards.clear();
    o.sharded = false;
  } else {
    auto put = [&](uint32_t shard) {
      BufferList bl;
      Encoder e(bl);
      o.extents.encode_shard(shard, e);
      b.Put(keys::shard_key(o.nid, shard), bl.to_string());
    };
    if (!o.sharded) {
      // It was inline (or is new): every shard, found by one walk of the map.
      o.stored_shards = o.extents.shards();
      for (uint32_t shard : o.stored_shards) put(shard);
    } else {
      // Only the shards this transaction changed: no walk of a large map per write.
      std::vector<uint32_t>& stored = o.stored_shards;
      for (uint32_t shard : o.extents.dirty_shards()) {
        auto at = std::lower_bound(stored.begin(), stored.end(), shard);
        bool listed = at != stored.end() && *at == shard;
        if (o.extents.maps_any_in_shard(shard)) {
          put(shard);
          if (!listed) stored.insert(at, shard);
        } else if (listed) {
          b.Delete(keys::shard_key(o.nid, shard));
          stored.erase(at);
        }
      }
    }
    o.sharded = true;
  }
  o.extents.clear_dirty();
}

std::unique_ptr<PreparedTxn> TxnBuilder::finish() {
  rocksdb::WriteBatch& b = txn_->batch;
  for (const auto& [key, onode] : staged_) {
    if (onode) {
      store_extents(*onode);
      b.Put(key, encode_to_buffer(*onode).to_string());
    } else {
      b.Delete(key);
    }
    s_.overlay_[key] = BlockStoreImpl::OverlayEntry{onode, txn_->seq};
    txn_->onodes[key] = onode;
  }
  std::set<uint64_t> groups;
  for (const DevExtent& e : allocated_) {
    s_.bitmap_->set(e, true);
    for (uint64_t g = e.block / kBlocksPerGroup; g <= (e.block + e.count - 1) / kBlocksPerGroup; ++g)
      groups.insert(g);
  }
  for (const DevExtent& e : txn_->freed) {
    s_.bitmap_->set(e, false);
    for (uint64_t g = e.block / kBlocksPerGroup; g <= (e.block + e.count - 1) / kBlocksPerGroup; ++g)
      groups.insert(g);
  }
  for (uint64_t g : groups) b.Put(keys::bitmap_key(g), s_.bitmap_->group_value(g));
  if (!txn_->deferred.empty()) {
    DeferredRecord rec;
    for (const auto& [blk, data] : txn_->deferred) {
      rec.blocks[blk] = BufferList(data);
      s_.pending_deferred_[blk] = data;
    }
    b.Put(keys::deferred_key(txn_->seq), encode_to_buffer(rec).to_string());
  }
  if (nid_used_) {
    std::string v;
    for (int i = 0; i < 8; ++i) v.push_back(static_cast<char>(s_.next_nid_ >> (8 * i)));
    b.Put(std::string(1, keys::kNextNid), v);
  }
  for (const DataWrite& w : txn_->writes)
    s_.pending_new_[w.block] = BlockStoreImpl::PendingRange{w.count, w.data};
  for (const auto& [cid, exists] : colls_) {
    if (exists) {
      s_.colls_latest_.insert(cid);
    } else {
      s_.colls_latest_.erase(cid);
    }
  }
  txn_->colls = colls_;
  return std::move(txn_);
}

void TxnBuilder::abort() {
  for (const DevExtent& e : allocated_) s_.alloc_->release(e);
  allocated_.clear();
}

}  // namespace cairn::store
