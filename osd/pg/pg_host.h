// What a placement group needs from the OSD that hosts it: its identity, the
// store, messages to peer OSDs, running work on the PG's own shard thread, and
// timers. The OSD daemon implements it once per shard; tests may fake it.
//
// Thread-safety: every method is called on the PG's shard thread, except
// run_on_shard(), which store callbacks call from the store's commit thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "crush/osd_map.h"
#include "msg/message.h"
#include "osd/store/object_store.h"

namespace cairn::pg {

class PgHost {
 public:
  virtual ~PgHost() = default;
  virtual int32_t whoami() const = 0;
  virtual store::ObjectStore& store() = 0;
  // One-way message to a peer OSD over the cluster's lossless connection to it.
  virtual void send_to_osd(int32_t osd, msg::Message m) = 0;
  // Runs `fn` on this PG's shard thread (from any thread).
  virtual void run_on_shard(std::function<void()> fn) = 0;
  // Runs `fn` on the shard thread after `delay`.
  virtual void run_after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  virtual uint64_t now_ns() const = 0;   // monotonic
  virtual uint64_t wall_ns() const = 0;  // since the Unix epoch (object mtimes)
  // Reads object data without blocking the shard (the store's ring on this thread);
  // `cb` runs on the shard thread. The default reads synchronously.
  using ReadCallback = std::function<void(Result<BufferList>)>;
  virtual void read_async(const store::CollectionId& cid, const store::ObjectId& oid, uint64_t off,
                          uint64_t len, ReadCallback cb) {
    cb(store().read(cid, oid, off, len));
  }
  // This OSD's store is at or above `full_permille` of its capacity.
  virtual bool store_full(uint32_t full_permille) {
    auto fs = store().statfs();
    return fs.ok() && fs->total > 0 && fs->used * 1000 / fs->total >= full_permille;
  }
  // How often a PG this OSD is primary of is scrubbed (0: never), light and deep.
  virtual std::chrono::milliseconds scrub_interval(bool deep) const {
    (void)deep;
    return std::chrono::milliseconds(0);
  }
  // The shard's OSD has a newer map than `epoch`? Asks the monitors if not.
  virtual void want_map(uint32_t epoch) = 0;
  // The maps of epochs [from, to], oldest first (those the monitors still keep).
  // False when some are not here yet: they are being fetched; ask again later.
  virtual bool maps_between(uint32_t from, uint32_t to,
                            std::vector<std::shared_ptr<const crush::OsdMap>>& out) = 0;
  // A primary is about to go active in an interval that began at `epoch`: the
  // monitors must first record this OSD's up_thru >= epoch (a new map carries it).
  virtual void want_up_thru(uint32_t epoch) = 0;
  // Asks the monitors to make `acting` the PG's acting set (pg_temp); empty: drop it.
  virtual void request_pg_temp(const crush::PgId& pg, std::vector<int32_t> acting) = 0;
  // Background backfills this OSD runs at once are limited (osd_max_backfills):
  // true if one more may start now; each true is paired with a release.
  virtual bool reserve_backfill() { return true; }
  // A copy more than this many log entries behind is brought up to date in the
  // background (the PG stays active on complete copies) rather than from the log
  // while the PG waits.
  virtual uint64_t recovery_max_log_entries() const { return 100; }
  // Background backfill pushes in flight per PG, and the pause after each one
  // (only while the PG is not degraded).
  virtual size_t recovery_max_active() const { return 2; }
  virtual std::chrono::milliseconds recovery_sleep() const { return std::chrono::milliseconds(0); }
  // Bandwidth of background (misplaced) pushes: charges `bytes` just sent and says
  // how long to wait before the next one (zero while within osd_recovery_max_bytes).
  virtual std::chrono::milliseconds recovery_charge(uint64_t bytes) {
    (void)bytes;
    return std::chrono::milliseconds(0);
  }
  virtual void release_backfill() {}
};

}  // namespace cairn::pg
