// The commit thread: turns groups of prepared transactions into durable state.
//
// For each group, in order (docs/blockstore.md "Write path" explains why):
//   1. write new data to its fresh blocks (io_uring), wait
//   2. flush the device (fdatasync) so the data is durable before anything points at it
//   3. write the group's RocksDB batches as one synced write (group commit)
//   4. publish onodes/collections to readers, run on_commit callbacks in order
//   5. write deferred overwrites in place; their 'D' records are deleted by a later
//      batch, after a device flush
//   6. return blocks freed by the group to the allocator (only now may they be reused)
//
// With share_wal_flush, while groups keep coming, steps 2 and 3 of consecutive
// groups merge: a group whose data is durable is held before step 3; the next
// group's data is written, and then the held group's synced WAL write, whose
// fdatasync flushes the whole device, stands for that group's step 2. One device
// flush per group instead of two. With written-ahead WAL files the held group's
// WAL pages are written while that data is in flight; the WAL's Sync waits for
// the data just before its flush.
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/log.h"
#include "osd/store/internal/block_store_impl.h"
#include "osd/store/internal/keys.h"

namespace cairn::store {

using log::kv;

namespace {
// A transaction whose batch commit_kv() writes (a rejected one has none to write).
bool has_kv(const PreparedTxn& t) { return t.status.ok() && t.batch.Count() > 0; }

// Writes `batches` as one synced RocksDB write: one WAL record, one write(2), one
// fsync. More than one are concatenated first, as RocksDB's own write groups do
// (WriteBatch's documented layout: an 8-byte sequence, a 4-byte little-endian count,
// then the records); a lone batch is written as it is, without a copy.
rocksdb::Status write_as_one(rocksdb::DB& db, const std::vector<rocksdb::WriteBatch*>& batches) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (batches.size() == 1) return db.Write(wo, batches[0]);
  constexpr size_t kHeader = 12;
  size_t bytes = kHeader;
  for (const rocksdb::WriteBatch* b : batches) bytes += b->GetDataSize() - kHeader;
  std::string rep;
  rep.reserve(bytes);
  rep.assign(kHeader, '\0');
  uint32_t count = 0;
  for (const rocksdb::WriteBatch* b : batches) {
    rep.append(b->Data(), kHeader, std::string::npos);
    count += b->Count();
  }
  for (int i = 0; i < 4; ++i) rep[8 + i] = static_cast<char>(count >> (8 * i));
  rocksdb::WriteBatch merged(std::move(rep));
  return db.Write(wo, &merged);
}

}  // namespace

std::unique_ptr<CommitGroup> BlockStoreImpl::take_group(std::optional<std::chrono::milliseconds> wait) {
  std::unique_lock lock(mu_);
  auto ready = [&] { return stopping_ || !queue_.empty(); };
  if (!wait) {
    work_cv_.wait(lock, ready);
  } else if (wait->count() > 0) {
    work_cv_.wait_for(lock, *wait, ready);
  }
  if (queue_.empty()) return nullptr;
  auto g = std::make_unique<CommitGroup>();
  fill_group_locked(*g);
  return g;
}

void BlockStoreImpl::fill_group_locked(CommitGroup& g) {
  while (!queue_.empty() && g.txns.size() < opts_.max_group_txns) {
    for (const DataWrite& w : queue_.front()->writes) g.bytes += w.count * kBlockSize;
    g.txns.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
}

void BlockStoreImpl::commit_loop() {
  std::unique_ptr<CommitGroup> cur;
  bool retire_failed = false;  // the store has failed: no further tries
  for (;;) {
    if (!cur && !retire_failed && (deferred_flight_ || !applied_.empty() || !flushed_.empty())) {
      // Applied 'D' records wait for a group's batch to carry their deletion. If
      // none comes soon, delete them now, so they do not pile up (and so a clean
      // shutdown leaves none behind).
      cur = take_group(kIdleBeforeRetire);
      if (!cur) {
        Status st = retire_deferred_records();
        if (!st.ok()) {
          fail_store(st);
          retire_failed = true;
        }
        continue;
      }
    }
    if (!cur) cur = take_group(std::nullopt);
    if (!cur) break;  // stopping and drained
    std::unique_ptr<CommitGroup> next;
    commit_group(std::move(cur), next);
    cur = std::move(next);
  }
  // The ring's callbacks point into the flight: wait for it even on a failed store.
  Status st = finish_deferred();
  if (!st.ok()) fail_store(st);
}

void BlockStoreImpl::commit_group(std::unique_ptr<CommitGroup> owned, std::unique_ptr<CommitGroup>& next) {
  CommitGroup& g = *owned;
  Status st;
  {
    std::lock_guard lock(mu_);
    st = failed_;
  }
  // Group commit delay: when the last group had three or more members (writers
  // arrive faster than groups commit), a fresh group waits a little for more
  // before it starts. Each group costs device flushes, and on a shared disk
  // the flushes are what queues. A lone writer, or a few (groups of one or two:
  // the store keeps up), never waits; with them the delay only added latency
  // (docs/benchmarks.md).
  if (st.ok() && g.submitted == 0 && opts_.group_commit_delay_us > 0 && last_group_txns_ >= 3 &&
      g.txns.size() < opts_.max_group_txns) {
    std::this_thread::sleep_for(std::chrono::microseconds(opts_.group_commit_delay_us));
  }
  // A group taken early (pipelined) grows with what queued up meanwhile: bigger
  // groups, fewer syncs per transaction.
  if (st.ok()) top_up(g);
  last_group_txns_ = g.txns.size();
  if (st.ok()) submit_data(g);
  // Waits for this group's data writes (the ring's callbacks point into `g`, so
  // they must run before it goes, even on a failed store). Once: a held group's
  // WAL sync may run it from inside RocksDB's write (below).
  bool waited = false;
  Status data_st;
  std::vector<AppliedDeferred> deleted;  // 'D' records a commit_kv below deleted
  auto wait_g = [&] {
    if (waited) return;
    waited = true;
    if (g.submitted > 0) data_st = wait_data(g);
    if (st.ok() && data_st.ok()) crash_point(CrashPoint::kAfterDataWrite);
  };
  // Make the group's data durable before anything points at it: a held group's
  // WAL sync flushes the device (share_wal_flush), unless this group wrote into
  // holes of the block file (their allocation needs the file's own fdatasync) or
  // the held group writes nothing to RocksDB (and so syncs nothing).
  const bool covers = held_group_ && g.hole_writes == 0 && device_dirty_ && writes_kv(held_group_->txns);
  // With a written-ahead WAL the held group's WAL pages go to the device while
  // this group's data is still in flight: the WAL file's Sync writes its pages,
  // then waits for our data, then flushes (wal_files.h). Otherwise: data first.
  if (!covers || !wal_fs_) wait_g();
  if (st.ok()) st = data_st;
  if (st.ok() && !covers) st = device_flush();
  if (held_group_) {
    bool covered = false;
    if (st.ok() && covers) {
      const std::function<void()> before_flush = [&] {
        wait_g();
        dev_->flush_point();  // this group's writes completed before the flush
      };
      st = commit_kv(held_group_->txns, deleted, &before_flush);
      covered = waited;  // a plain WAL file synced without waiting for our data
      wait_g();
      if (st.ok()) st = data_st;
    } else if (st.ok()) {
      st = commit_kv(held_group_->txns, deleted);
    }
    if (st.ok() && covered) {
      device_dirty_ = false;
      shared_flushes_++;
    }
    finish_group(*held_group_, st, deleted);
    held_group_.reset();
    deleted.clear();
    if (st.ok() && covers && !covered) st = device_flush();
  }
  wait_g();
  if (st.ok()) st = data_st;
  if (st.ok()) crash_point(CrashPoint::kAfterDataFlush);
  if (st.ok() && (next = take_group(std::chrono::milliseconds(0)))) {
    // More is queued: hold this group's metadata back so its WAL sync flushes the
    // next group's data, when that data is small enough to wait for (and there is
    // some: holding for a group of metadata and in-place writes only delays us).
    if (share_wal_flush_ && next->bytes > 0 && next->bytes <= kHoldMaxBytes) {
      held_group_ = std::move(owned);
      return;
    }
    // Pipelining: the next group's data goes to the device while this one's
    // metadata commits. Its blocks were allocated before this group's frees were
    // released, so they cannot overlap anything this group still references.
    submit_data(*next);
  }
  if (st.ok()) st = commit_kv(g.txns, deleted);
  finish_group(g, st, deleted);
}

void BlockStoreImpl::finish_group(CommitGroup& g, const Status& st,
                                  const std::vector<AppliedDeferred>& deleted) {
  if (!st.ok()) {
    fail_store(st);
    for (auto& t : g.txns) {
      if (t->on_commit)
        t->on_commit(t->status.ok() ? error(Errc::kIo, "store failed: " + st.message()) : t->status);
    }
    std::lock_guard lock(mu_);
    done_seq_ = g.txns.back()->seq;
    done_cv_.notify_all();
    return;
  }
  if (!deleted.empty()) release_held(deleted);
  crash_point(CrashPoint::kAfterKvCommit);
  publish(g.txns);
  for (auto& t : g.txns) {
    if (t->on_commit) t->on_commit(t->status);
  }
  Status dst = apply_deferred(g.txns);
  if (!dst.ok()) fail_store(dst);
  std::lock_guard lock(mu_);
  for (auto& t : g.txns) {
    for (const DevExtent& e : t->freed) {
      if (data_cache_) data_cache_->erase(e.block, e.count);
      release_or_hold(e);
    }
  }
  done_seq_ = g.txns.back()->seq;
  done_cv_.notify_all();
}

bool BlockStoreImpl::in_deferred_flight(const DevExtent& e) const {
  if (!deferred_flight_) return false;
  auto it = deferred_flight_->blocks.lower_bound(e.block);
  return it != deferred_flight_->blocks.end() && it->first < e.block + e.count;
}

bool BlockStoreImpl::named_by_record(const DevExtent& e) const {
  auto it = named_blocks_.lower_bound(e.block);
  return it != named_blocks_.end() && *it < e.block + e.count;
}

void BlockStoreImpl::release_or_hold(const DevExtent& e) {
  // A block named by a 'D' record that is still in RocksDB would be overwritten by
  // that record's replay after a crash: it may not be reused until the record is
  // gone. One whose in-place write is still in flight, not before that completes.
  if (named_by_record(e) || in_deferred_flight(e)) {
    held_.push_back(e);
  } else {
    alloc_->release(e);
  }
}

void BlockStoreImpl::release_held(const std::vector<AppliedDeferred>& deleted) {
  for (const AppliedDeferred& a : deleted)
    for (uint64_t blk : a.blocks) named_blocks_.erase(named_blocks_.find(blk));
  std::lock_guard lock(mu_);
  std::vector<DevExtent> still;
  for (const DevExtent& e : held_) {
    if (named_by_record(e) || in_deferred_flight(e)) {
      still.push_back(e);
    } else {
      alloc_->release(e);
    }
  }
  held_ = std::move(still);
  done_cv_.notify_all();  // a write short of space may wait for these (queue_transaction)
}

void BlockStoreImpl::top_up(CommitGroup& g) {
  std::lock_guard lock(mu_);
  fill_group_locked(g);
}

void BlockStoreImpl::submit_data(CommitGroup& g) {
  // Writes that continue one another (the next-fit allocator gives consecutive
  // transactions consecutive blocks) go to the ring as one writev: one device
  // request, one doorbell, one completion, instead of one of each per write.
  BufferList run;
  uint64_t run_block = 0, run_end = 0;
  auto submit_run = [&] {
    if (run.size() == 0) return;
    dev_->write(run_block * kBlockSize, std::move(run), g.io.cb());
    ++g.writes;
    data_write_requests_++;
    run = BufferList();
  };
  dev_->plug();
  for (; g.submitted < g.txns.size(); ++g.submitted) {
    for (const DataWrite& w : g.txns[g.submitted]->writes) {
      if (share_wal_flush_ && !written_before(w.block, w.count)) {
        ++g.hole_writes;
        hole_writes_++;
      }
      if (w.block != run_end || run.num_segments() >= kMaxRunSegments ||
          run.size() + w.data.size() > kMaxRunBytes) {
        submit_run();
      }
      if (run.size() == 0) run_block = w.block;
      run.append(w.data);
      run_end = w.block + w.count;
    }
  }
  submit_run();
  dev_->unplug();
  if (g.writes > 0 && !dev_->dsync_writes()) device_dirty_ = true;
}

bool BlockStoreImpl::written_before(uint64_t block, uint64_t count) {
  // Blocks handed to a transaction were free, and a free block's contents (so
  // whether the file has it written) come from an earlier owner whose group is
  // durable, from the preparer (which syncs before it gives blocks back) or from
  // before the mount (which syncs the file): "written" is durable here. Whole
  // chunks found written are remembered (the store never punches holes).
  const uint64_t c0 = block / kSolidChunkBlocks, c1 = (block + count - 1) / kSolidChunkBlocks;
  bool known = true;
  for (uint64_t c = c0; c <= c1 && known; ++c) known = solid_chunks_[c];
  if (known) return true;
  Result<uint64_t> hole = dev_->next_hole(c0 * kSolidChunkBlocks * kBlockSize);
  if (!hole.ok()) return false;
  for (uint64_t c = c0; c <= c1 && (c + 1) * kSolidChunkBlocks * kBlockSize <= *hole; ++c)
    solid_chunks_[c] = true;
  const uint64_t first = block * kBlockSize, last = (block + count) * kBlockSize;
  if (*hole >= last) return true;
  if (*hole > first) return false;  // a hole inside the write's own range
  hole = dev_->next_hole(first);    // the hole was before it, in the same chunk
  return hole.ok() && *hole >= last;
}

Status BlockStoreImpl::wait_data(CommitGroup& g) {
  if (g.writes == 0) return ok_status();
  CAIRN_RETURN_IF_ERROR(dev_->run_until_idle());
  std::lock_guard lock(mu_);
  for (auto& t : g.txns) {
    for (const DataWrite& w : t->writes) {
      auto it = pending_new_.find(w.block);
      if (it != pending_new_.end() && it->second.data.data() == w.data.data()) pending_new_.erase(it);
    }
  }
  return g.io.first_error;
}

Status BlockStoreImpl::device_flush() {
  if (!device_dirty_) return ok_status();
  CAIRN_RETURN_IF_ERROR(flush_device_now());
  device_dirty_ = false;  // every data write submitted so far has completed (wait_data)
  return ok_status();
}

Status BlockStoreImpl::flush_device_now() {
  // On this thread, not through the ring: an io_uring fsync always runs on an io-wq
  // worker, two thread switches more per commit group. It covers the writes
  // completed before it; device_dirty_ is the caller's (the next group's data may
  // be in flight).
  CAIRN_RETURN_IF_ERROR(dev_->flush_now());
  device_flushes_++;
  applied_now_flushed();
  return ok_status();
}

void BlockStoreImpl::applied_now_flushed() {
  for (AppliedDeferred& a : applied_) flushed_.push_back(std::move(a));
  applied_.clear();
}

namespace {
template <class Applied>
size_t records(const std::vector<Applied>& v) {
  size_t n = 0;
  for (const auto& a : v) n += a.seqs.size();
  return n;
}
}  // namespace

size_t BlockStoreImpl::flushed_records() const { return records(flushed_); }
size_t BlockStoreImpl::applied_records() const { return records(applied_); }

std::vector<BlockStoreImpl::AppliedDeferred> BlockStoreImpl::delete_flushed(rocksdb::WriteBatch& del) {
  for (const AppliedDeferred& a : flushed_) {
    for (uint64_t seq : a.seqs) del.Delete(keys::deferred_key(seq));
    deferred_retired_ += a.seqs.size();
  }
  return std::exchange(flushed_, {});
}

bool BlockStoreImpl::writes_kv(const std::vector<std::unique_ptr<PreparedTxn>>& group) {
  return std::any_of(group.begin(), group.end(), [](const auto& t) { return has_kv(*t); });
}

Status BlockStoreImpl::commit_kv(std::vector<std::unique_ptr<PreparedTxn>>& group,
                                 std::vector<AppliedDeferred>& deleted,
                                 const std::function<void()>* before_flush) {
  // The whole group goes to RocksDB as one write (RocksDB merges concurrent writers
  // the same way; we have one writer). A group is acknowledged as a whole, so it may
  // commit as a whole.
  std::vector<rocksdb::WriteBatch*> batches;
  for (auto& t : group) {
    if (has_kv(*t)) batches.push_back(&t->batch);
  }
  commit_groups_++;
  if (batches.empty()) return ok_status();
  // Without share_wal_flush the WAL's sync is not a flush of the data device
  // (a raw device, another file system): applied in-place writes become durable
  // only by a flush of the device itself, done here once a batch has gathered.
  if (!share_wal_flush_ && !dev_->dsync_writes() && applied_records() >= retire_batch())
    CAIRN_RETURN_IF_ERROR(flush_device_now());
  // 'D' records whose in-place blocks an earlier flush made durable go with it.
  rocksdb::WriteBatch del;
  std::vector<AppliedDeferred> deleting;
  if (flushed_records() >= retire_batch()) {
    deleting = delete_flushed(del);
    batches.push_back(&del);
  }
  // With share_wal_flush the WAL's sync ends with a cache flush of the whole
  // device: in-place writes that completed before it began are durable when it
  // returns. In a written-ahead WAL file the sync runs `hook` between writing
  // the pages and the flush (wal_files.h).
  const std::function<void()> hook = [&] {
    if (before_flush) (*before_flush)();
    crash_point(CrashPoint::kBeforeWalFlush);
  };
  // Without one (nothing to wait for, no crash hook) the WAL file's sync is one
  // fdatasync: a separate page write and wait first only costs a system call.
  if (wal_fs_ && (before_flush || opts_.crash_hook)) WalSpareFileSystem::set_before_flush(&hook);
  auto write = [&] {
    rocksdb::Status rs = write_as_one(*db_, batches);
    return rs.ok() ? ok_status() : error(Errc::kIo, "rocksdb write: " + rs.ToString());
  };
  Status st = share_wal_flush_ ? dev_->flush_by(write) : write();
  if (wal_fs_) WalSpareFileSystem::clear_before_flush();
  if (!st.ok()) return st;  // the store fails: the records stay in RocksDB
  for (const rocksdb::WriteBatch* b : batches) kv_bytes_ += b->GetDataSize();
  deleted = std::move(deleting);
  if (share_wal_flush_) applied_now_flushed();
  return ok_status();
}

void BlockStoreImpl::publish(std::vector<std::unique_ptr<PreparedTxn>>& group) {
  std::lock_guard lock(mu_);
  ++publish_gen_;
  for (auto& t : group) {
    if (!t->status.ok()) continue;
    for (auto& [key, onode] : t->onodes) {
      if (onode) {
        cache_->put(key, onode);
      } else {
        cache_->erase(key);
      }
      auto ov = overlay_.find(key);
      if (ov != overlay_.end() && ov->second.seq == t->seq) overlay_.erase(ov);
    }
    for (const auto& [cid, exists] : t->colls) {
      if (exists) {
        colls_committed_.insert(cid);
      } else {
        colls_committed_.erase(cid);
      }
    }
    committed_txns_++;
  }
}

Status BlockStoreImpl::apply_deferred(std::vector<std::unique_ptr<PreparedTxn>>& group) {
  auto f = std::make_unique<DeferredFlight>();
  // Later transactions win: one write per block.
  for (auto& t : group) {
    if (!t->status.ok() || t->deferred.empty()) continue;
    f->seqs.push_back(t->seq);
    for (const auto& [blk, data] : t->deferred) f->blocks[blk] = data;
  }
  if (f->blocks.empty()) return ok_status();
  // An earlier group's writes to these blocks must land first: no two writes to
  // one block are ever in the ring together.
  CAIRN_RETURN_IF_ERROR(finish_deferred());
  dev_->plug();
  for (const auto& [blk, data] : f->blocks) dev_->write(blk * kBlockSize, BufferList(data), f->io.cb());
  dev_->unplug();
  deferred_flight_ = std::move(f);
  return ok_status();
}

Status BlockStoreImpl::finish_deferred() {
  if (!deferred_flight_) return ok_status();
  DeferredFlight& f = *deferred_flight_;
  Status st;
  while (f.io.outstanding > 0 && st.ok()) {
    auto r = dev_->poll(true);
    if (!r.ok()) st = r.status();
  }
  if (f.io.outstanding > 0) {
    // The ring failed under us: its callbacks may still run, so the flight stays.
    return st;
  }
  std::unique_ptr<DeferredFlight> done = std::move(deferred_flight_);
  CAIRN_RETURN_IF_ERROR(st);
  CAIRN_RETURN_IF_ERROR(done->io.first_error);
  deferred_writes_ += done->blocks.size();
  crash_point(CrashPoint::kAfterDeferredApply);
  AppliedDeferred a;
  a.seqs = std::move(done->seqs);
  {
    std::lock_guard lock(mu_);
    for (const auto& [blk, data] : done->blocks) {
      auto it = pending_deferred_.find(blk);
      if (it != pending_deferred_.end() && it->second.data() == data.data()) pending_deferred_.erase(it);
      a.blocks.push_back(blk);
      named_blocks_.insert(blk);
    }
  }
  // With RWF_DSYNC the writes were durable when they completed.
  if (dev_->dsync_writes()) {
    flushed_.push_back(std::move(a));
  } else {
    applied_.push_back(std::move(a));
  }
  return ok_status();
}

Status BlockStoreImpl::retire_deferred_records() {
  CAIRN_RETURN_IF_ERROR(finish_deferred());
  if (!applied_.empty()) {
    CAIRN_RETURN_IF_ERROR(flush_device_now());
    device_dirty_ = false;  // idle: no data write in flight
  }
  if (flushed_.empty()) return ok_status();
  rocksdb::WriteBatch del;
  std::vector<AppliedDeferred> deleted = delete_flushed(del);
  rocksdb::Status rs = write_as_one(*db_, {&del});
  if (!rs.ok()) return error(Errc::kIo, "rocksdb write: " + rs.ToString());
  kv_bytes_ += del.GetDataSize();
  release_held(deleted);
  return ok_status();
}

void BlockStoreImpl::fail_store(const Status& st) {
  CAIRN_LOG(kError, kStore) << "store failed: no further commits" << kv("error", st.to_string());
  std::lock_guard lock(mu_);
  if (failed_.ok()) failed_ = st;
  done_cv_.notify_all();
}

}  // namespace cairn::store
