#include "osd/store/internal/wal_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "common/env.h"

namespace cairn::store {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

IOStatus io_error(const std::string& what, const std::string& path, int err) {
  return IOStatus::IOError(what + " " + path + ": " + std::strerror(err));
}

// WalSpareFileSystem::set_before_flush: per thread, since RocksDB also syncs
// closed WAL files from its background flush threads.
thread_local const std::function<void()>* t_before_flush = nullptr;

constexpr size_t kZeroChunk = 1 << 20;
constexpr size_t kPage = 4096;

IOStatus fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? IOStatus::OK() : io_error("fsync", dir, err);
}

// A WAL file that starts with its space written (zeros): appends overwrite it in
// place, through the page cache like RocksDB's own posix file.
class ZeroTailFile final : public rocksdb::FSWritableFile {
 public:
  ZeroTailFile(int fd, std::string path, const rocksdb::FileOptions& o)
      : rocksdb::FSWritableFile(o), fd_(fd), path_(std::move(path)) {}
  ~ZeroTailFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  // Each write runs on with zeros to the end of its page. Writing part of a page
  // that is not cached makes the kernel read it first (a device read on the
  // commit path, since the spare was written with O_DIRECT); a whole page it just
  // takes. The next append into that page finds it cached. The zeros are what
  // the file holds there anyway.
  IOStatus Append(const Slice& data, const IOOptions&, IODebugContext*) override {
    static const char kZeros[kPage] = {};
    const uint64_t off = off_.load(std::memory_order_relaxed);
    const size_t len = data.size();
    const size_t pad = static_cast<size_t>((kPage - (off + len) % kPage) % kPage);
    for (size_t done = 0; done < len + pad;) {  // bytes of data, then of zeros, written
      iovec iov[2];
      int n_iov = 0;
      if (done < len) iov[n_iov++] = {const_cast<char*>(data.data()) + done, len - done};
      size_t zeros_done = done > len ? done - len : 0;
      iov[n_iov++] = {const_cast<char*>(kZeros) + zeros_done, pad - zeros_done};
      ssize_t n = ::pwritev(fd_, iov, n_iov, static_cast<off_t>(off + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return io_error("pwrite", path_, n < 0 ? errno : ENOSPC);
      done += static_cast<size_t>(n);
    }
    off_.store(off + len, std::memory_order_release);
    return IOStatus::OK();
  }
  IOStatus Truncate(uint64_t size, const IOOptions&, IODebugContext*) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return io_error("ftruncate", path_, errno);
    off_.store(size, std::memory_order_release);
    return IOStatus::OK();
  }
  IOStatus Close(const IOOptions&, IODebugContext*) override {
    if (fd_ < 0) return IOStatus::OK();
    int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? IOStatus::OK() : io_error("close", path_, errno);
  }
  IOStatus Flush(const IOOptions&, IODebugContext*) override { return IOStatus::OK(); }
  IOStatus Sync(const IOOptions&, IODebugContext*) override {
    if (const std::function<void()>* fn = std::exchange(t_before_flush, nullptr)) {
      // The pages first, waited for, so that fdatasync has only the flush left.
      if (::sync_file_range(
              fd_, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) !=
          0)
        return io_error("sync_file_range", path_, errno);
      (*fn)();
    }
    return ::fdatasync(fd_) == 0 ? IOStatus::OK() : io_error("fdatasync", path_, errno);
  }
  IOStatus Fsync(const IOOptions&, IODebugContext*) override {
    return ::fsync(fd_) == 0 ? IOStatus::OK() : io_error("fsync", path_, errno);
  }
  bool IsSyncThreadSafe() const override { return true; }
  uint64_t GetFileSize(const IOOptions&, IODebugContext*) override {
    return off_.load(std::memory_order_acquire);
  }
  IOStatus InvalidateCache(size_t, size_t) override { return IOStatus::OK(); }
  // The space is there already; past it the file grows without preallocation.
  IOStatus Allocate(uint64_t, uint64_t, const IOOptions&, IODebugContext*) override { return IOStatus::OK(); }

 private:
  int fd_;
  std::string path_;
  std::atomic<uint64_t> off_{0};  // bytes RocksDB has appended
};

}  // namespace

WalSpareFileSystem::WalSpareFileSystem(std::shared_ptr<rocksdb::FileSystem> base, std::string dir,
                                       uint64_t spare_bytes)
    : rocksdb::FileSystemWrapper(base),
      dir_(std::move(dir)),
      spare_bytes_((spare_bytes + 4095) / 4096 * 4096) {}

WalSpareFileSystem::~WalSpareFileSystem() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool WalSpareFileSystem::is_wal_name(const std::string& fname) {
  size_t slash = fname.rfind('/');
  std::string base = slash == std::string::npos ? fname : fname.substr(slash + 1);
  if (base.size() <= 4 || base.compare(base.size() - 4, 4, ".log") != 0) return false;
  for (size_t i = 0; i + 4 < base.size(); ++i)
    if (base[i] < '0' || base[i] > '9') return false;
  return true;
}

IOStatus WalSpareFileSystem::start() {
  ::unlink(tmp_path().c_str());  // a spare being written when the process stopped
  // A spare is renamed into place only once its zeros are durable, and a taken
  // spare's new name is made durable before RocksDB writes a record into it, so
  // a file under the spare's name holds nothing but zeros.
  struct stat st {};
  bool ready = ::stat(spare_path().c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == spare_bytes_;
  if (!ready) {
    ::unlink(spare_path().c_str());
    IOStatus s = write_spare();
    if (!s.ok()) return s;
  }
  std::lock_guard lock(mu_);
  spare_ready_ = true;
  if (!started_) {
    started_ = true;
    thread_ = std::thread([this] {
      set_thread_name("store-walspare");
      run();
    });
  }
  return IOStatus::OK();
}

IOStatus WalSpareFileSystem::write_spare() {
  const std::string tmp = tmp_path();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
  if (fd < 0 && errno == EINVAL) fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open", tmp, errno);
  static char* const zeros = [] {
    void* p = nullptr;
    if (posix_memalign(&p, 4096, kZeroChunk) != 0) std::abort();
    std::memset(p, 0, kZeroChunk);
    return static_cast<char*>(p);
  }();
  IOStatus s;
  for (uint64_t off = 0; off < spare_bytes_ && s.ok();) {
    {
      std::lock_guard lock(mu_);
      if (stop_) s = IOStatus::Aborted("stopping");
    }
    if (!s.ok()) break;
    size_t n = static_cast<size_t>(std::min<uint64_t>(kZeroChunk, spare_bytes_ - off));
    ssize_t w = ::pwrite(fd, zeros, n, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      s = io_error("write", tmp, w < 0 ? errno : ENOSPC);
    else
      off += static_cast<uint64_t>(w);
  }
  if (s.ok() && ::fdatasync(fd) != 0) s = io_error("fdatasync", tmp, errno);
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), spare_path().c_str()) != 0) s = io_error("rename", tmp, errno);
  if (s.ok()) s = fsync_dir(dir_);
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

void WalSpareFileSystem::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait(lock, [this] { return stop_ || !spare_ready_; });
    if (stop_) break;
    lock.unlock();
    IOStatus s = write_spare();
    lock.lock();
    if (s.ok()) {
      spare_ready_ = true;
    } else if (!stop_) {
      // A full file system, most likely: RocksDB gets plain files meanwhile.
      cv_.wait_for(lock, std::chrono::seconds(5), [this] { return stop_; });
    }
  }
}

IOStatus WalSpareFileSystem::NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                                             IODebugContext* dbg) {
  if (!is_wal_name(fname) || opts.use_direct_writes || opts.use_mmap_writes)
    return target()->NewWritableFile(fname, opts, result, dbg);
  std::unique_lock lock(mu_);
  bool take = false;
  if (spare_ready_) {
    take = ::rename(spare_path().c_str(), fname.c_str()) == 0;
    spare_ready_ = false;  // taken, or gone: the thread writes the next one
  }
  ++(take ? stats_.spares_taken : stats_.plain_wals);
  lock.unlock();
  cv_.notify_one();
  if (!take) return target()->NewWritableFile(fname, opts, result, dbg);
  // The new name is durable before a record is written under it (see start()).
  IOStatus s = fsync_dir(dir_);
  if (!s.ok()) return s;
  int fd = ::open(fname.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return io_error("open", fname, errno);
  result->reset(new ZeroTailFile(fd, fname, opts));
  return IOStatus::OK();
}

void WalSpareFileSystem::set_before_flush(const std::function<void()>* fn) { t_before_flush = fn; }

void WalSpareFileSystem::clear_before_flush() { t_before_flush = nullptr; }

WalFileStats WalSpareFileSystem::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace cairn::store
