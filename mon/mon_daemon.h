// cairn-mon: a monitor process. Wires the pure parts (Paxos, MonitorCore, the
// map services) to the world: the RocksDB store, the messenger (peers, clients,
// OSDs), timers, /metrics and the admin socket.
//
// One thread runs everything (an io_context): monitors are small and boring,
// and one owner means no locks. Synced RocksDB writes block that thread for
// about a disk flush (0.3 ms here), which bounds commits per second per batch,
// not the number of changes: proposals batch while a commit is in flight.
//
// Thread-safety: every member belongs to the io_context's thread.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "common/admin_server.h"
#include "common/asio.h"
#include "common/env.h"
#include "common/metrics.h"
#include "mon/monitor_core.h"
#include "mon/monmap.h"
#include "mon/osdmap_service.h"
#include "mon/paxos.h"
#include "msg/messenger.h"

namespace cairn::mon {

class MonmapService;

struct MonDaemonOptions {
  std::string id;        // "a"
  std::string data_dir;  // holds store/, monmap, fsid
  std::string metrics_addr = "127.0.0.1";
  uint16_t metrics_port = 0;
  std::string admin_socket;  // default <data_dir>/mon.<id>.asok
  PaxosConfig paxos;
  OsdMapServiceConfig osdmap;
  uint32_t tick_ms = 20;
  // A monitor whose clock differs from the leader's by more than this is reported (MON_CLOCK_SKEW).
  uint64_t clock_drift_allowed_ms = 50;
  // Tests only: added to this monitor's wall clock.
  int64_t test_clock_offset_ms = 0;
};

class MonDaemon : public PaxosHost {
 public:
  // Writes the store, the monmap and the fsid for a new monitor. kExists if already made.
  static Status mkfs(const std::string& data_dir, const std::string& id, const MonMap& monmap);

  MonDaemon(asio::io_context& io, MonDaemonOptions opts);
  ~MonDaemon() override;

  Status start();
  void stop();
  // The bound addresses, once started.
  std::string addr() const;
  uint16_t metrics_port() const { return admin_ ? admin_->http_port() : 0; }

  // PaxosHost
  void send(int to_rank, const PaxosMsg& m) override;
  uint64_t now_ns() const override { return real_clock().now_ns(); }
  uint64_t wall_ns() const override;
  void on_commit(uint64_t version) override;
  void on_leader_change(int leader_rank, bool i_am_leader) override;

 private:
  void register_handlers();
  void on_paxos(const msg::ConnectionRef& c, msg::Message m);
  void on_command(const msg::ConnectionRef& c, msg::Message m);
  void on_subscribe(const msg::ConnectionRef& c, msg::Message m);
  void on_osd_message(const msg::ConnectionRef& c, msg::Message m);
  void answer_osd(const msg::ConnectionRef& c, const msg::Message& req, Status st);
  bool daemon_command(const MonCommand& cmd, MonCommandReply& reply);
  void publish_osdmap();
  void send_osdmaps(const msg::ConnectionRef& c, uint32_t from);
  void on_get_osdmaps(const msg::ConnectionRef& c, msg::Message m);
  void schedule_tick();
  void register_admin_commands();
  std::string leader_addr() const;
  Status connect_peers();
  void apply_monmap();
  struct RecoveryProgress {
    uint64_t pending = 0, total = 0;
    double rate = 0, eta_s = -1;
  };
  RecoveryProgress recovery_progress(const PgStatsTable::Summary& ps);
  nlohmann::json recovery_json(const PgStatsTable::Summary& ps);
  std::string recovery_text(const PgStatsTable::Summary& ps);
  static uint64_t pending_bytes(const PgStatsTable::Summary& ps, const RecoveryProgress& p);

  asio::io_context& io_;
  MonDaemonOptions opts_;
  MonMap monmap_;
  int rank_ = -1;
  std::unique_ptr<PaxosStore> store_;
  SeededRandom rng_;
  std::unique_ptr<Paxos> paxos_;
  std::unique_ptr<MonitorCore> core_;
  OsdMapService* osdmap_ = nullptr;
  MonmapService* monmap_service_ = nullptr;
  std::unique_ptr<msg::Messenger> messenger_;
  msg::DispatchTable dispatch_;
  std::map<int, msg::ConnectionRef> peers_;             // rank -> lossless connection
  std::map<msg::ConnectionRef, uint32_t> subscribers_;  // conn -> next osdmap epoch to send
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<asio::steady_timer> tick_timer_;
  bool stopping_ = false;
  uint64_t recovery_sample_ns_ = 0;  // status: the last sample of objects still to heal
  uint64_t recovery_sample_pending_ = 0;
  double recovery_rate_ = 0;

  MetricsRegistry& metrics_;
  Counter& m_commits_;
  Counter& m_commands_;
  Counter& m_elections_;
  Gauge& m_leader_;
  Gauge& m_epoch_;
  Histogram& m_cmd_latency_;
};

}  // namespace cairn::mon
