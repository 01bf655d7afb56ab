// fsck: the allocation bitmap against the extent maps (no leaks, no block mapped
// twice, nothing mapped that the bitmap calls free) and, with `deep`, every
// mapped block's data against its crc32c.
#include <rocksdb/iterator.h>

#include <vector>

#include "common/checksum.h"
#include "osd/store/internal/block_store_impl.h"
#include "osd/store/internal/keys.h"

namespace cairn::store {

namespace {
// Blocks read per pread in a deep fsck: 1 MiB keeps the buffer small and the reads efficient.
constexpr uint64_t kFsckReadBlocks = 256;
constexpr size_t kMaxReportedErrors = 20;

void note(FsckReport& r, const std::string& msg) {
  if (r.errors.size() < kMaxReportedErrors) r.errors.push_back(msg);
}
}  // namespace

Result<FsckReport> BlockStore::fsck(const BlockStoreOptions& opts, bool deep) {
  BlockStoreOptions o = opts;
  o.prepare_ahead_bytes = 0;  // a check writes nothing
  CAIRN_ASSIGN_OR_RETURN(auto s, BlockStoreImpl::mount(o));
  return s->run_fsck(deep);
}

Result<FsckReport> BlockStoreImpl::run_fsck(bool deep) {
  CAIRN_RETURN_IF_ERROR(flush());
  FsckReport r;
  uint64_t total = sb_.total_blocks();
  std::vector<uint8_t> mapped(total, 0);
  BufferPtr buf = BufferPtr::create_aligned(kFsckReadBlocks * kBlockSize);
  std::lock_guard lock(mu_);  // the store is quiet (flushed); keep it so while we look
  r.collections = colls_committed_.size();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::unique_ptr<rocksdb::Iterator> shards(db_->NewIterator(rocksdb::ReadOptions()));
  uint64_t listed_shards = 0;
  for (it->Seek(std::string(1, keys::kOnode)); it->Valid() && it->key()[0] == keys::kOnode; it->Next()) {
    auto onode = decode_from<Onode>(it->value().ToStringView());
    CollectionId cid;
    ObjectId oid;
    if (!onode.ok() || !keys::decode_onode_key(it->key().ToStringView(), cid, oid).ok()) {
      r.bad_onodes++;
      note(r, "undecodable onode");
      continue;
    }
    if (onode->sharded) {
      listed_shards += onode->stored_shards.size();
      if (Status st = read_extent_shards(*shards, *onode); !st.ok()) {
        r.bad_onodes++;
        note(r, oid.to_string() + ": " + st.to_string());
        continue;
      }
    }
    r.objects++;
    for (const auto& [lblock, e] : onode->extents.extents()) {
      uint64_t n = e.crcs.size();
      if (e.dev_block < sb_.data_start_block || e.dev_block + n > total) {
        r.bad_onodes++;
        note(r, oid.to_string() + ": extent outside the data area");
        continue;
      }
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t b = e.dev_block + i;
        if (mapped[b]) {
          r.double_mapped++;
          note(r, oid.to_string() + ": block " + std::to_string(b) + " mapped twice");
        }
        mapped[b] = 1;
        r.mapped_blocks++;
        if (!bitmap_->test(b)) {
          r.unallocated_mapped++;
          note(r, oid.to_string() + ": block " + std::to_string(b) + " mapped but free");
        }
      }
      for (uint64_t i = 0; deep && i < n; i += kFsckReadBlocks) {
        uint64_t cnt = std::min(kFsckReadBlocks, n - i);
        Status st = dev_->pread_direct((e.dev_block + i) * kBlockSize, buf.data(), cnt * kBlockSize);
        for (uint64_t j = 0; j < cnt; ++j) {
          if (st.ok() && crc32c(0, buf.data() + j * kBlockSize, kBlockSize) == e.crcs[i + j]) continue;
          r.bad_checksums++;
          note(r, oid.to_string() + ": bad data at logical block " + std::to_string(lblock + i + j));
        }
      }
    }
  }
  if (!it->status().ok()) return error(Errc::kIo, "fsck iterate: " + it->status().ToString());
  // Every shard key belongs to an onode that lists it (read above); any more are orphans.
  uint64_t shard_keys = 0;
  const std::string x(1, keys::kExtentShard);
  for (shards->Seek(x); shards->Valid() && shards->key().starts_with(x); shards->Next()) ++shard_keys;
  if (shard_keys > listed_shards) {
    r.bad_onodes++;
    note(r, std::to_string(shard_keys - listed_shards) + " extent shards belong to no object");
  }
  for (uint64_t b = sb_.data_start_block; b < total; ++b) {
    if (bitmap_->test(b) && !mapped[b]) {
      r.leaked_blocks++;
      if (r.leaked_blocks == 1) note(r, "leaked block " + std::to_string(b));
    }
  }
  r.used_blocks = bitmap_->used_blocks();
  return r;
}

}  // namespace cairn::store
