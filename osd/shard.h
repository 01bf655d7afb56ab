// One OSD shard: a thread with its own io_context and the PGs that hash to it.
// Everything here runs on the shard's thread except post() and the constructor.
#pragma once

#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "common/asio.h"
#include "crush/osd_map.h"
#include "osd/pg/pg_host.h"
#include "osd/pg/replicated_pg.h"
#include "osd/store/uring_device.h"

namespace cairn::osd {

class OsdDaemon;

class Shard final : public pg::PgHost {
 public:
  // `inline_io`: run on that io_context (the front thread's) instead of a thread of its own.
  Shard(OsdDaemon& osd, uint32_t index, asio::io_context* inline_io = nullptr);
  ~Shard() override;

  void start();
  // Runs on the front thread (no thread of its own)?
  bool is_inline() const { return own_io_ == nullptr; }
  void stop();  // stops the thread and waits for it
  template <typename F>
  void post(F&& fn) {
    asio::post(io_, std::forward<F>(fn));
  }
  // Loads the PGs found in the store that hash to this shard (before start()).
  Status load_pgs(uint32_t num_shards);

  // ---- on the shard thread ----
  // New maps, one per epoch, oldest first: each PG sees every interval change.
  void handle_maps(const std::vector<std::shared_ptr<const crush::OsdMap>>& maps, uint32_t num_shards);
  // A PG message (kMsgOsdOp and the osd <-> osd ones), decoded by the front thread.
  void dispatch(const msg::ConnectionRef& conn, msg::Message m, int32_t from_osd);
  // A client op the front thread decoded and validated.
  void dispatch_op(const msg::ConnectionRef& conn, msg::Message m, msg::OsdOpMsg op);
  void connection_closed(const msg::ConnectionRef& conn);
  std::vector<msg::PgStatEntry> pg_stats();
  pg::ReplicatedPg* find_pg(const crush::PgId& id);
  size_t num_pgs() const { return pgs_.size(); }

  // ---- PgHost ----
  int32_t whoami() const override;
  store::ObjectStore& store() override;
  void send_to_osd(int32_t osd, msg::Message m) override;
  void run_on_shard(std::function<void()> fn) override;
  void run_after(std::chrono::milliseconds delay, std::function<void()> fn) override;
  uint64_t now_ns() const override;
  uint64_t wall_ns() const override;
  void want_map(uint32_t epoch) override;
  bool maps_between(uint32_t from, uint32_t to,
                    std::vector<std::shared_ptr<const crush::OsdMap>>& out) override;
  void want_up_thru(uint32_t epoch) override;
  void request_pg_temp(const crush::PgId& pg, std::vector<int32_t> acting) override;
  bool reserve_backfill() override;
  uint64_t recovery_max_log_entries() const override;
  size_t recovery_max_active() const override;
  std::chrono::milliseconds recovery_sleep() const override;
  std::chrono::milliseconds recovery_charge(uint64_t bytes) override;
  void release_backfill() override;
  std::chrono::milliseconds scrub_interval(bool deep) const override;
  void read_async(const store::CollectionId& cid, const store::ObjectId& oid, uint64_t off, uint64_t len,
                  ReadCallback cb) override;

 private:
  static constexpr size_t kMaxParked = 65536;
  struct Parked {
    msg::ConnectionRef conn;
    msg::Message m;
    int32_t from;
  };
  pg::ReplicatedPg* get_pg(const crush::PgId& id, bool create);
  // Holds a peer message for a pool this shard's map does not have yet; true if held.
  bool park(const msg::ConnectionRef& conn, msg::Message& m, int32_t from, int64_t pool);

  OsdDaemon& osd_;
  uint32_t index_;
  std::unique_ptr<asio::io_context> own_io_;
  asio::io_context& io_;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::shared_ptr<const crush::OsdMap> map_;
  std::map<crush::PgId, std::unique_ptr<pg::ReplicatedPg>> pgs_;
  std::vector<Parked> parked_;
  // This shard's read ring on the store's device, polled when its eventfd fires.
  std::unique_ptr<store::UringDevice> ring_;
  std::unique_ptr<asio::posix::stream_descriptor> ring_fd_;
  void arm_ring();
  // osd_recovery_max_bytes / shards: a token bucket (negative: in debt) refilled with time.
  double recovery_tokens_ = 0;
  uint64_t recovery_refilled_ns_ = 0;
};

// Which shard a PG lives on.
uint32_t shard_index(int64_t pool, uint32_t seed, uint32_t num_shards);

}  // namespace cairn::osd
