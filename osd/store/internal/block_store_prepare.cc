// The preparer: keeps the free space just ahead of the allocator's cursor written
// in a sparse block file, so that new data lands on blocks the host file system
// has already allocated.
//
// Why: an O_DIRECT write into a hole of an ext4 (or xfs) file cannot be done
// without blocking, so io_uring hands it to a worker thread; its completion
// converts an unwritten extent in a kworker (on ext4 that churned an extent-tree
// block per write, freed and discarded each time); and the commit group's
// fdatasync then writes the inode too. Measured on 4 KiB cluster writes: 2.9
// io-wq punts and 18 thread switches per client op, against 0 and 14 with the
// file already written (docs/benchmarks.md).
//
// Safety: it only ever writes blocks it has taken out of the allocator's free set
// (under mu_), so nothing can be allocated there while it writes, and it gives
// them back afterwards. Free blocks hold nothing anyone can read: blocks freed by
// a transaction enter the free set only once that transaction is durable. What it
// wrote may be lost in a crash; then those blocks are holes again, which is only
// slower.
#include <algorithm>
#include <chrono>
#include <thread>

#include "common/log.h"
#include "osd/store/internal/block_store_impl.h"

namespace cairn::store {

using log::kv;

namespace {
constexpr uint64_t kPrepareChunkBlocks = 512;  // 2 MiB per step
// Pause between steps: bounds the preparer at ~100 MiB/s of zeros, and a step
// is one short write, so foreground I/O never queues behind much of it.
constexpr auto kPrepareStep = std::chrono::milliseconds(20);
constexpr auto kPrepareIdle = std::chrono::milliseconds(100);
// A writer allocating faster than this fills the file itself: zeros ahead of it
// would only double its device traffic.
constexpr double kFastWriterBytesPerSec = 64.0 * (1 << 20);
}  // namespace

std::optional<DevExtent> BlockStoreImpl::next_prepare_range(PrepareWatch& w) {
  const uint64_t total = sb_.total_blocks();
  const uint64_t margin = opts_.prepare_ahead_bytes / kBlockSize;
  uint64_t cursor = alloc_->cursor();
  // The allocator ran past: what it passed was allocated (so written) or in use.
  prepare_end_ = std::max(prepare_end_, cursor);
  auto now = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(now - w.when).count();
  bool fast_writer =
      cursor > w.cursor && double((cursor - w.cursor) * kBlockSize) > kFastWriterBytesPerSec * secs;
  w.cursor = cursor;
  w.when = now;
  // Work in bursts: start once less than half the margin is left, stop when it is
  // whole again (fewer, longer interruptions of the foreground than a trickle).
  uint64_t ahead = prepare_end_ - cursor;
  if (ahead < margin / 2) w.filling = true;
  if (prepare_end_ >= total || ahead >= margin) w.filling = false;
  if (!w.filling || fast_writer) return std::nullopt;
  // Never hold space a transaction may need: the store must fill up cleanly.
  if (alloc_->free_blocks() < 4 * kPrepareChunkBlocks || space_waiters_ > 0 || !failed_.ok())
    return std::nullopt;
  return DevExtent{prepare_end_, std::min(kPrepareChunkBlocks, total - prepare_end_)};
}

void BlockStoreImpl::prepare_loop() {
  BufferPtr zeros = BufferPtr::zeroed(kPrepareChunkBlocks * kBlockSize, kDirectIoAlign);
  std::unique_lock lock(mu_);
  PrepareWatch watch{alloc_->cursor(), std::chrono::steady_clock::now()};
  while (!stopping_) {
    std::optional<DevExtent> range = next_prepare_range(watch);
    if (!range) {
      prepare_cv_.wait_for(lock, kPrepareIdle, [&] { return stopping_; });
      continue;
    }
    lock.unlock();
    Result<bool> done = prepare_range(*range, zeros);
    lock.lock();
    if (!done.ok()) {
      // Not fatal: data still goes to holes, just slower.
      CAIRN_LOG(kWarn, kStore) << "preparing the block file stopped"
                               << kv("error", done.status().to_string());
      return;
    }
    if (*done) prepare_end_ = std::max(prepare_end_, range->block + range->count);
    prepare_cv_.wait_for(lock, kPrepareStep, [&] { return stopping_; });
  }
}

Result<bool> BlockStoreImpl::prepare_range(const DevExtent& range, const BufferPtr& zeros) {
  // The holes of the file inside the range (file system calls, mu_ not held).
  std::vector<DevExtent> holes;
  uint64_t off = range.block * kBlockSize, end = (range.block + range.count) * kBlockSize;
  while (off < end) {
    CAIRN_ASSIGN_OR_RETURN(uint64_t hole, dev_->next_hole(off));
    if (hole >= end) break;
    CAIRN_ASSIGN_OR_RETURN(uint64_t data, dev_->next_data(hole));
    data = std::min(data, end);
    uint64_t b = (hole + kBlockSize - 1) / kBlockSize, e = data / kBlockSize;
    if (e > b) holes.push_back(DevExtent{b, e - b});
    off = data;
  }
  if (holes.empty()) return true;
  std::vector<DevExtent> taken;
  {
    std::lock_guard lock(mu_);
    if (space_waiters_ > 0) return false;  // a writer needs the space: try this range later
    for (const DevExtent& h : holes) {
      for (const DevExtent& e : alloc_->take_free_in(h)) {
        taken.push_back(e);
        prepare_held_ += e.count;
      }
    }
  }
  Status st;
  uint64_t written = 0;
  for (const DevExtent& e : taken) {
    st = dev_->pwrite_direct(e.block * kBlockSize, zeros.data(), e.count * kBlockSize);
    if (!st.ok()) break;
    written += e.count * kBlockSize;
  }
  // Durable before the blocks go back: a later commit group's flush then never
  // has to write this allocation's metadata.
  if (st.ok() && written > 0) st = dev_->fdatasync();
  if (opts_.test_prepare_hold_ms)
    std::this_thread::sleep_for(std::chrono::milliseconds(opts_.test_prepare_hold_ms));
  {
    std::lock_guard lock(mu_);
    for (const DevExtent& e : taken) alloc_->release(e);
    prepare_held_ = 0;
  }
  prepare_cv_.notify_all();
  CAIRN_RETURN_IF_ERROR(st);
  prepared_bytes_ += written;
  return true;
}

}  // namespace cairn::store
