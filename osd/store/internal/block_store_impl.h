// BlockStoreImpl: the BlockStore's state and its three parts, each in its own file:
//   block_store_mount.cc   mkfs, mount (load free space, replay deferred), shutdown
//   txn_builder.cc         prepare: a Transaction becomes a PreparedTxn (caller thread)
//   block_store_commit.cc  the commit thread: data I/O, flush, RocksDB commit, deferred apply
//   block_store_read.cc    reads (caller thread)
//   block_store_prepare.cc the preparer thread: writes holes of a block file ahead of the allocator
//
// Concurrency contract:
//   queue_mu_  serialises queue_transaction (prepare order = commit order).
//   mu_        guards every field marked "mu_" below; held while preparing, while
//              publishing a commit and briefly by reads to look up onodes.
//   The commit thread alone uses dev_'s ring (write/flush/poll). db_ and
//   dev_->pread_direct are safe from any thread.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "osd/store/block_store.h"
#include "osd/store/internal/allocator.h"
#include "osd/store/internal/block_cache.h"
#include "osd/store/internal/onode.h"
#include "osd/store/internal/onode_cache.h"
#include "osd/store/internal/superblock.h"
#include "osd/store/internal/wal_files.h"
#include "osd/store/uring_device.h"

namespace cairn::store {

// New data for fresh blocks: written before the transaction's metadata commits.
struct DataWrite {
  uint64_t block = 0;
  uint64_t count = 0;
  BufferPtr data;  // count * 4 KiB, aligned
};

// A transaction after prepare: everything the commit thread needs, nothing it must compute.
struct PreparedTxn {
  uint64_t seq = 0;
  Status status;                           // not ok: rejected at prepare, only the callback runs
  rocksdb::WriteBatch batch;               // all its metadata, committed atomically
  std::vector<DataWrite> writes;           // new data
  std::map<uint64_t, BufferPtr> deferred;  // device block -> 4 KiB applied in place after commit
  std::vector<DevExtent> freed;            // returned to the allocator after commit
  std::map<std::string, OnodeRef> onodes;  // published to the cache at commit (null: removed)
  std::map<CollectionId, bool> colls;      // published at commit
  ObjectStore::CommitCallback on_commit;
};

// Callbacks counting I/O of one commit group; the owner thread waits for them.
struct IoWait {
  size_t outstanding = 0;
  Status first_error;
  BlockDevice::Callback cb() {
    ++outstanding;
    return [this](Status st) {
      --outstanding;
      if (!st.ok() && first_error.ok()) first_error = std::move(st);
    };
  }
};

// Transactions committed together by one synced RocksDB write.
struct CommitGroup {
  std::vector<std::unique_ptr<PreparedTxn>> txns;
  IoWait io;  // its new-data writes (callbacks point here: never moved)
  size_t writes = 0;
  size_t submitted = 0;    // txns[0, submitted) have their data writes in the ring
  uint64_t bytes = 0;      // new data of its transactions
  size_t hole_writes = 0;  // writes into blocks the block file has not written yet
};

// share_wal_flush: a group is held (its metadata commit waits for the next
// group's data) only when that data is at most this much, so the wait is short.
inline constexpr uint64_t kHoldMaxBytes = 1ull << 20;
// Deferred writes' 'D' records ride in a later group's batch; the commit thread
// deletes them with a flush and a synced write of its own only once no
// transaction has arrived for this long (writers that queue their next
// transaction from another thread leave the queue empty for a moment after
// every group: retiring then cost two device round trips per group).
inline constexpr std::chrono::milliseconds kIdleBeforeRetire{20};
// A commit group's contiguous data writes go as one writev of at most this much
// (a block request the kernel need not split much) and this many buffers.
inline constexpr uint64_t kMaxRunBytes = 1ull << 20;
inline constexpr size_t kMaxRunSegments = 64;
// Granule of the commit thread's memory of block-file ranges known written.
inline constexpr uint64_t kSolidChunkBlocks = 256;  // 1 MiB

// A read after the onode lookup: holes and deferred blocks already filled in
// `buf`, device runs still to read (each one I/O) and check.
struct ReadPlan {
  struct Run {
    uint64_t dev_block = 0;
    uint64_t count = 0;
    size_t buf_off = 0;
    std::vector<uint32_t> crcs;
  };
  BufferPtr buf;
  size_t result_off = 0;
  size_t result_len = 0;
  std::vector<Run> runs;
  BufferList result() const {
    return result_len ? BufferList(buf.slice(result_off, result_len)) : BufferList();
  }
  // Once every run is read and verified: a payload-sized buffer read wholly from the
  // device keeps its blocks' crcs (buffer.h), so sending it costs no second pass.
  void remember_crcs() const;
};

class BlockStoreImpl final : public BlockStore {
 public:
  static Status format(const BlockStoreOptions& opts);
  static Result<std::unique_ptr<BlockStoreImpl>> mount(const BlockStoreOptions& opts);
  ~BlockStoreImpl() override;

  void queue_transaction(const CollectionId& ch, Transaction txn, CommitCallback on_commit) override;
  Status flush() override;
  bool collection_exists(const CollectionId& cid) override;
  Result<std::vector<CollectionId>> list_collections() override;
  Result<ObjectPage> list_objects(const CollectionId& cid, const ObjectId& start, size_t max) override;
  Result<ObjectStat> stat(const CollectionId& cid, const ObjectId& oid) override;
  Result<BufferList> read(const CollectionId& cid, const ObjectId& oid, uint64_t off, uint64_t len) override;
  void read_async(UringDevice& ring, const CollectionId& cid, const ObjectId& oid, uint64_t off, uint64_t len,
                  ReadCallback cb) override;
  std::string device_path() const override { return device_path_; }
  Result<BufferList> getattr(const CollectionId& cid, const ObjectId& oid, const std::string& name) override;
  Result<AttrMap> getattrs(const CollectionId& cid, const ObjectId& oid) override;
  Result<BufferList> omap_get_header(const CollectionId& cid, const ObjectId& oid) override;
  Result<AttrMap> omap_get_values(const CollectionId& cid, const ObjectId& oid,
                                  const std::vector<std::string>& keys) override;
  Result<OmapPage> omap_list(const CollectionId& cid, const ObjectId& oid, const std::string& start,
                             size_t max) override;
  Result<StoreStatfs> statfs() override;
  BlockStoreStats stats() override;
  Result<std::string> describe_object(const CollectionId& cid, const ObjectId& oid) override;
  Status simulate_power_loss() override { return dev_->scribble_unflushed(); }

  Result<FsckReport> run_fsck(bool deep);

 private:
  friend class TxnBuilder;
  BlockStoreImpl() = default;

  // ---- mount (block_store_mount.cc) ----
  Status open_db(bool create);
  Status load_state();
  Status replay_deferred();
  Status setup_shared_flush();  // decides share_wal_flush_
  void shutdown();

  // ---- lookups (mu_ held) ----
  // The onode after every prepared transaction (nullptr: absent).
  Result<OnodeRef> latest_onode(const std::string& key);
  // The onode after every committed transaction (nullptr: absent).
  Result<OnodeRef> committed_onode(const std::string& key);
  // Reads an onode (and its extent shards) from RocksDB; any thread.
  Result<OnodeRef> load_onode(const std::string& key);
  // Adds a sharded onode's extent map, read from `it` (positioned anywhere; one
  // consistent view of the database), and checks it against the onode.
  static Status read_extent_shards(rocksdb::Iterator& it, Onode& o);
  bool latest_collection(const CollectionId& cid) const;
  // Newest contents of a device block: deferred or in-flight data, else the device
  // (checked against `crc`).
  Result<BufferPtr> latest_block(uint64_t dev_block, uint32_t crc);
  // Reads device blocks and checks each against its crc (any thread, mu_ not needed).
  Status read_verified(uint64_t dev_block, uint64_t count, const uint32_t* crcs, char* out);
  // Checks blocks against their crcs; counts and logs mismatches (kIo).
  Status verify_blocks(uint64_t dev_block, uint64_t count, const uint32_t* crcs, const char* data);
  // `cached`: blocks found in data_cache_ are copied into the plan instead of read.
  static constexpr uint64_t kCachedReadMax = 64 << 10;  // reads that fill data_cache_
  void cache_blocks(const ReadPlan& plan);              // a verified plan's device blocks
  Result<ReadPlan> plan_read(const CollectionId& cid, const ObjectId& oid, uint64_t off, uint64_t len,
                             bool cached = false);
  // Committed onode for a reader; takes mu_ itself (not held on a cache miss).
  Result<OnodeRef> lookup_for_read(const CollectionId& cid, const ObjectId& oid);

  // ---- commit thread (block_store_commit.cc) ----
  struct DeferredFlight {
    IoWait io;  // the ring's callbacks point here: never moved
    std::map<uint64_t, BufferPtr> blocks;
    std::vector<uint64_t> seqs;  // their 'D' records
  };
  // 'D' records whose blocks are written in place, by the group's deferred writes.
  struct AppliedDeferred {
    std::vector<uint64_t> seqs;
    std::vector<uint64_t> blocks;
  };
  void commit_loop();
  // A group of queued transactions, waiting up to `wait` for one (nullopt: until
  // one comes or the store stops; 0: not at all). nullptr when none came.
  std::unique_ptr<CommitGroup> take_group(std::optional<std::chrono::milliseconds> wait);
  void top_up(CommitGroup& g);
  void fill_group_locked(CommitGroup& g);  // mu_ held: moves queued txns in, within the group limits
  void commit_group(std::unique_ptr<CommitGroup> g, std::unique_ptr<CommitGroup>& next);
  // After the group's metadata commit (or its failure): callbacks, deferred writes, frees.
  void finish_group(CommitGroup& g, const Status& st, const std::vector<AppliedDeferred>& deleted);
  void submit_data(CommitGroup& g);
  // Whether the block file has these blocks written already (a write there
  // allocates nothing in the host file system).
  bool written_before(uint64_t block, uint64_t count);
  Status wait_data(CommitGroup& g);
  Status device_flush();  // when data was written since the last flush
  // fdatasync of the device: applied in-place writes become flushed (device_dirty_
  // is left to the caller, who knows whether data writes are in flight).
  Status flush_device_now();
  // Writes the group's batches (with them, once enough have gathered, the
  // deletions of the flushed 'D' records, which go to `deleted`) as one synced
  // RocksDB write. With share_wal_flush the WAL's sync flushes the device: the
  // in-place writes applied before it count as flushed once it returns; without,
  // a batch of applied records first gets a flush of the device of its own.
  // In a written-ahead WAL file, `before_flush` runs between its pages and its flush.
  Status commit_kv(std::vector<std::unique_ptr<PreparedTxn>>& group, std::vector<AppliedDeferred>& deleted,
                   const std::function<void()>* before_flush = nullptr);
  // After a flush of the device: the applied in-place writes are durable.
  void applied_now_flushed();
  size_t flushed_records() const;
  size_t applied_records() const;
  size_t retire_batch() const { return std::max<uint32_t>(1, opts_.deferred_retire_batch); }
  // Adds the deletion of every flushed record to `del`; returns them (no longer flushed_).
  std::vector<AppliedDeferred> delete_flushed(rocksdb::WriteBatch& del);
  // Whether commit_kv() would write (and so sync) anything for these
  // transactions, leaving retired 'D' records aside.
  static bool writes_kv(const std::vector<std::unique_ptr<PreparedTxn>>& group);
  void release_or_hold(const DevExtent& e);  // mu_ held
  bool in_deferred_flight(const DevExtent& e) const;
  bool named_by_record(const DevExtent& e) const;
  // The deleted records' blocks are no longer named; held blocks nothing names go back.
  void release_held(const std::vector<AppliedDeferred>& deleted);
  void publish(std::vector<std::unique_ptr<PreparedTxn>>& group);
  // Submits the group's deferred overwrites (after finishing the previous ones:
  // two writes to one block never share the ring); they complete while the
  // next group commits.
  Status apply_deferred(std::vector<std::unique_ptr<PreparedTxn>>& group);
  // Waits for the deferred writes in flight, then retires their records.
  Status finish_deferred();
  Status retire_deferred_records();
  void fail_store(const Status& st);
  // ---- preparer thread (block_store_prepare.cc) ----
  void prepare_loop();
  struct PrepareWatch {  // the allocator's cursor when the preparer last looked
    uint64_t cursor = 0;
    std::chrono::steady_clock::time_point when;
    bool filling = false;  // in a burst, until the margin is whole
  };
  // The next range to prepare, or nothing to do now (mu_ held).
  std::optional<DevExtent> next_prepare_range(PrepareWatch& w);
  // Writes the free holes of `range`; false: skipped (a writer waits for space).
  Result<bool> prepare_range(const DevExtent& range, const BufferPtr& zeros);

  void crash_point(CrashPoint p) {
    if (opts_.crash_hook) opts_.crash_hook(p);
  }

  BlockStoreOptions opts_;
  std::string device_path_;
  Superblock sb_;
  std::unique_ptr<UringDevice> dev_;
  std::shared_ptr<WalSpareFileSystem> wal_fs_;  // wal_spare_bytes; outlives db_
  std::unique_ptr<rocksdb::Env> wal_env_;
  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<BlockCache> data_cache_;  // data_cache_bytes; null when off
  std::shared_ptr<rocksdb::Cache> block_cache_;

  std::mutex queue_mu_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // commit thread waits for queue_
  std::condition_variable done_cv_;  // flush(), the throttle and writes short of space wait here
  std::deque<std::unique_ptr<PreparedTxn>> queue_;  // mu_
  uint64_t last_seq_ = 0;                           // mu_: last prepared
  uint64_t done_seq_ = 0;                           // mu_: last fully committed
  bool stopping_ = false;                           // mu_
  Status failed_;                                   // mu_: set when the store can no longer commit

  struct OverlayEntry {
    OnodeRef onode;  // nullptr: removed by a not-yet-committed transaction
    uint64_t seq;
  };
  std::map<std::string, OverlayEntry> overlay_;        // mu_: onodes of prepared, uncommitted txns
  std::map<CollectionId, uint64_t> coll_overlay_seq_;  // mu_
  std::set<CollectionId> colls_latest_;                // mu_
  std::set<CollectionId> colls_committed_;             // mu_
  std::unique_ptr<OnodeCache> cache_;                  // mu_
  uint64_t publish_gen_ = 0;                           // mu_: bumped by every publish()
  std::unique_ptr<Allocator> alloc_;                   // mu_
  std::unique_ptr<AllocBitmap> bitmap_;                // mu_: the state of the latest prepared txn
  uint64_t next_nid_ = 1;                              // mu_
  struct PendingRange {
    uint64_t count;
    BufferPtr data;
  };
  std::map<uint64_t, PendingRange> pending_new_;    // mu_: new data not yet on the device
  std::map<uint64_t, BufferPtr> pending_deferred_;  // mu_: deferred blocks not yet in place

  // Commit thread only.
  std::unique_ptr<DeferredFlight> deferred_flight_;  // in-place writes not yet waited for
  std::vector<AppliedDeferred> applied_;             // written in place, not yet flushed
  std::vector<AppliedDeferred> flushed_;             // written and flushed: deletable by any batch
  // Blocks named by 'D' records still in RocksDB (applied or flushed, not in
  // flight), one entry per record naming them.
  std::multiset<uint64_t> named_blocks_;
  std::vector<DevExtent> held_;              // mu_: freed blocks waiting for their records' deletion
  bool device_dirty_ = false;                // writes since the last device flush
  bool share_wal_flush_ = false;             // set at mount (BlockStoreOptions::share_wal_flush)
  std::unique_ptr<CommitGroup> held_group_;  // data durable, metadata waits for the next group's data
  std::vector<bool> solid_chunks_;           // kSolidChunkBlocks chunks the block file has written
  size_t last_group_txns_ = 0;               // members of the last group (group commit delay)
  std::thread commit_thread_;

  // Preparer thread (file-backed stores with prepare_ahead_bytes).
  std::condition_variable prepare_cv_;  // mu_: wakes it to stop; wakes writers when it gives blocks back
  uint64_t prepare_end_ = 0;            // mu_: holes below this block were written or were in use
  uint64_t prepare_held_ = 0;           // mu_: free blocks it has taken out of the allocator
  uint32_t space_waiters_ = 0;          // mu_: writers waiting for those (it takes none meanwhile)
  std::thread prepare_thread_;
  std::atomic<uint64_t> prepared_bytes_{0};

  std::atomic<uint64_t> checksum_errors_{0};
  std::atomic<uint64_t> committed_txns_{0};
  std::atomic<uint64_t> commit_groups_{0};
  std::atomic<uint64_t> deferred_writes_{0};
  std::atomic<uint64_t> shared_flushes_{0};
  std::atomic<uint64_t> data_write_requests_{0};
  std::atomic<uint64_t> hole_writes_{0};
  std::atomic<uint64_t> kv_bytes_{0};
  std::atomic<uint64_t> device_flushes_{0};
  std::atomic<uint64_t> deferred_retired_{0};
};

}  // namespace cairn::store
