// BlockStore lifecycle: mkfs, mount (identity check, free space, deferred replay), shutdown.
#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <sys/stat.h>

#include "common/env.h"
#include "common/log.h"
#include "osd/store/internal/block_store_impl.h"
#include "osd/store/internal/deferred_record.h"
#include "osd/store/internal/keys.h"

namespace cairn::store {

using log::kv;

namespace {
// A device smaller than this cannot hold the reserved area plus useful data.
constexpr uint64_t kMinDeviceBytes = 4ull << 20;

std::string resolve_device_path(const BlockStoreOptions& opts) {
  return opts.device.empty() ? opts.path + "/block" : opts.device;
}

Status rocks_error(const rocksdb::Status& rs, const std::string& what) {
  return error(rs.IsCorruption() ? Errc::kCorrupt : Errc::kIo, what + ": " + rs.ToString());
}

Status create_block_file(const std::string& path, uint64_t bytes) {
  CAIRN_ASSIGN_OR_RETURN(bool exists, real_fs().exists(path));
  if (exists) return ok_status();
  if (bytes < kMinDeviceBytes) {
    return error(Errc::kInvalid, "mkfs needs device_bytes >= 4 MiB for a new block file");
  }
  OpenOptions o;
  o.create = true;
  o.exclusive = true;
  CAIRN_ASSIGN_OR_RETURN(auto file, real_fs().open(path, o));
  return file->truncate(bytes / kBlockSize * kBlockSize);  // sparse
}

Result<Superblock> read_superblock(const UringDevice& dev) {
  BufferPtr buf = BufferPtr::create_aligned(kBlockSize);
  CAIRN_RETURN_IF_ERROR(dev.pread_direct(0, buf.data(), kBlockSize));
  return Superblock::from_block(buf.view());
}

Status check_options(const BlockStoreOptions& opts) {
  if (opts.path.empty()) return error(Errc::kInvalid, "no data directory");
  if (opts.max_group_txns == 0 || opts.max_queued_txns == 0 || opts.queue_depth == 0) {
    return error(Errc::kInvalid, "group size, queue limit and queue depth must be at least 1");
  }
  return ok_status();
}
}  // namespace

namespace {
// Memtable insert hints for keys written again and again, or in order: a
// transaction puts its bitmap groups and the next-nid record besides its onode,
// and without a hint each insert searches the skiplist from the top (the walk
// was 15% of an OSD's CPU in 4 KiB cluster writes). Onode keys (random order)
// get none, and neither do omap keys: RocksDB 7.8 keeps one hint table for the
// point and the range-deletion memtables, so a hinted prefix that a DeleteRange
// also starts with (omap_rmrange, omap_clear) corrupts the skiplist walk.
class InOrderKeys final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "cairn.InOrderKeys"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return {key.data(), width(key)}; }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() > 0 && width(key) > 0; }

 private:
  // One hint per object's omap header, per bitmap group, and one for the
  // next-nid key and for the deferred records (their sequence numbers grow).
  static size_t width(const rocksdb::Slice& key) {
    switch (key[0]) {
      case keys::kOmapHeader:
      case keys::kBitmap: return key.size() >= 9 ? 9 : 0;
      case keys::kNextNid:
      case keys::kDeferred: return 1;
      default: return 0;
    }
  }
};
}  // namespace

Status BlockStoreImpl::open_db(bool create) {
  rocksdb::Options o;
  o.create_if_missing = create;
  o.error_if_exists = create;
  o.max_background_jobs = 2;
  o.keep_log_file_num = 2;
  o.info_log_level = rocksdb::WARN_LEVEL;
  // No recycle_log_file_num: RocksDB 7.8 turns it off unless wal_recovery_mode is
  // kSkipAnyCorruptedRecords. WAL files written ahead with zeros (wal_spare_bytes,
  // wal_files.h) take the inode write off each sync instead.
  if (opts_.wal_spare_bytes > 0) {
    std::string dir = opts_.path + "/db";
    CAIRN_RETURN_IF_ERROR(real_fs().mkdirs(dir));
    wal_fs_ =
        std::make_shared<WalSpareFileSystem>(rocksdb::FileSystem::Default(), dir, opts_.wal_spare_bytes);
    rocksdb::IOStatus ws = wal_fs_->start();
    if (!ws.ok()) return rocks_error(ws, "write a WAL spare");
    wal_env_ = rocksdb::NewCompositeEnv(wal_fs_);
    o.env = wal_env_.get();
  }
  // A bloom filter on each memtable: most onode lookups on the write path are for
  // objects that do not exist yet, and without it each one walks the skiplist.
  o.memtable_prefix_bloom_size_ratio = 0.02;
  o.memtable_whole_key_filtering = true;
  o.memtable_insert_with_hint_prefix_extractor = std::make_shared<InOrderKeys>();
  rocksdb::BlockBasedTableOptions t;
  block_cache_ = rocksdb::NewLRUCache(opts_.cache_bytes / 2);
  t.block_cache = block_cache_;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Table blocks checksummed with XXH3: Debian's RocksDB is built portable, and
  // its crc32c is the table-driven one (flushes and compactions spent their CPU
  // there). Each table file records its own checksum type, so older files still read.
  t.checksum = rocksdb::kXXH3;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  rocksdb::DB* db = nullptr;
  rocksdb::Status rs = rocksdb::DB::Open(o, opts_.path + "/db", &db);
  if (!rs.ok()) return rocks_error(rs, "open rocksdb");
  db_.reset(db);
  return ok_status();
}

Status BlockStore::mkfs(const BlockStoreOptions& opts) { return BlockStoreImpl::format(opts); }

Status BlockStoreImpl::format(const BlockStoreOptions& opts) {
  CAIRN_RETURN_IF_ERROR(check_options(opts));
  CAIRN_RETURN_IF_ERROR(real_fs().mkdirs(opts.path));
  std::string dev_path = resolve_device_path(opts);
  CAIRN_RETURN_IF_ERROR(create_block_file(dev_path, opts.device_bytes));
  CAIRN_ASSIGN_OR_RETURN(auto dev, UringDevice::open(dev_path, {opts.queue_depth, false}));
  if (read_superblock(*dev).ok()) return error(Errc::kExists, dev_path + " is already formatted");
  Superblock sb;
  sb.uuid_hi = real_random().next_u64();
  sb.uuid_lo = real_random().next_u64();
  sb.device_bytes = dev->size() / kBlockSize * kBlockSize;
  sb.created_ns = real_clock().wall_ns();
  if (sb.device_bytes < kMinDeviceBytes) return error(Errc::kInvalid, "device smaller than 4 MiB");

  std::unique_ptr<BlockStoreImpl> s(new BlockStoreImpl());
  s->opts_ = opts;
  s->opts_.wal_spare_bytes = 0;  // format's database is open only briefly
  CAIRN_RETURN_IF_ERROR(s->open_db(true));
  AllocBitmap bitmap(sb.total_blocks());
  bitmap.set(DevExtent{0, sb.data_start_block}, true);
  rocksdb::WriteBatch b;
  b.Put(std::string(1, keys::kSuper), encode_to_buffer(sb).to_string());
  b.Put(keys::bitmap_key(0), bitmap.group_value(0));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status rs = s->db_->Write(wo, &b);
  if (!rs.ok()) return rocks_error(rs, "mkfs write");
  // The superblock goes last: a mkfs that stopped half-way leaves no valid store.
  std::string block = sb.to_block();
  BufferPtr buf = BufferPtr::create_aligned(kBlockSize);
  std::memcpy(buf.data(), block.data(), kBlockSize);
  CAIRN_RETURN_IF_ERROR(dev->pwrite_direct(0, buf.data(), kBlockSize));
  CAIRN_RETURN_IF_ERROR(dev->fdatasync());
  CAIRN_LOG(kInfo, kStore) << "mkfs done" << kv("uuid", sb.uuid_string()) << kv("bytes", sb.device_bytes);
  return ok_status();
}

Result<std::unique_ptr<BlockStore>> BlockStore::open(const BlockStoreOptions& opts) {
  CAIRN_ASSIGN_OR_RETURN(auto s, BlockStoreImpl::mount(opts));
  return std::unique_ptr<BlockStore>(std::move(s));
}

Result<std::unique_ptr<BlockStoreImpl>> BlockStoreImpl::mount(const BlockStoreOptions& opts) {
  CAIRN_RETURN_IF_ERROR(check_options(opts));
  std::unique_ptr<BlockStoreImpl> s(new BlockStoreImpl());
  s->opts_ = opts;
  s->device_path_ = resolve_device_path(opts);
  CAIRN_ASSIGN_OR_RETURN(
      s->dev_, UringDevice::open(resolve_device_path(opts), {opts.queue_depth, false, opts.dsync_data_writes,
                                                             opts.test_track_unflushed}));
  CAIRN_ASSIGN_OR_RETURN(s->sb_, read_superblock(*s->dev_));
  if (s->dev_->size() < s->sb_.device_bytes)
    return error(Errc::kCorrupt, "device is smaller than its superblock says");
  CAIRN_RETURN_IF_ERROR(s->open_db(false));
  std::string v;
  rocksdb::Status rs = s->db_->Get(rocksdb::ReadOptions(), std::string(1, keys::kSuper), &v);
  if (!rs.ok()) return rocks_error(rs, "superblock copy in rocksdb");
  auto copy = decode_from<Superblock>(std::string_view(v));
  if (!copy.ok() || !copy->same_identity(s->sb_)) {
    return error(Errc::kCorrupt, "device and metadata belong to different stores");
  }
  s->cache_ = std::make_unique<OnodeCache>(opts.cache_bytes / 2);
  if (opts.data_cache_bytes >= kBlockSize)
    s->data_cache_ = std::make_unique<BlockCache>(opts.data_cache_bytes);
  CAIRN_RETURN_IF_ERROR(s->load_state());
  CAIRN_RETURN_IF_ERROR(s->replay_deferred());
  CAIRN_RETURN_IF_ERROR(s->setup_shared_flush());
  s->commit_thread_ = std::thread([p = s.get()] {
    set_thread_name("store-commit");
    p->commit_loop();
  });
  if (opts.prepare_ahead_bytes > 0 && s->dev_->is_regular_file()) {
    CAIRN_ASSIGN_OR_RETURN(uint64_t hole, s->dev_->next_hole(s->sb_.data_start_block * kBlockSize));
    s->prepare_end_ = hole / kBlockSize;
    s->prepare_thread_ = std::thread([p = s.get()] {
      set_thread_name("store-prepare");
      p->prepare_loop();
    });
  }
  CAIRN_LOG(kInfo, kStore) << "mounted" << kv("uuid", s->sb_.uuid_string())
                           << kv("collections", s->colls_committed_.size())
                           << kv("free_blocks", s->alloc_->free_blocks());
  return s;
}

Status BlockStoreImpl::setup_shared_flush() {
  if (!opts_.share_wal_flush || opts_.dsync_data_writes || !dev_->is_regular_file()) return ok_status();
  struct stat dev_st = {};
  struct stat db_st = {};
  if (::stat(device_path_.c_str(), &dev_st) != 0 || ::stat((opts_.path + "/db").c_str(), &db_st) != 0 ||
      dev_st.st_dev != db_st.st_dev) {
    return ok_status();  // another file system: its own flushes
  }
  // What the file has written now may, after a kill -9, exist only in the page
  // cache: make it durable, so "written" is durable for every block from here on.
  CAIRN_RETURN_IF_ERROR(dev_->fdatasync());
  solid_chunks_.assign((sb_.total_blocks() + kSolidChunkBlocks - 1) / kSolidChunkBlocks, false);
  share_wal_flush_ = true;
  return ok_status();
}

Status BlockStoreImpl::load_state() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(std::string(1, keys::kColl)); it->Valid() && it->key()[0] == keys::kColl; it->Next()) {
    CAIRN_ASSIGN_OR_RETURN(CollectionId cid, keys::decode_coll(it->key().ToStringView().substr(1)));
    colls_committed_.insert(cid);
  }
  colls_latest_ = colls_committed_;
  std::string v;
  if (db_->Get(rocksdb::ReadOptions(), std::string(1, keys::kNextNid), &v).ok()) {
    if (v.size() != 8) return error(Errc::kCorrupt, "bad next-nid record");
    next_nid_ = 0;
    for (int i = 7; i >= 0; --i) next_nid_ = (next_nid_ << 8) | static_cast<unsigned char>(v[i]);
  }
  bitmap_ = std::make_unique<AllocBitmap>(sb_.total_blocks());
  for (it->Seek(std::string(1, keys::kBitmap)); it->Valid() && it->key()[0] == keys::kBitmap; it->Next()) {
    if (it->key().size() != 9) return error(Errc::kCorrupt, "bad bitmap key");
    CAIRN_RETURN_IF_ERROR(bitmap_->load_group(keys::read_u64_be(it->key().ToStringView().substr(1)),
                                              it->value().ToStringView()));
  }
  if (!it->status().ok()) return rocks_error(it->status(), "load state");
  bitmap_->set(DevExtent{0, sb_.data_start_block}, true);  // never hand out the reserved area
  alloc_ = std::make_unique<Allocator>(sb_.total_blocks());
  for (const DevExtent& e : bitmap_->free_runs()) alloc_->release(e);
  return ok_status();
}

Status BlockStoreImpl::replay_deferred() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::WriteBatch del;
  size_t blocks = 0;
  for (it->Seek(std::string(1, keys::kDeferred)); it->Valid() && it->key()[0] == keys::kDeferred;
       it->Next()) {
    auto rec = decode_from<DeferredRecord>(it->value().ToStringView());
    if (!rec.ok()) return rec.status().with_context("deferred record");
    for (auto& [blk, data] : rec->blocks) {
      if (blk < sb_.data_start_block || blk >= sb_.total_blocks() || data.size() != kBlockSize) {
        return error(Errc::kCorrupt, "deferred record outside the data area");
      }
      const BufferPtr& p = data.rebuild_aligned();
      CAIRN_RETURN_IF_ERROR(dev_->pwrite_direct(blk * kBlockSize, p.data(), kBlockSize));
      ++blocks;
    }
    del.Delete(it->key());
  }
  if (!it->status().ok()) return rocks_error(it->status(), "scan deferred");
  if (del.Count() == 0) return ok_status();
  CAIRN_RETURN_IF_ERROR(dev_->fdatasync());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status rs = db_->Write(wo, &del);
  if (!rs.ok()) return rocks_error(rs, "retire deferred");
  CAIRN_LOG(kInfo, kStore) << "replayed deferred writes" << kv("records", del.Count())
                           << kv("blocks", blocks);
  return ok_status();
}

void BlockStoreImpl::shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  prepare_cv_.notify_all();
  if (prepare_thread_.joinable()) prepare_thread_.join();
  if (commit_thread_.joinable()) commit_thread_.join();
  if (db_) {
    rocksdb::Status rs = db_->Close();
    if (!rs.ok()) CAIRN_LOG(kWarn, kStore) << "rocksdb close" << kv("error", rs.ToString());
  }
}

BlockStoreImpl::~BlockStoreImpl() { shutdown(); }

}  // namespace cairn::store
