// WAL files written ahead with zeros, so that a synced WAL append costs the
// device no metadata write.
//
// RocksDB appends to its write-ahead log and syncs it once per commit group.
// An append past the end of a file changes its size, so each `fdatasync` of a
// growing WAL writes the file's inode and waits for it: three device round
// trips in series (the pages, the inode, the cache flush) where two would do.
// RocksDB's own answer, recycled WAL files, it allows in 7.8 only with a
// recovery mode that replays records after a corrupt one.
//
// This file system wrapper hands RocksDB, for each new WAL, a file that is
// already `spare_bytes` long and written with zeros. Appends land inside the
// file: no size change, no extent to allocate or convert, so `fdatasync` is the
// pages and the flush. Past `spare_bytes` the file grows as before. The zero
// tail is what RocksDB's log reader already expects of preallocated files: a
// zero header is skipped to the end of its 32 KiB block, and the zeros run to
// the end of the file, so recovery stops where the written records stop.
// Nothing stale is ever in the tail (files are never reused), which is the
// difference from recycling.
//
// One spare file waits in the database directory (`cairn-wal-spare`); a
// background thread writes the next one (to a temporary name, synced, then
// renamed) once it is taken. When none is ready RocksDB gets a plain file.
#pragma once

#include <rocksdb/file_system.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace cairn::store {

struct WalFileStats {
  uint64_t spares_taken = 0;  // WAL files that started written ahead
  uint64_t plain_wals = 0;    // WAL files created while no spare was ready
};

class WalSpareFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  // `dir` is the database directory (where RocksDB keeps its WAL).
  WalSpareFileSystem(std::shared_ptr<rocksdb::FileSystem> base, std::string dir, uint64_t spare_bytes);
  ~WalSpareFileSystem() override;
  WalSpareFileSystem(const WalSpareFileSystem&) = delete;
  WalSpareFileSystem& operator=(const WalSpareFileSystem&) = delete;

  const char* Name() const override { return "cairn.WalSpareFileSystem"; }

  // Writes a spare now unless one is ready, then starts the background thread.
  // Call before opening the database, so that its first WAL is a spare too.
  rocksdb::IOStatus start();

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;

  WalFileStats stats() const;

  // The calling thread's next Sync of a written-ahead WAL file runs `fn` between
  // writing the WAL's pages (sync_file_range) and the flush (fdatasync): what the
  // caller must have completed before that flush, it waits for in `fn`, while
  // the pages are already on their way. Cleared by that Sync or by
  // clear_before_flush(). A plain WAL file (no spare was ready) never runs it.
  static void set_before_flush(const std::function<void()>* fn);
  static void clear_before_flush();

  // True for RocksDB's WAL file names ("000123.log").
  static bool is_wal_name(const std::string& fname);

 private:
  std::string spare_path() const { return dir_ + "/cairn-wal-spare"; }
  std::string tmp_path() const { return dir_ + "/cairn-wal-spare.tmp"; }
  rocksdb::IOStatus write_spare();  // tmp, zeros, fdatasync, rename, dir fsync
  void run();

  const std::string dir_;
  const uint64_t spare_bytes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool spare_ready_ = false;
  bool stop_ = false;
  bool started_ = false;
  WalFileStats stats_;
  std::thread thread_;
};

}  // namespace cairn::store
