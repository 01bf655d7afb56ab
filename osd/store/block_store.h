// BlockStore: the ObjectStore a real OSD uses. Object data lives on a block file
// or raw device (O_DIRECT, io_uring); metadata (onodes with extent maps and
// checksums, xattrs, omap, the allocation bitmap, deferred writes) lives in
// RocksDB. docs/blockstore.md describes the on-disk format byte by byte, the
// write paths and why they are crash-consistent.
//
// A data directory holds:
//   <path>/block   the block file (or a symlink to a raw device), superblock in block 0
//   <path>/db/     RocksDB
//
// Threads: the public methods may be called from any thread. One commit thread
// per store drives the device ring, group-commits RocksDB batches and runs
// on_commit callbacks. Reads run on the caller's thread (pread on the O_DIRECT fd).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "osd/store/object_store.h"
#include "osd/store/uring_device.h"

namespace cairn::store {

// Points of the write path where tests may stop the process (a deterministic crash).
enum class CrashPoint {
  kAfterDataWrite,      // new data written, not flushed, metadata not committed
  kAfterDataFlush,      // new data durable, metadata not committed
  kAfterKvCommit,       // metadata durable, on_commit not yet called
  kAfterDeferredApply,  // deferred overwrites written in place, records not yet deleted
  // Written-ahead WAL files only: a group's WAL records written (and waited for),
  // the cache flush that ends their sync not yet issued.
  kBeforeWalFlush,
};

struct BlockStoreOptions {
  std::string path;    // data directory
  std::string device;  // default: <path>/block
  // mkfs of a new block file: its size (a sparse file is created).
  uint64_t device_bytes = 0;
  // Overwrites of already-allocated blocks up to this size are deferred (logged
  // in RocksDB, applied in place later). 32 KiB: below this a second write of the
  // data costs less than a fresh extent plus the extent-map growth and
  // fragmentation it brings; above it the WAL traffic dominates.
  uint64_t deferred_max_bytes = 32 * 1024;
  // Applied 'D' records (their blocks written in place and flushed) gathered
  // before a commit group's batch deletes them. Tests set it low.
  uint32_t deferred_retire_batch = 256;
  // Memory for metadata: half for the onode cache, half for RocksDB's block cache.
  uint64_t cache_bytes = 256ull << 20;
  uint32_t queue_depth = kDefaultQueueDepth;
  // Data writes with RWF_DSYNC (durable on completion) instead of write + fdatasync
  // per commit group: one device round trip less per group, but every write pays
  // for durability. Which wins depends on the device (docs/bench-store.md).
  bool dsync_data_writes = false;
  // Transactions committed by one synced RocksDB write: 64 amortises the fsync
  // while keeping one group's data (and latency of its first member) bounded.
  uint32_t max_group_txns = 64;
  // Group commit delay: a new commit group waits this long for more members,
  // but only when the previous group had three or more (writers arrive faster
  // than groups commit; a lone writer never waits). Each group pays two device
  // flushes; fewer, fuller groups mean fewer flushes per transaction where
  // several stores share a disk's flushes (the OSD turns it on:
  // osd_group_commit_delay_us). Off here: one store fed by one thread lost
  // 16-30% of its 4 KiB rate with it (docs/benchmarks.md). 0: off.
  uint32_t group_commit_delay_us = 0;
  // Transactions prepared and not yet committed before queue_transaction blocks:
  // bounds memory held by in-flight data (1024 x 4 MiB worst case is 4 GiB; the
  // OSD's per-PG throttles keep the real figure far lower).
  uint32_t max_queued_txns = 1024;
  // A block file (not a raw device) starts sparse, and an O_DIRECT write into one
  // of its holes makes the host file system allocate: the write goes to an
  // io_uring worker thread, its completion converts an extent in a kworker, and
  // the next flush writes the file's metadata too. A background thread keeps this
  // many bytes of free space ahead of the allocator's cursor written (zeros), so
  // small writes land on blocks the file already has (docs/blockstore.md). It
  // stays out of the way of a stream that allocates faster than it would write.
  // 0: off (mkfs, fsck and the objectstore tool leave the file as it is).
  uint64_t prepare_ahead_bytes = 256ull << 20;
  // One device flush per commit group instead of two, while groups keep coming:
  // a group whose data is durable holds its metadata back until the next group's
  // data writes complete, and then the RocksDB WAL sync of the held group is the
  // flush that makes the next group's data durable too. It relies on fdatasync of
  // the WAL ending with a cache flush of the whole device, which holds when the
  // block file and RocksDB are on one Linux file system (ext4, xfs and btrfs all
  // do so); so it applies only to a block file on the same file system as the
  // database, and only to writes into blocks the file already has written (a
  // write into a hole still gets the block file's own fdatasync, for the
  // allocation). Holding lasts one data write of the next group: it is skipped
  // when that group carries more than 1 MiB (docs/blockstore.md).
  bool share_wal_flush = true;
  // Each new RocksDB WAL file starts this long and written with zeros, so a
  // synced WAL write changes no file size and costs the device no inode write
  // (wal_files.h). One spare waits in db/, written by a background thread;
  // mount writes one first if none is there. Somewhat more than the 64 MiB
  // memtable's WAL; past it the file grows as before. 0: off (tests, tools).
  uint64_t wal_spare_bytes = 0;
  // Client reads of up to 64 KiB through read_async keep the 4 KiB blocks they
  // read (verified) in an LRU cache of this size, and later reads of those blocks
  // are served from it (block_cache.h). read() always goes to the device, so
  // scrub and the tools see what the disk holds. 0: off.
  uint64_t data_cache_bytes = 0;
  // Tests only: called at each CrashPoint on the commit thread.
  std::function<void(CrashPoint)> crash_hook;
  // Tests only: track unflushed device writes for simulate_power_loss().
  bool test_track_unflushed = false;
  // Tests only: the preparer holds the blocks of each step this long more.
  uint32_t test_prepare_hold_ms = 0;
};

struct BlockStoreStats {
  uint64_t checksum_errors = 0;  // blocks whose crc32c did not match on read
  uint64_t committed_txns = 0;
  uint64_t commit_groups = 0;        // synced RocksDB writes
  uint64_t deferred_writes = 0;      // blocks written through the deferred path
  uint64_t data_write_requests = 0;  // device writes of new data (contiguous ones of a group go as one)
  uint64_t onode_cache_bytes = 0;
  uint64_t prepared_bytes = 0;      // zeros written into holes of a block file ahead of the allocator
  uint64_t prepare_held_bytes = 0;  // free space the preparer has out of the allocator right now
  uint64_t shared_flushes = 0;     // groups whose data a held group's WAL sync made durable (share_wal_flush)
  uint64_t wal_spares_taken = 0;   // WAL files that started written ahead (wal_spare_bytes)
  uint64_t plain_wals = 0;         // with wal_spare_bytes: WAL files created while no spare was ready
  uint64_t data_cache_hits = 0;    // blocks read_async served from the data cache
  uint64_t data_cache_misses = 0;  // read_async lookups there that missed (the device read follows)
  uint64_t hole_writes = 0;  // with share_wal_flush: data writes into blocks the file had not written yet
  uint64_t kv_bytes = 0;     // bytes of RocksDB batches committed (the WAL's payload, deferred data included)
  uint64_t device_flushes = 0;    // fdatasync of the data device by the commit thread (not the WAL's)
  uint64_t deferred_retired = 0;  // 'D' records deleted once their in-place writes were flushed
};

struct FsckReport {
  uint64_t objects = 0;
  uint64_t collections = 0;
  uint64_t used_blocks = 0;         // by the bitmap
  uint64_t mapped_blocks = 0;       // by the extent maps
  uint64_t leaked_blocks = 0;       // used in the bitmap, mapped by no object
  uint64_t double_mapped = 0;       // mapped by two objects (or twice by one)
  uint64_t unallocated_mapped = 0;  // mapped but free in the bitmap
  uint64_t bad_checksums = 0;       // --deep: blocks whose data fails its crc
  uint64_t bad_onodes = 0;          // onodes that failed to decode
  std::vector<std::string> errors;  // first few problems, human readable
  bool clean() const {
    return leaked_blocks == 0 && double_mapped == 0 && unallocated_mapped == 0 && bad_checksums == 0 &&
           bad_onodes == 0;
  }
};

class BlockStore : public ObjectStore {
 public:
  // Formats: writes the superblock, creates RocksDB. kExists if already formatted.
  static Status mkfs(const BlockStoreOptions& opts);
  // Mounts: checks identity, loads free space, replays deferred writes.
  static Result<std::unique_ptr<BlockStore>> open(const BlockStoreOptions& opts);
  // Checks a store that is not mounted (opens it, checks, closes it).
  static Result<FsckReport> fsck(const BlockStoreOptions& opts, bool deep);

  // Reads through the caller's own ring: an OSD shard opens a UringDevice on
  // device_path() and passes it here; the callback runs in that ring's poll(), on
  // the shard's thread (inline when no device I/O is needed: errors, holes,
  // blocks still in memory). Same result as read().
  using ReadCallback = std::function<void(Result<BufferList>)>;
  virtual void read_async(UringDevice& ring, const CollectionId& cid, const ObjectId& oid, uint64_t off,
                          uint64_t len, ReadCallback cb) = 0;
  virtual std::string device_path() const = 0;

  virtual BlockStoreStats stats() = 0;
  // Onode details for inspection tools: size, nid and extents as text.
  virtual Result<std::string> describe_object(const CollectionId& cid, const ObjectId& oid) = 0;
  // Tests only, from a crash hook (the commit thread): garbles every device write
  // not yet covered by a flush, as a power cut may. The process must then end.
  virtual Status simulate_power_loss() = 0;
};

}  // namespace cairn::store
