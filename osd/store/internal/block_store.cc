// BlockStoreImpl: queueing transactions and the lookups prepare and reads share.
#include <rocksdb/iterator.h>

#include "common/checksum.h"
#include "common/log.h"
#include "osd/store/internal/block_store_impl.h"
#include "osd/store/internal/keys.h"
#include "osd/store/internal/txn_builder.h"

namespace cairn::store {

using log::kv;

namespace {
// Clone and remove_collection read RocksDB as the whole truth, so they wait for
// every earlier transaction to commit first (both are rare: snapshots, PG removal).
bool needs_drain(const Transaction& txn) {
  for (const auto& op : txn.ops()) {
    if (op.type == Transaction::OpType::kClone || op.type == Transaction::OpType::kRemoveCollection)
      return true;
  }
  return false;
}
}  // namespace

void BlockStoreImpl::queue_transaction(const CollectionId&, Transaction txn, CommitCallback on_commit) {
  std::vector<std::optional<PrebuiltWrite>> pre;
  pre.reserve(txn.ops().size());
  for (const auto& op : txn.ops()) pre.push_back(prebuild_write(op));
  std::lock_guard qlock(queue_mu_);
  std::unique_lock lock(mu_);
  // Backpressure: bounded memory for data in flight.
  done_cv_.wait(lock, [&] { return last_seq_ - done_seq_ < opts_.max_queued_txns; });
  if (needs_drain(txn)) done_cv_.wait(lock, [&] { return done_seq_ == last_seq_; });
  uint64_t seq = ++last_seq_;
  std::unique_ptr<PreparedTxn> prepared;
  if (!failed_.ok()) {
    prepared = std::make_unique<PreparedTxn>();
    prepared->seq = seq;
    prepared->status = error(Errc::kIo, "store failed: " + failed_.message());
  } else {
    bool waited_for_frees = false;
    for (;;) {
      TxnBuilder b(*this, seq);
      Status st;
      for (size_t i = 0; i < txn.ops().size() && st.ok(); ++i)
        st = b.apply(txn.ops()[i], pre[i] ? &*pre[i] : nullptr);
      if (st.ok()) {
        prepared = b.finish();
        break;
      }
      b.abort();
      // Out of space only because the preparer holds free blocks for a moment:
      // wait for them (it takes no more meanwhile) and build the transaction again.
      if (st.code() == Errc::kNoSpace && prepare_held_ > 0) {
        ++space_waiters_;
        prepare_cv_.wait(lock, [&] { return prepare_held_ == 0; });
        --space_waiters_;
        continue;
      }
      // Or only because blocks freed by earlier transactions are not free yet:
      // theirs commit first, and blocks that deferred-write records still name
      // wait for those records' deletion (a quiet store deletes them within
      // kIdleBeforeRetire; no transaction can queue meanwhile, we hold
      // queue_mu_). Wait for both once, then build the transaction again.
      if (st.code() == Errc::kNoSpace && !waited_for_frees && (done_seq_ + 1 < seq || !held_.empty())) {
        waited_for_frees = true;
        done_cv_.wait(lock, [&] { return (done_seq_ + 1 >= seq && held_.empty()) || !failed_.ok(); });
        continue;
      }
      prepared = std::make_unique<PreparedTxn>();
      prepared->seq = seq;
      prepared->status = std::move(st);
      break;
    }
  }
  prepared->on_commit = std::move(on_commit);
  queue_.push_back(std::move(prepared));
  work_cv_.notify_one();
}

Status BlockStoreImpl::flush() {
  std::unique_lock lock(mu_);
  uint64_t target = last_seq_;
  done_cv_.wait(lock, [&] { return done_seq_ >= target; });
  return failed_;
}

Result<OnodeRef> BlockStoreImpl::load_onode(const std::string& key) {
  std::string value;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), key, &value);
  if (rs.IsNotFound()) return OnodeRef();
  if (!rs.ok()) return error(Errc::kIo, "rocksdb get: " + rs.ToString());
  auto onode = decode_from<Onode>(std::string_view(value));
  if (!onode.ok()) return onode.status().with_context("onode");
  if (onode->sharded) {
    // The onode and its shards must come from one view of the database: a reader
    // loads without the store's lock, and a commit may land between two Gets.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    it->Seek(key);
    if (!it->status().ok()) return error(Errc::kIo, "rocksdb seek: " + it->status().ToString());
    if (!it->Valid() || it->key() != key) return OnodeRef();  // removed meanwhile
    onode = decode_from<Onode>(it->value().ToStringView());
    if (!onode.ok()) return onode.status().with_context("onode");
    if (onode->sharded) CAIRN_RETURN_IF_ERROR(read_extent_shards(*it, *onode).with_context("onode"));
  }
  return OnodeRef(std::make_shared<const Onode>(std::move(*onode)));
}

Status BlockStoreImpl::read_extent_shards(rocksdb::Iterator& it, Onode& o) {
  std::string prefix = keys::shard_prefix(o.nid);
  size_t i = 0;
  for (it.Seek(prefix); it.Valid() && it.key().starts_with(prefix); it.Next(), ++i) {
    uint32_t shard = keys::read_u32_be(it.key().ToStringView().substr(prefix.size()));
    if (it.key().size() != prefix.size() + 4 || i >= o.stored_shards.size() || o.stored_shards[i] != shard)
      return error(Errc::kCorrupt, "extent shard " + std::to_string(shard) + " not listed by its onode");
    Decoder d(it.value().ToStringView());
    o.extents.decode_shard(shard, d);
    CAIRN_RETURN_IF_ERROR(d.finish(true).with_context("extent shard"));
  }
  if (!it.status().ok()) return error(Errc::kIo, "rocksdb iterate: " + it.status().ToString());
  if (i != o.stored_shards.size()) return error(Errc::kCorrupt, "extent shard missing");
  if (!o.extents_fit()) return error(Errc::kCorrupt, "extent beyond object size");
  return ok_status();
}

Result<OnodeRef> BlockStoreImpl::committed_onode(const std::string& key) {
  if (OnodeRef hit = cache_->get(key)) return hit;
  CAIRN_ASSIGN_OR_RETURN(OnodeRef o, load_onode(key));
  if (o) cache_->put(key, o);
  return o;
}

Result<OnodeRef> BlockStoreImpl::latest_onode(const std::string& key) {
  auto it = overlay_.find(key);
  if (it != overlay_.end()) return it->second.onode;
  return committed_onode(key);
}

bool BlockStoreImpl::latest_collection(const CollectionId& cid) const { return colls_latest_.count(cid) > 0; }

Result<BufferPtr> BlockStoreImpl::latest_block(uint64_t dev_block, uint32_t crc) {
  auto d = pending_deferred_.find(dev_block);
  if (d != pending_deferred_.end()) return d->second;
  auto it = pending_new_.upper_bound(dev_block);
  if (it != pending_new_.begin()) {
    --it;
    if (dev_block < it->first + it->second.count) {
      return it->second.data.slice((dev_block - it->first) * kBlockSize, kBlockSize);
    }
  }
  BufferPtr buf = BufferPtr::create_aligned(kBlockSize);
  CAIRN_RETURN_IF_ERROR(read_verified(dev_block, 1, &crc, buf.data()));
  return buf;
}

Status BlockStoreImpl::read_verified(uint64_t dev_block, uint64_t count, const uint32_t* crcs, char* out) {
  if (dev_block < sb_.data_start_block || dev_block + count > sb_.total_blocks()) {
    return error(Errc::kCorrupt, "extent outside the data area: block " + std::to_string(dev_block));
  }
  CAIRN_RETURN_IF_ERROR(dev_->pread_direct(dev_block * kBlockSize, out, count * kBlockSize));
  return verify_blocks(dev_block, count, crcs, out);
}

Status BlockStoreImpl::verify_blocks(uint64_t dev_block, uint64_t count, const uint32_t* crcs,
                                     const char* out) {
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t got = crc32c(0, out + i * kBlockSize, kBlockSize);
    if (got != crcs[i]) {
      checksum_errors_++;
      CAIRN_LOG(kError, kStore) << "checksum mismatch" << kv("block", dev_block + i) << kv("want", crcs[i])
                                << kv("got", got);
      return error(Errc::kIo, "checksum mismatch at device block " + std::to_string(dev_block + i));
    }
  }
  return ok_status();
}

BlockStoreStats BlockStoreImpl::stats() {
  BlockStoreStats s;
  s.checksum_errors = checksum_errors_.load();
  s.committed_txns = committed_txns_.load();
  s.commit_groups = commit_groups_.load();
  s.deferred_writes = deferred_writes_.load();
  s.prepared_bytes = prepared_bytes_.load();
  s.shared_flushes = shared_flushes_.load();
  s.data_write_requests = data_write_requests_.load();
  s.hole_writes = hole_writes_.load();
  s.kv_bytes = kv_bytes_.load();
  s.device_flushes = device_flushes_.load();
  s.deferred_retired = deferred_retired_.load();
  if (data_cache_) {
    s.data_cache_hits = data_cache_->hits();
    s.data_cache_misses = data_cache_->misses();
  }
  if (wal_fs_) {
    WalFileStats w = wal_fs_->stats();
    s.wal_spares_taken = w.spares_taken;
    s.plain_wals = w.plain_wals;
  }
  std::lock_guard lock(mu_);
  s.onode_cache_bytes = cache_->bytes();
  s.prepare_held_bytes = prepare_held_ * kBlockSize;
  return s;
}

Result<StoreStatfs> BlockStoreImpl::statfs() {
  std::lock_guard lock(mu_);
  StoreStatfs s;
  uint64_t data_blocks = sb_.total_blocks() - sb_.data_start_block;
  s.total = data_blocks * kBlockSize;
  s.used = (bitmap_->used_blocks() - sb_.data_start_block) * kBlockSize;
  s.available = (alloc_->free_blocks() + prepare_held_) * kBlockSize;
  return s;
}

}  // namespace cairn::store
