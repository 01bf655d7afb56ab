// BlockStoreImpl reads: run on the caller's thread. The onode is looked up under
// mu_ (committed state only), then data is read with pread on the O_DIRECT fd and
// every 4 KiB block is checked against its crc32c before a byte is returned.
#include <rocksdb/iterator.h>

#include <cstring>
#include <sstream>

#include "common/checksum.h"
#include "osd/store/internal/block_store_impl.h"
#include "osd/store/internal/keys.h"

namespace cairn::store {

Result<OnodeRef> BlockStoreImpl::lookup_for_read(const CollectionId& cid, const ObjectId& oid) {
  std::string key = keys::onode_key(cid, oid);
  uint64_t gen;
  {
    std::lock_guard lock(mu_);
    if (!colls_committed_.count(cid)) {
      return error(Errc::kNotFound, "collection " + cid.to_string() + " does not exist");
    }
    if (OnodeRef hit = cache_->get(key)) return hit;
    gen = publish_gen_;
  }
  // A cache miss reads RocksDB without the lock, so writers are not held up. The
  // result goes into the cache only if no commit was published meanwhile: one
  // might have changed or removed this very onode.
  CAIRN_ASSIGN_OR_RETURN(OnodeRef o, load_onode(key));
  if (!o) return error(Errc::kNotFound, "object " + oid.to_string() + " does not exist");
  std::lock_guard lock(mu_);
  if (publish_gen_ == gen) cache_->put(key, o);
  return o;
}

bool BlockStoreImpl::collection_exists(const CollectionId& cid) {
  std::lock_guard lock(mu_);
  return colls_committed_.count(cid) > 0;
}

Result<std::vector<CollectionId>> BlockStoreImpl::list_collections() {
  std::lock_guard lock(mu_);
  return std::vector<CollectionId>(colls_committed_.begin(), colls_committed_.end());
}

Result<ObjectPage> BlockStoreImpl::list_objects(const CollectionId& cid, const ObjectId& start, size_t max) {
  if (!collection_exists(cid))
    return error(Errc::kNotFound, "collection " + cid.to_string() + " does not exist");
  std::string prefix = keys::onode_prefix(cid);
  ObjectPage page;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(keys::onode_key(cid, start)); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    CollectionId c;
    ObjectId o;
    CAIRN_RETURN_IF_ERROR(keys::decode_onode_key(it->key().ToStringView(), c, o));
    if (page.objects.size() >= max) {
      page.next = std::move(o);
      break;
    }
    page.objects.push_back(std::move(o));
  }
  if (!it->status().ok()) return error(Errc::kIo, "rocksdb iterate: " + it->status().ToString());
  return page;
}

Result<ObjectStat> BlockStoreImpl::stat(const CollectionId& cid, const ObjectId& oid) {
  CAIRN_ASSIGN_OR_RETURN(OnodeRef o, lookup_for_read(cid, oid));
  return ObjectStat{o->size};
}

Result<ReadPlan> BlockStoreImpl::plan_read(const CollectionId& cid, const ObjectId& oid, uint64_t off,
                                           uint64_t len, bool cached) {
  CAIRN_ASSIGN_OR_RETURN(OnodeRef o, lookup_for_read(cid, oid));
  ReadPlan plan;
  if (off >= o->size) return plan;
  uint64_t end = len == 0 ? o->size : std::min(o->size, off + std::min(len, o->size));
  uint64_t b0 = off / kBlockSize, b1 = (end + kBlockSize - 1) / kBlockSize;
  std::map<uint64_t, BufferPtr> deferred;  // lblock -> contents not yet in place
  {
    std::lock_guard lock(mu_);
    for (uint64_t b = b0; b < b1 && !pending_deferred_.empty(); ++b) {
      auto ref = o->extents.lookup(b);
      if (!ref) continue;
      // Only contents this onode vouches for: a deferred block of a transaction
      // still in flight has another crc, and the device still has ours.
      auto d = pending_deferred_.find(ref->dev_block);
      if (d != pending_deferred_.end() && crc32c(0, d->second.data(), kBlockSize) == ref->crc) {
        deferred[b] = d->second;
      }
    }
  }
  plan.buf = BufferPtr::create_aligned((b1 - b0) * kBlockSize);
  plan.result_off = off - b0 * kBlockSize;
  plan.result_len = end - off;
  for (uint64_t b = b0; b < b1;) {
    char* dst = plan.buf.data() + (b - b0) * kBlockSize;
    auto ref = o->extents.lookup(b);
    auto d = deferred.find(b);
    if (!ref || d != deferred.end()) {
      if (ref) {
        std::memcpy(dst, d->second.data(), kBlockSize);
      } else {
        std::memset(dst, 0, kBlockSize);
      }
      ++b;
      continue;
    }
    if (cached && data_cache_ && data_cache_->get(ref->dev_block, ref->crc, dst)) {
      ++b;
      continue;
    }
    // The longest run of blocks contiguous on the device: one I/O.
    ReadPlan::Run run{ref->dev_block, 1, (b - b0) * kBlockSize, {ref->crc}};
    for (uint64_t e = b + 1; e < b1 && !deferred.count(e); ++e, ++run.count) {
      auto next = o->extents.lookup(e);
      if (!next || next->dev_block != ref->dev_block + (e - b)) break;
      run.crcs.push_back(next->crc);
    }
    if (run.dev_block < sb_.data_start_block || run.dev_block + run.count > sb_.total_blocks()) {
      return error(Errc::kCorrupt, "extent outside the data area: block " + std::to_string(run.dev_block));
    }
    b += run.count;
    plan.runs.push_back(std::move(run));
  }
  return plan;
}

Result<BufferList> BlockStoreImpl::read(const CollectionId& cid, const ObjectId& oid, uint64_t off,
                                        uint64_t len) {
  CAIRN_ASSIGN_OR_RETURN(ReadPlan plan, plan_read(cid, oid, off, len));
  for (const ReadPlan::Run& r : plan.runs) {
    CAIRN_RETURN_IF_ERROR(read_verified(r.dev_block, r.count, r.crcs.data(), plan.buf.data() + r.buf_off));
  }
  plan.remember_crcs();
  return plan.result();
}

void BlockStoreImpl::cache_blocks(const ReadPlan& plan) {
  for (const ReadPlan::Run& r : plan.runs)
    for (uint64_t i = 0; i < r.count; ++i)
      data_cache_->put(r.dev_block + i, r.crcs[i], plan.buf.data() + r.buf_off + i * kBlockSize);
}

void ReadPlan::remember_crcs() const {
  if (buf.size() < kPooledMinBytes || runs.empty()) return;
  std::vector<uint32_t> all;
  all.reserve(buf.size() / kBlockSize);
  for (const Run& r : runs) {
    if (r.buf_off != all.size() * kBlockSize) return;  // a hole or a deferred block: not all from runs
    all.insert(all.end(), r.crcs.begin(), r.crcs.end());
  }
  if (all.size() * kBlockSize != buf.size()) return;
  set_block_crcs(buf.data(), std::move(all));
}

void BlockStoreImpl::read_async(UringDevice& ring, const CollectionId& cid, const ObjectId& oid, uint64_t off,
                                uint64_t len, ReadCallback cb) {
  auto planned = plan_read(cid, oid, off, len, true);
  if (!planned.ok()) return cb(planned.status());
  if (planned->runs.empty()) return cb(planned->result());
  struct State {
    ReadPlan plan;
    size_t outstanding;
    Status status;
    ReadCallback cb;
  };
  auto st = std::make_shared<State>(State{std::move(*planned), 0, {}, std::move(cb)});
  st->outstanding = st->plan.runs.size();
  for (size_t i = 0; i < st->plan.runs.size(); ++i) {
    const ReadPlan::Run& r = st->plan.runs[i];
    ring.read(r.dev_block * kBlockSize, st->plan.buf.slice(r.buf_off, r.count * kBlockSize),
              [this, st, i](Status s) {
                const ReadPlan::Run& run = st->plan.runs[i];
                if (s.ok())
                  s = verify_blocks(run.dev_block, run.count, run.crcs.data(),
                                    st->plan.buf.data() + run.buf_off);
                if (!s.ok() && st->status.ok()) st->status = std::move(s);
                if (--st->outstanding > 0) return;
                if (st->status.ok()) {
                  if (data_cache_ && st->plan.buf.size() <= kCachedReadMax) cache_blocks(st->plan);
                  st->plan.remember_crcs();
                  st->cb(st->plan.result());
                } else {
                  st->cb(st->status);
                }
              });
  }
}

Result<BufferList> BlockStoreImpl::getattr(const CollectionId& cid, const ObjectId& oid,
                                           const std::string& name) {
  CAIRN_ASSIGN_OR_RETURN(OnodeRef o, lookup_for_read(cid, oid));
  auto it = o->xattrs.find(name);
  if (it == o->xattrs.end()) return error(Errc::kNotFound, "no xattr " + name);
  return it->second;
}

Result<AttrMap> BlockStoreImpl::getattrs(const CollectionId& cid, const ObjectId& oid) {
  CAIRN_ASSIGN_OR_RETURN(OnodeRef o, lookup_for_read(cid, oid));
  return o->xattrs;
}

Result<BufferList> BlockStoreImpl::omap_get_header(const CollectionId& cid, const ObjectId& oid) {
  CAIRN_ASSIGN_OR_RETURN(OnodeRef o, lookup_for_read(cid, oid));
  std::string v;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), keys::omap_header_key(o->nid), &v);
  if (rs.IsNotFound()) return BufferList();
  if (!rs.ok()) return error(Errc::kIo, "rocksdb get: " + rs.ToString());
  return BufferList::copy_of(v);
}

Result<AttrMap> BlockStoreImpl::omap_get_values(const CollectionId& cid, const ObjectId& oid,
                                                const std::vector<std::string>& keys) {
  CAIRN_ASSIGN_OR_RETURN(OnodeRef o, lookup_for_read(cid, oid));
  AttrMap out;
  for (const auto& k : keys) {
    std::string v;
    rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), keys::omap_key(o->nid, k), &v);
    if (rs.IsNotFound()) continue;
    if (!rs.ok()) return error(Errc::kIo, "rocksdb get: " + rs.ToString());
    out[k] = BufferList::copy_of(v);
  }
  return out;
}

Result<OmapPage> BlockStoreImpl::omap_list(const CollectionId& cid, const ObjectId& oid,
                                           const std::string& start, size_t max) {
  CAIRN_ASSIGN_OR_RETURN(OnodeRef o, lookup_for_read(cid, oid));
  std::string prefix = keys::omap_prefix(o->nid);
  OmapPage page;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(keys::omap_key(o->nid, start)); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (page.entries.size() >= max) {
      page.more = true;
      break;
    }
    page.entries.emplace_back(it->key().ToString().substr(prefix.size()),
                              BufferList::copy_of(it->value().ToStringView()));
  }
  if (!it->status().ok()) return error(Errc::kIo, "rocksdb iterate: " + it->status().ToString());
  return page;
}

Result<std::string> BlockStoreImpl::describe_object(const CollectionId& cid, const ObjectId& oid) {
  CAIRN_ASSIGN_OR_RETURN(OnodeRef o, lookup_for_read(cid, oid));
  std::ostringstream os;
  os << "object " << oid.to_string() << " in " << cid.to_string() << "\n  nid " << o->nid << "\n  size "
     << o->size << "\n  xattrs " << o->xattrs.size() << "\n  extents " << o->extents.extents().size() << "\n";
  for (const auto& [lblock, e] : o->extents.extents()) {
    os << "    lblock " << lblock << " -> dev " << e.dev_block << " x" << e.crcs.size() << " crc0 0x"
       << std::hex << e.crcs[0] << std::dec << "\n";
  }
  return os.str();
}

}  // namespace cairn::store
