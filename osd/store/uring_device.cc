#include "osd/store/uring_device.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace cairn::store {

namespace {
Status errno_status(int err, const std::string& what) {
  Errc code = err == ENOSPC ? Errc::kNoSpace : Errc::kIo;
  return error(code, what + ": " + std::strerror(err));
}
}  // namespace

struct UringDevice::Request {
  enum class Kind { kRead, kWrite, kFlush } kind;
  uint64_t off = 0;
  size_t len = 0;
  BufferPtr rbuf;
  BufferList wdata;
  std::vector<iovec> iov;
  Callback cb;
};

Result<std::unique_ptr<UringDevice>> UringDevice::open(const std::string& path, const Options& opts) {
  std::unique_ptr<UringDevice> dev(new UringDevice());
  dev->fd_ = ::open(path.c_str(), (opts.read_only ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC);
  if (dev->fd_ < 0) return errno_status(errno, "open " + path);
  struct stat st;
  if (fstat(dev->fd_, &st) != 0) return errno_status(errno, "stat " + path);
  if (S_ISBLK(st.st_mode)) {
    uint64_t bytes = 0;
    if (ioctl(dev->fd_, BLKGETSIZE64, &bytes) != 0) return errno_status(errno, "BLKGETSIZE64 " + path);
    dev->size_ = bytes;
  } else {
    dev->size_ = static_cast<uint64_t>(st.st_size);
    dev->regular_file_ = S_ISREG(st.st_mode);
  }
  dev->queue_depth_ = opts.queue_depth;
  dev->dsync_writes_ = opts.dsync_writes;
  dev->track_unflushed_ = opts.track_unflushed && !opts.dsync_writes;
  dev->ring_ = std::make_unique<io_uring>();
  int rc = io_uring_queue_init(opts.queue_depth, dev->ring_.get(), 0);
  if (rc < 0) {
    dev->ring_.reset();
    return errno_status(-rc, "io_uring_queue_init");
  }
  dev->event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (dev->event_fd_ < 0) return errno_status(errno, "eventfd");
  rc = io_uring_register_eventfd(dev->ring_.get(), dev->event_fd_);
  if (rc < 0) return errno_status(-rc, "io_uring_register_eventfd");
  return dev;
}

UringDevice::~UringDevice() {
  if (ring_) {
    // Callbacks must not outlive their owners: drain what is in flight first.
    (void)run_until_idle();
    io_uring_queue_exit(ring_.get());
  }
  if (event_fd_ >= 0) ::close(event_fd_);
  if (fd_ >= 0) ::close(fd_);
}

bool UringDevice::check_aligned(uint64_t off, size_t len, const Callback& cb) {
  if (off % kDirectIoAlign == 0 && len % kDirectIoAlign == 0 && off + len <= size_) return true;
  // Never inline: report through the backlog path like a completion would.
  auto req = std::make_unique<Request>();
  req->kind = Request::Kind::kFlush;
  req->len = ~size_t{0};  // marks "rejected": poll() reports kInvalid
  req->cb = cb;
  enqueue(std::move(req));
  return false;
}

void UringDevice::read(uint64_t off, BufferPtr buf, Callback cb) {
  if (!check_aligned(off, buf.size(), cb)) return;
  auto req = std::make_unique<Request>();
  req->kind = Request::Kind::kRead;
  req->off = off;
  req->len = buf.size();
  req->rbuf = std::move(buf);
  req->cb = std::move(cb);
  enqueue(std::move(req));
}

void UringDevice::write(uint64_t off, BufferList data, Callback cb) {
  if (!check_aligned(off, data.size(), cb)) return;
  auto req = std::make_unique<Request>();
  req->kind = Request::Kind::kWrite;
  req->off = off;
  req->len = data.size();
  if (!data.is_aligned()) data.rebuild_aligned();
  req->wdata = std::move(data);
  req->wdata.to_iovecs(req->iov);
  req->cb = std::move(cb);
  enqueue(std::move(req));
}

void UringDevice::flush(Callback cb) {
  auto req = std::make_unique<Request>();
  req->kind = Request::Kind::kFlush;
  req->cb = std::move(cb);
  enqueue(std::move(req));
}

void UringDevice::enqueue(std::unique_ptr<Request> req) {
  backlog_.push_back(std::move(req));
  if (plugged_) return;
  if (schedule_submit_) {
    if (!submit_scheduled_) {
      submit_scheduled_ = true;
      schedule_submit_();
    }
    return;
  }
  submit_backlog();
}

void UringDevice::submit_backlog() {
  unsigned prepared = 0;
  while (!backlog_.empty() && in_kernel_ < queue_depth_) {
    Request* r = backlog_.front().get();
    if (r->len == ~size_t{0}) break;  // rejected requests complete in poll()
    io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
    if (!sqe) break;
    switch (r->kind) {
      case Request::Kind::kRead: io_uring_prep_read(sqe, fd_, r->rbuf.data(), r->len, r->off); break;
      case Request::Kind::kWrite:
        io_uring_prep_writev(sqe, fd_, r->iov.data(), static_cast<unsigned>(r->iov.size()), r->off);
        if (dsync_writes_) sqe->rw_flags = RWF_DSYNC;
        break;
      case Request::Kind::kFlush:
        io_uring_prep_fsync(sqe, fd_, IORING_FSYNC_DATASYNC);
        // This flush covers the writes completed so far.
        if (track_unflushed_) flushing_.push_back(std::exchange(unflushed_, {}));
        break;
    }
    io_uring_sqe_set_data(sqe, backlog_.front().release());
    backlog_.pop_front();
    ++in_kernel_;
    ++prepared;
  }
  if (prepared > 0) io_uring_submit(ring_.get());
}

Result<size_t> UringDevice::poll(bool wait) {
  size_t ran = 0;
  // Rejected requests (bad alignment) sit at the backlog head; complete them here.
  while (!backlog_.empty() && backlog_.front()->len == ~size_t{0}) {
    auto req = std::move(backlog_.front());
    backlog_.pop_front();
    req->cb(error(Errc::kInvalid, "unaligned or out-of-range device I/O"));
    ++ran;
  }
  // A wait must make progress even under a plug (a callback waiting on the ring).
  if (wait && in_kernel_ == 0 && !backlog_.empty()) submit_backlog();
  if (ran == 0 && wait && in_kernel_ > 0) {
    io_uring_cqe* cqe = nullptr;
    int rc = io_uring_wait_cqe(ring_.get(), &cqe);
    if (rc < 0 && rc != -EINTR) return errno_status(-rc, "io_uring_wait_cqe");
  }
  // Requests the callbacks make go to the kernel together, below.
  const bool was_plugged = std::exchange(plugged_, true);
  io_uring_cqe* cqe = nullptr;
  while (io_uring_peek_cqe(ring_.get(), &cqe) == 0 && cqe) {
    std::unique_ptr<Request> req(static_cast<Request*>(io_uring_cqe_get_data(cqe)));
    int res = cqe->res;
    io_uring_cqe_seen(ring_.get(), cqe);
    --in_kernel_;
    Status st;
    if (res < 0) {
      st = errno_status(-res, "device I/O at " + std::to_string(req->off));
    } else if (req->kind != Request::Kind::kFlush && static_cast<size_t>(res) != req->len) {
      st = error(Errc::kIo, "short device I/O at " + std::to_string(req->off));
    }
    if (track_unflushed_ && st.ok()) {
      if (req->kind == Request::Kind::kWrite) unflushed_[req->off] = req->len;
      // Flushes complete in submission order here (one ring, fsync after fsync).
      if (req->kind == Request::Kind::kFlush && !flushing_.empty()) flushing_.erase(flushing_.begin());
    }
    req->cb(std::move(st));
    ++ran;
  }
  plugged_ = was_plugged;
  if (!plugged_) submit_backlog();
  return ran;
}

Status UringDevice::run_until_idle() {
  while (in_flight() > 0) {
    CAIRN_ASSIGN_OR_RETURN(size_t n, poll(true));
    (void)n;
  }
  return ok_status();
}

Status UringDevice::pread_direct(uint64_t off, void* buf, size_t len) const {
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd_, static_cast<char*>(buf) + done, len - done, static_cast<off_t>(off + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status(errno, "pread");
    if (n == 0) return error(Errc::kIo, "read past end of device");
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

Status UringDevice::pwrite_direct(uint64_t off, const void* buf, size_t len) const {
  size_t done = 0;
  while (done < len) {
    ssize_t n =
        ::pwrite(fd_, static_cast<const char*>(buf) + done, len - done, static_cast<off_t>(off + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status(errno, "pwrite");
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

Status UringDevice::fdatasync() const {
  if (::fdatasync(fd_) != 0) return errno_status(errno, "fdatasync");
  return ok_status();
}

namespace {
Result<uint64_t> seek(int fd, uint64_t off, int whence, uint64_t size) {
  off_t r = ::lseek(fd, static_cast<off_t>(off), whence);
  if (r >= 0) return std::min<uint64_t>(static_cast<uint64_t>(r), size);
  if (errno == ENXIO) return size;  // nothing of that kind past `off`
  return errno_status(errno, whence == SEEK_HOLE ? "lseek SEEK_HOLE" : "lseek SEEK_DATA");
}
}  // namespace

Result<uint64_t> UringDevice::next_hole(uint64_t off) const { return seek(fd_, off, SEEK_HOLE, size_); }
Result<uint64_t> UringDevice::next_data(uint64_t off) const { return seek(fd_, off, SEEK_DATA, size_); }

Status UringDevice::flush_now() {
  return flush_by([this] { return fdatasync(); });
}

Status UringDevice::flush_by(const std::function<Status()>& sync) {
  if (track_unflushed_) flushing_.push_back(std::exchange(unflushed_, {}));
  Status st = sync();
  if (track_unflushed_ && st.ok()) flushing_.pop_back();
  return st;
}

void UringDevice::flush_point() {
  if (!track_unflushed_ || flushing_.empty()) return;
  flushing_.back().merge(unflushed_);
  unflushed_.clear();
}

Status UringDevice::scribble_unflushed() {
  std::map<uint64_t, uint64_t> lost = unflushed_;
  for (const auto& snap : flushing_) lost.insert(snap.begin(), snap.end());
  for (const auto& [off, len] : lost) {
    BufferPtr junk = BufferPtr::create_aligned(len);
    std::memset(junk.data(), 0xa5, len);
    CAIRN_RETURN_IF_ERROR(pwrite_direct(off, junk.data(), len));
  }
  return fdatasync();
}

}  // namespace cairn::store
