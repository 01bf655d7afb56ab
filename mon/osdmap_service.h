// The OSD map service: the cluster's placement state as a chain of epochs.
//
// Keys: osdmap/full/<epoch>, osdmap/inc/<epoch> (10-digit, zero-padded),
// osdmap/first, osdmap/last. Every change (OSD boot, failure, out/in, pools,
// flags, pg_temp) goes into one pending incremental; the pending incremental is
// proposed as the next epoch when no other epoch is in flight, so concurrent
// commands batch into one epoch and epochs never race. Commands reply once the
// epoch carrying their change commits.
//
// OSD daemons talk to this service through the messenger (boot, failure reports,
// beacons, up_thru requests, map subscriptions); the handlers here are pure.
//
// Thread-safety: owned by the monitor's Paxos thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crush/osd_map.h"
#include "mon/osd_failure.h"
#include "mon/pg_stats.h"
#include "mon/service.h"

namespace cairn::mon {

struct OsdMapServiceConfig {
  std::string fsid;  // the cluster's identity, written into epoch 1
  FailureConfig failure;
  // The failure-domain type that failure reporters must differ in ("host", or
  // "osd" for a one-host cluster).
  std::string reporter_domain_type = "host";
  uint32_t default_pool_size = 3;
  uint32_t default_pool_min_size = 2;
  uint32_t default_pg_num = 32;
  std::string default_rule = "replicated_host";
  uint32_t epochs_kept = 500;  // full maps and incrementals kept at least (more while a PG may need them)
};

class OsdMapService final : public Service {
 public:
  using Done = std::function<void(Status)>;
  using Clock = std::function<uint64_t()>;  // monotonic ms, for failure detection

  OsdMapService(OsdMapServiceConfig cfg, Clock clock);

  std::string_view name() const override { return "osdmap"; }
  void refresh(const PaxosStore& store) override;
  bool owns(const std::vector<std::string>& args) const override;
  Result<std::optional<KvTxn>> command(const MonCommand& cmd, MonCommandReply& reply) override;
  bool command_async(const MonCommand& cmd, ReplyFn& done) override;
  void tick(uint64_t now_ms, std::vector<KvTxn>& out) override;
  void health(std::vector<HealthCheck>& out) const override;

  // ---- from OSDs (leader only; errors are values the daemon sends back) ----
  // A booting OSD: marks it up at `addr` (kNotFound if it was never created).
  // Placed under `host` with `weight` if CRUSH does not have it yet.
  Status osd_boot(int32_t osd, const std::string& addr, uint64_t instance, const std::string& host,
                  crush::Weight weight, Done done);
  void osd_failure(int32_t target, int32_t reporter, uint64_t failed_since_ms, bool still_alive);
  void osd_beacon(int32_t osd);
  // A primary asks that up_thru be at least `epoch` before it goes active.
  Status osd_want_up_thru(int32_t osd, crush::Epoch epoch, Done done);
  Status set_pg_temp(const crush::PgId& pg, std::vector<crush::ItemId> acting, Done done);
  // Usage and PG states from an OSD (kept in the leader's memory, see pg_stats.h).
  void osd_stats(const msg::OsdStatsMsg& m);
  PgStatsTable::Summary pg_summary() const { return pg_stats_.summary(map_, clock_()); }

  // ---- for subscribers (any monitor: committed data) ----
  const crush::OsdMap& map() const { return map_; }
  Result<crush::OsdMap> full_map(const PaxosStore& store, crush::Epoch e) const;
  Result<crush::OsdMapIncremental> incremental(const PaxosStore& store, crush::Epoch e) const;
  crush::Epoch first_epoch() const { return first_; }

 private:
  // The map all new changes are relative to: committed + in flight + pending.
  const crush::OsdMap& projected();
  // Adds a change to the pending epoch; `done` runs when it commits.
  Status change(const std::function<Status(const crush::OsdMap&, crush::OsdMapIncremental&)>& edit,
                Done done);
  void propose_pending();
  const crush::OsdMap& pending_base() const { return inflight_map_ ? *inflight_map_ : map_; }
  void on_proposal_done(Status st);
  void create_initial_map();
  std::string reporter_domain(int32_t osd) const;

  using Edit = std::function<Status(const crush::OsdMap&, crush::OsdMapIncremental&)>;
  // Applies `edit` as part of the pending epoch and replies `text` once it commits.
  void reply_after(const Edit& edit, std::string text, ReplyFn done);
  void osd_command(const MonCommand& cmd, ReplyFn done);
  void osd_crush_command(const MonCommand& cmd, ReplyFn done);
  void pool_command(const MonCommand& cmd, ReplyFn done);
  Result<std::string> pg_command(const MonCommand& cmd) const;
  std::string tree(bool json) const;
  std::string dump(bool json) const;
  std::string status(bool json) const;
  std::string pg_dump(bool json) const;
  std::string pg_stat(bool json) const;

  OsdMapServiceConfig cfg_;
  Clock clock_;
  OsdFailureDetector failures_;
  crush::OsdMap map_;  // committed
  crush::Epoch first_ = 0;
  std::optional<crush::OsdMap> inflight_map_;  // committed + the epoch being proposed
  std::vector<Done> inflight_dones_;
  std::optional<crush::OsdMapIncremental> pending_;
  std::optional<crush::OsdMap> pending_map_;  // projected result of pending_
  std::vector<Done> pending_dones_;
  bool initial_requested_ = false;
  PgStatsTable pg_stats_;
  // The full flag follows OSD usage: set when an OSD reports itself full, cleared
  // when none does (only if it was set that way: an operator's `osd set full` stays).
  bool auto_full_ = false;
  bool full_change_pending_ = false;
  bool fullness_change_pending_ = false;
};

}  // namespace cairn::mon
