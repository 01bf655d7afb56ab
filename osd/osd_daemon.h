// cairn-osd: one object storage daemon (one BlockStore).
//
// Threads: the front thread (the io_context given to the constructor) runs the
// messenger, the monitor session, heartbeats, stats and the admin socket. N shard
// threads (osd_shards, default: cores) each own an io_context and the PGs that
// hash to them; the front thread decodes each PG message and posts it to its
// shard, so everything a PG does runs on one thread without locks. Shards send
// to peers by posting to the front thread (connections belong to it); replies
// to clients go straight from the shard (Connection::reply is thread-safe).
// The store's commit callbacks run on its commit thread and post back to the shard.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/admin_server.h"
#include "common/asio.h"
#include "common/metrics.h"
#include "common/status.h"
#include "crush/osd_map.h"
#include "msg/messenger.h"
#include "msg/mon_session.h"
#include "osd/store/block_store.h"

namespace cairn::osd {

struct OsdOptions {
  int32_t id = -1;
  std::string data_dir;
  std::string mon_host;
  std::string public_addr = "127.0.0.1";
  uint16_t port = 0;
  std::string crush_host;  // CRUSH host bucket on first boot (default: the machine's name)
  uint32_t shards = 0;     // 0: one per core
  std::string metrics_addr = "127.0.0.1";
  uint16_t metrics_port = 0;
  std::string admin_socket;             // default <data>/osd.<id>.asok
  uint64_t device_bytes = 10ull << 30;  // mkfs: size of the block file
  uint64_t cache_bytes = 128ull << 20;
  bool store_dsync = false;       // data writes with RWF_DSYNC instead of a flush per commit group
  bool store_share_flush = true;  // store: a group's WAL sync flushes the next group's data
  // File-backed store: free space kept written ahead of the allocator (0: off).
  uint64_t prepare_ahead_bytes = 256ull << 20;
  uint64_t store_wal_spare_bytes = 72ull << 20;   // store: each RocksDB WAL file starts written ahead
  uint64_t store_data_cache_bytes = 64ull << 20;  // store: 4 KiB blocks of small client reads kept
  uint32_t group_commit_delay_us = 500;           // store: a new commit group waits for company (0: off)
  // Bytes of client requests in progress beyond which client connections stop
  // being read (osd_client_message_size_cap; 0: no bound).
  uint64_t client_message_cap = 128ull << 20;
  uint32_t heartbeat_interval_ms = 1000;
  uint32_t heartbeat_grace_ms = 20000;
  uint32_t stats_interval_ms = 2000;
  uint32_t beacon_interval_ms = 5000;
  uint64_t scrub_interval_ms = 24ull * 3600 * 1000;           // light scrub of each PG
  uint64_t deep_scrub_interval_ms = 7ull * 24 * 3600 * 1000;  // deep scrub of each PG
  uint32_t max_backfills = 1;                                 // background backfills at once
  uint64_t recovery_max_log_entries = 100;                    // further behind: backfilled in the background
  uint32_t recovery_max_active = 2;                           // background pushes in flight per PG
  uint32_t recovery_sleep_ms = 30;  // pause after each background push (not degraded)
  uint64_t recovery_max_bytes = 0;  // bytes/s of background pushes, split over the shards (0: no cap)
};

class Shard;
}  // namespace cairn::osd
namespace cairn::pg {
class ReplicatedPg;
}
namespace cairn::osd {

class OsdDaemon {
 public:
  // Formats the data directory: a BlockStore and the OSD's identity.
  static Status mkfs(const OsdOptions& opts);

  OsdDaemon(asio::io_context& front, OsdOptions opts);
  ~OsdDaemon();
  OsdDaemon(const OsdDaemon&) = delete;
  OsdDaemon& operator=(const OsdDaemon&) = delete;

  // Opens the store, loads PGs, starts the shards and the messenger, then boots
  // in the background (registers with the monitors, follows the osdmap).
  Status start();
  void stop();

  int32_t whoami() const { return opts_.id; }
  store::ObjectStore& store() { return *store_; }
  store::BlockStore& block_store() { return *store_; }
  std::string addr() const;

  // ---- for shards (any thread) ----
  void send_to_osd(int32_t osd, msg::Message m);
  void want_map(uint32_t epoch);
  // The maps of epochs [from, to], oldest first, into `out`. False when some are not
  // here: they are fetched from the monitors (the caller asks again later). Epochs
  // the monitors no longer keep are skipped, so `out` may start after `from`.
  bool maps_between(uint32_t from, uint32_t to, std::vector<std::shared_ptr<const crush::OsdMap>>& out);
  // Asks the monitors to record up_thru >= `epoch` for this OSD (a primary about to go active).
  void want_up_thru(uint32_t epoch);
  void request_pg_temp(const crush::PgId& pg, std::vector<int32_t> acting);
  // Background backfills running on this OSD, bounded by osd_max_backfills.
  bool reserve_backfill();
  const OsdOptions& options() const { return opts_; }
  size_t num_shards() const { return shards_.size(); }
  void release_backfill();
  std::chrono::milliseconds scrub_interval(bool deep) const {
    return std::chrono::milliseconds(deep ? opts_.deep_scrub_interval_ms : opts_.scrub_interval_ms);
  }
  MetricsRegistry& metrics() { return metrics_; }
  Counter& ops_counter() { return m_ops_; }
  Counter& op_bytes_counter() { return m_op_bytes_; }

 private:
  void register_handlers();
  void handle_osdmap(const msg::Message& m);
  void publish_map(std::vector<std::shared_ptr<const crush::OsdMap>> fresh);
  void remember_map(const std::shared_ptr<const crush::OsdMap>& m);
  void fetch_maps(uint32_t from, uint32_t to);
  void boot();
  void dispatch_pg_message(const msg::ConnectionRef& c, msg::Message m);
  Shard& shard_of(int64_t pool, uint32_t seed);
  void heartbeat_tick();
  void stats_tick();
  void beacon_tick();
  void schedule(std::unique_ptr<asio::steady_timer>& t, uint32_t ms, void (OsdDaemon::*fn)());
  msg::ConnectionRef peer(int32_t osd);
  void drain_backlog(int32_t osd);
  void register_admin_commands();
  // Runs `fn` on PG `pgid`'s shard and waits for it (admin commands).
  Result<std::string> on_pg(const std::string& pgid,
                            std::function<Result<std::string>(pg::ReplicatedPg&)> fn);

  asio::io_context& io_;
  OsdOptions opts_;
  MetricsRegistry& metrics_;
  Counter& m_ops_;
  Counter& m_op_bytes_;
  Gauge& m_epoch_;
  Gauge& m_resident_;
  Gauge& m_pool_retained_;
  Gauge& m_onode_cache_;
  Gauge& m_client_bytes_;
  Gauge& m_client_waits_;
  // The store's own counters, carried into the registry by stats_tick().
  struct StoreCounters {
    Counter& txns;
    Counter& groups;
    Counter& shared_flushes;
    Counter& hole_writes;
    Counter& data_requests;
    Counter& checksum_errors;
    Counter& wal_spares;
    Counter& plain_wals;
    Counter& data_cache_hits;
    Counter& data_cache_misses;
    Counter& kv_bytes;
    Counter& device_flushes;
    Counter& deferred_retired;
  };
  StoreCounters m_store_;
  std::unique_ptr<store::BlockStore> store_;
  std::unique_ptr<msg::Messenger> messenger_;
  msg::DispatchTable dispatch_;
  std::unique_ptr<msg::MonSession> mon_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::shared_ptr<const crush::OsdMap> map_;
  // Recent maps by epoch, for PGs working out their past intervals (any thread, under hist_mu_).
  static constexpr size_t kMaxHistory = 2000;
  std::mutex hist_mu_;
  std::map<uint32_t, std::shared_ptr<const crush::OsdMap>> history_;
  uint32_t oldest_available_ = 1;  // the monitors keep nothing older
  bool fetching_ = false;          // a fetch of old maps is in progress (front thread)
  std::atomic<uint32_t> backfills_{0};
  uint32_t up_thru_wanted_ = 0;  // front thread
  bool up_thru_asking_ = false;
  uint64_t instance_ = 0;
  bool booting_ = false;
  uint32_t booted_epoch_ = 0;      // epoch that marked this instance up
  uint32_t boot_acked_epoch_ = 0;  // epoch the monitors answered our last boot with
  // From map_: notes this instance up, or boots again if a map says it is down.
  void check_up();
  struct Peer {
    msg::ConnectionRef conn;
    uint64_t instance = 0;
    uint64_t last_rx_ns = 0;  // last ping reply
    bool reported = false;
    std::deque<msg::Message> backlog;  // refused for now by the connection's bound, in order
    bool draining = false;
  };
  std::map<int32_t, Peer> peers_;
  std::unique_ptr<asio::steady_timer> hb_timer_, stats_timer_, beacon_timer_;
  std::unique_ptr<AdminServer> admin_;
  bool stopping_ = false;
};

}  // namespace cairn::osd
