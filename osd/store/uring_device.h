// UringDevice: common/env.h's BlockDevice on a block file or raw device opened
// with O_DIRECT, driven by one io_uring ring.
//
// Ownership: one shard (thread) owns the device: it alone calls read(), write(),
// flush(), poll() and run_until_idle(), and every callback runs inside poll() on
// that thread, never inline in a submit. The ring's eventfd (event_fd()) becomes
// readable when completions are ready, so an io_context can wait on it, read it
// (poll() does not: a caller that never waits on it saves that system call) and
// call poll(false). Requests made from callbacks inside poll() reach the kernel
// together when it returns (one io_uring_enter). pread_direct() bypasses the ring and is safe from any
// thread (it uses only the immutable fd).
//
// Limits: at most `queue_depth` requests are in the kernel at once; more wait in
// an in-memory backlog and are submitted as completions free ring slots (the
// caller bounds the backlog: the BlockStore throttles queued transactions).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/env.h"

struct io_uring;

namespace cairn::store {

// 128 slots: deep enough to keep an NVMe device busy (QD32 per shard with 4 ops
// per transaction) while the ring's memory stays a few tens of KiB.
inline constexpr uint32_t kDefaultQueueDepth = 128;

class UringDevice final : public BlockDevice {
 public:
  struct Options {
    uint32_t queue_depth = kDefaultQueueDepth;
    bool read_only = false;
    // Every write is RWF_DSYNC (FUA where the device has it): durable when it
    // completes, so callers need no separate flush.
    bool dsync_writes = false;
    // Tests only: remember completed writes that no completed flush covers yet,
    // so scribble_unflushed() can model a power cut that loses them.
    bool track_unflushed = false;
  };
  static Result<std::unique_ptr<UringDevice>> open(const std::string& path, const Options& opts);
  ~UringDevice() override;

  uint64_t size() const override { return size_; }
  uint32_t block_size() const override { return kDirectIoAlign; }
  void read(uint64_t off, BufferPtr buf, Callback cb) override;
  void write(uint64_t off, BufferList data, Callback cb) override;
  void flush(Callback cb) override;

  // Runs the callbacks of completed requests; with `wait`, first blocks until at
  // least one completes (returns at once if nothing is in flight). Returns how
  // many callbacks ran.
  Result<size_t> poll(bool wait);
  // poll(true) until no request is in flight or queued.
  Status run_until_idle();
  size_t in_flight() const { return in_kernel_ + backlog_.size(); }
  // Batched submission: requests queue until submit(), and `schedule` is called
  // once per batch (when the first request of one queues) to arrange that call,
  // e.g. by posting it to the owner's event loop. Every request queued in one
  // turn of that loop then costs one io_uring_enter and, below it, one doorbell
  // to the device (a VM exit on virtio) instead of one each.
  void set_batched_submit(std::function<void()> schedule) { schedule_submit_ = std::move(schedule); }
  void submit() {
    submit_scheduled_ = false;
    submit_backlog();
  }
  // Between plug() and unplug() requests only queue; unplug() submits them with
  // one io_uring_enter (one doorbell) instead of one each. Owner thread.
  void plug() { plugged_ = true; }
  void unplug() {
    plugged_ = false;
    submit_backlog();
  }
  int event_fd() const { return event_fd_; }
  bool dsync_writes() const { return dsync_writes_; }

  // Synchronous O_DIRECT read outside the ring; any thread.
  Status pread_direct(uint64_t off, void* buf, size_t len) const;
  // Synchronous O_DIRECT write and fdatasync outside the ring: for mkfs and mount-time replay.
  Status pwrite_direct(uint64_t off, const void* buf, size_t len) const;
  Status fdatasync() const;
  // A regular file rather than a block device: it may have holes, and a write
  // into one makes the host file system allocate.
  bool is_regular_file() const { return regular_file_; }
  // lseek(2) SEEK_HOLE / SEEK_DATA: the first hole (the size if none) or the first
  // data (the size if none) at or after `off`. Any thread.
  Result<uint64_t> next_hole(uint64_t off) const;
  Result<uint64_t> next_data(uint64_t off) const;
  // flush() done on the calling (owner) thread with fdatasync(2): covers every write
  // completed so far. An io_uring fsync always goes to an io-wq worker, which costs
  // two thread switches more than blocking here.
  Status flush_now();
  // Runs `sync`, a call that flushes this device's whole write cache as a side
  // effect (an fdatasync of another file on the same file system: Linux file
  // systems end every fdatasync with a cache flush of their device), and counts it
  // as a flush of every write completed before the call. Owner thread.
  Status flush_by(const std::function<Status()>& sync);
  // Inside flush_by's `sync`, just before its cache flush is issued: writes
  // completed since the call began are covered by that flush too.
  void flush_point();
  // Tests only (needs track_unflushed): overwrites with garbage every range whose
  // write completed but is not yet covered by a completed flush — what a power cut
  // may leave there. Any thread; the caller then ends the process.
  Status scribble_unflushed();

 private:
  struct Request;
  UringDevice() = default;
  void enqueue(std::unique_ptr<Request> req);
  void submit_backlog();
  bool check_aligned(uint64_t off, size_t len, const Callback& cb);

  std::unique_ptr<io_uring> ring_;
  int fd_ = -1;
  int event_fd_ = -1;
  uint64_t size_ = 0;
  uint32_t queue_depth_ = kDefaultQueueDepth;
  bool dsync_writes_ = false;
  bool regular_file_ = false;
  uint32_t in_kernel_ = 0;                        // owner thread
  std::deque<std::unique_ptr<Request>> backlog_;  // owner thread
  std::function<void()> schedule_submit_;         // batched submission (owner thread)
  bool submit_scheduled_ = false;
  bool plugged_ = false;
  bool track_unflushed_ = false;
  std::map<uint64_t, uint64_t> unflushed_;              // owner thread: offset -> length
  std::vector<std::map<uint64_t, uint64_t>> flushing_;  // owner thread: snapshots of issued flushes
};

}  // namespace cairn::store
