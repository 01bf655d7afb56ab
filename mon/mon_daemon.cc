#include "mon/mon_daemon.h"

#include <nlohmann/json.hpp>

#include "common/checksum.h"
#include "common/log.h"
#include "mon/config_service.h"
#include "mon/monmap_service.h"
#include "msg/mon_messages.h"

namespace cairn::mon {

using msg::ConnectionRef;
using msg::Message;

namespace {

// OSD maps sent as incrementals in one message; further behind gets a full map.
constexpr uint32_t kMaxIncrementalsPerMessage = 100;

std::string mon_entity(const std::string& id) { return "mon." + id; }

// Health of the monitors themselves: who is outside the leader's quorum.
class MonHealthService final : public Service {
 public:
  MonHealthService(const MonMap& monmap, const Paxos& paxos, uint64_t drift_allowed_ms)
      : monmap_(monmap), paxos_(paxos), drift_allowed_ns_(drift_allowed_ms * 1'000'000) {}
  std::string_view name() const override { return "monhealth"; }
  void refresh(const PaxosStore&) override {}
  bool owns(const std::vector<std::string>&) const override { return false; }
  Result<std::optional<KvTxn>> command(const MonCommand&, MonCommandReply&) override {
    return Status(Errc::kInternal, "no commands");
  }
  void health(std::vector<HealthCheck>& out) const override {
    if (!paxos_.is_leader()) return;
    const std::set<int>& q = paxos_.quorum();
    std::vector<std::string> skewed;
    for (const auto& [r, skew] : paxos_.clock_skew_ns()) {
      uint64_t mag = static_cast<uint64_t>(skew < 0 ? -skew : skew);
      if (!q.count(r) || r >= monmap_.size() || mag <= drift_allowed_ns_) continue;
      char buf[160];
      std::snprintf(buf, sizeof buf, "mon.%s clock skew %.3fs > max %.3fs", monmap_.mons[r].name.c_str(),
                    static_cast<double>(skew) / 1e9, static_cast<double>(drift_allowed_ns_) / 1e9);
      skewed.push_back(buf);
    }
    if (!skewed.empty())
      out.push_back(HealthCheck{"MON_CLOCK_SKEW", HealthSeverity::kWarn,
                                "clock skew detected on " + std::to_string(skewed.size()) + " monitor(s)",
                                skewed});
    if (static_cast<int>(q.size()) >= monmap_.size()) return;
    std::vector<std::string> detail;
    for (int r = 0; r < monmap_.size(); ++r)
      if (!q.count(r))
        detail.push_back("mon." + monmap_.mons[r].name + " (" + monmap_.mons[r].addr + ") is out of quorum");
    out.push_back(HealthCheck{
        "MON_DOWN", HealthSeverity::kWarn,
        std::to_string(detail.size()) + "/" + std::to_string(monmap_.size()) + " mons down", detail});
  }

 private:
  const MonMap& monmap_;
  const Paxos& paxos_;
  uint64_t drift_allowed_ns_;
};

}  // namespace

Status MonDaemon::mkfs(const std::string& data_dir, const std::string& id, const MonMap& monmap) {
  FileSystem& fs = real_fs();
  CAIRN_ASSIGN_OR_RETURN(bool exists, fs.exists(data_dir + "/monmap"));
  if (exists) return error(Errc::kExists, "monitor data already in " + data_dir);
  if (!monmap.rank_of(id)) return error(Errc::kInvalid, "mon." + id + " is not in the initial members");
  CAIRN_RETURN_IF_ERROR(fs.mkdirs(data_dir));
  CAIRN_ASSIGN_OR_RETURN(auto store, open_rocks_paxos_store(data_dir + "/store"));
  store.reset();
  return fs.write_file_atomic(data_dir + "/monmap", encode_to_buffer(monmap).to_string());
}

MonDaemon::MonDaemon(asio::io_context& io, MonDaemonOptions opts)
    : io_(io),
      opts_(std::move(opts)),
      rng_(real_random().next_u64()),
      metrics_(MetricsRegistry::global()),
      m_commits_(metrics_.counter("cairn_mon_paxos_commits_total", "Paxos values committed")),
      m_commands_(metrics_.counter("cairn_mon_commands_total", "Admin commands handled")),
      m_elections_(metrics_.counter("cairn_mon_leader_changes_total", "Leader changes seen")),
      m_leader_(metrics_.gauge("cairn_mon_is_leader", "1 if this monitor leads")),
      m_epoch_(metrics_.gauge("cairn_mon_osdmap_epoch", "Committed OSD map epoch")),
      m_cmd_latency_(metrics_.histogram("cairn_mon_command_seconds", "Command latency",
                                        Histogram::exponential(0.0001, 2, 16))) {}

MonDaemon::~MonDaemon() = default;

Status MonDaemon::start() {
  CAIRN_ASSIGN_OR_RETURN(std::string mm, real_fs().read_file(opts_.data_dir + "/monmap"));
  auto monmap = decode_from<MonMap>(mm);
  if (!monmap.ok()) return monmap.status().with_context("monmap in " + opts_.data_dir);
  monmap_ = std::move(*monmap);
  auto rank = monmap_.rank_of(opts_.id);
  if (!rank) return error(Errc::kInvalid, "mon." + opts_.id + " is not in the monmap");
  rank_ = *rank;
  CAIRN_ASSIGN_OR_RETURN(store_, open_rocks_paxos_store(opts_.data_dir + "/store"));
  paxos_ = std::make_unique<Paxos>(rank_, monmap_.size(), *store_, *this, rng_, opts_.paxos);
  if (monmap_.mons[rank_].id != static_cast<uint32_t>(rank_))  // ballots carry the stable id
    paxos_->reconfigure(rank_, monmap_.size(), monmap_.mons[rank_].id);
  core_ = std::make_unique<MonitorCore>(*paxos_, *store_);
  core_->add_service(std::make_unique<ConfigService>());
  auto mms = std::make_unique<MonmapService>(monmap_);
  monmap_service_ = mms.get();
  core_->add_service(std::move(mms));
  core_->add_service(std::make_unique<MonHealthService>(monmap_, *paxos_, opts_.clock_drift_allowed_ms));
  OsdMapServiceConfig oc = opts_.osdmap;
  oc.fsid = monmap_.fsid;
  auto svc = std::make_unique<OsdMapService>(oc, [] { return real_clock().now_ns() / 1'000'000; });
  osdmap_ = svc.get();
  core_->add_service(std::move(svc));

  CAIRN_ASSIGN_OR_RETURN(auto self, msg::EntityName::parse(mon_entity(opts_.id)));
  messenger_ = std::make_unique<msg::Messenger>(io_, self);
  register_handlers();
  messenger_->set_dispatcher(&dispatch_);
  CAIRN_ASSIGN_OR_RETURN(auto my_addr, msg::EntityAddr::parse(monmap_.mons[rank_].addr));
  CAIRN_RETURN_IF_ERROR(messenger_->bind(my_addr).status().with_context("bind " + my_addr.to_string()));
  CAIRN_RETURN_IF_ERROR(connect_peers());
  // The log may hold a newer monmap than the file (a crash between the two).
  if (monmap_service_->map().epoch > monmap_.epoch) apply_monmap();

  admin_ = std::make_unique<AdminServer>(io_, metrics_);
  register_admin_commands();
  CAIRN_RETURN_IF_ERROR(admin_->start_http(opts_.metrics_addr, opts_.metrics_port));
  std::string sock =
      opts_.admin_socket.empty() ? opts_.data_dir + "/mon." + opts_.id + ".asok" : opts_.admin_socket;
  CAIRN_RETURN_IF_ERROR(admin_->start_admin_socket(sock));
  tick_timer_ = std::make_unique<asio::steady_timer>(io_);
  schedule_tick();
  CAIRN_LOG(kInfo, kMon) << "monitor started" << log::kv("mon", opts_.id) << log::kv("rank", rank_)
                         << log::kv("addr", my_addr.to_string())
                         << log::kv("metrics_port", admin_->http_port())
                         << log::kv("last_committed", store_->last_committed());
  return {};
}

Status MonDaemon::connect_peers() {
  for (auto& [r, c] : peers_) c->close();
  peers_.clear();
  for (int r = 0; r < monmap_.size(); ++r) {
    if (r == rank_) continue;
    CAIRN_ASSIGN_OR_RETURN(auto name, msg::EntityName::parse(mon_entity(monmap_.mons[r].name)));
    CAIRN_ASSIGN_OR_RETURN(auto addr, msg::EntityAddr::parse(monmap_.mons[r].addr));
    peers_[r] = messenger_->connect(msg::EntityInst{name, addr}, msg::Policy::kLossless);
  }
  return {};
}

void MonDaemon::apply_monmap() {
  const MonMap& next = monmap_service_->map();
  if (stopping_ || next.epoch <= monmap_.epoch) return;
  monmap_ = next;
  if (Status st =
          real_fs().write_file_atomic(opts_.data_dir + "/monmap", encode_to_buffer(monmap_).to_string());
      !st.ok())
    CAIRN_LOG(kError, kMon) << "cannot persist the monmap" << log::kv("error", st.to_string());
  auto rank = monmap_.rank_of(opts_.id);
  if (!rank) {
    CAIRN_LOG(kWarn, kMon) << "this monitor was removed from the monmap: stopping"
                           << log::kv("epoch", monmap_.epoch);
    stop();
    io_.stop();
    return;
  }
  rank_ = *rank;
  CAIRN_LOG(kInfo, kMon) << "monmap changed" << log::kv("epoch", monmap_.epoch)
                         << log::kv("members", monmap_.to_string()) << log::kv("rank", rank_);
  if (Status st = connect_peers(); !st.ok())
    CAIRN_LOG(kError, kMon) << "bad monmap address" << log::kv("error", st.to_string());
  paxos_->reconfigure(rank_, monmap_.size(), monmap_.mons[rank_].id);
}

void MonDaemon::stop() {
  if (stopping_) return;
  stopping_ = true;
  if (tick_timer_) tick_timer_->cancel();
  if (admin_) admin_->stop();
  if (messenger_) messenger_->shutdown();
}

// Recovery progress: degraded + misplaced object copies, the rate they heal at
// (between two `status` calls at least a second apart) and the time left.
MonDaemon::RecoveryProgress MonDaemon::recovery_progress(const PgStatsTable::Summary& ps) {
  RecoveryProgress p;
  p.pending = ps.degraded + ps.misplaced;
  p.total = std::max<uint64_t>(ps.copies, p.pending);
  uint64_t now = real_clock().now_ns();
  if (recovery_sample_ns_ && now - recovery_sample_ns_ >= 1'000'000'000ull) {
    double dt = static_cast<double>(now - recovery_sample_ns_) / 1e9;
    double healed = static_cast<double>(recovery_sample_pending_) - static_cast<double>(p.pending);
    recovery_rate_ = healed > 0 ? healed / dt : 0;
    recovery_sample_ns_ = now;
    recovery_sample_pending_ = p.pending;
  } else if (!recovery_sample_ns_) {
    recovery_sample_ns_ = now;
    recovery_sample_pending_ = p.pending;
  }
  p.rate = recovery_rate_;
  p.eta_s = p.rate > 0 ? static_cast<double>(p.pending) / p.rate : -1;
  return p;
}

nlohmann::json MonDaemon::recovery_json(const PgStatsTable::Summary& ps) {
  RecoveryProgress p = recovery_progress(ps);
  return {{"degraded_objects", ps.degraded},
          {"misplaced_objects", ps.misplaced},
          {"pending_bytes", pending_bytes(ps, p)},
          {"objects", ps.objects},
          {"objects_per_s", p.rate},
          {"eta_s", p.eta_s}};
}

// Bytes still to copy, estimated from the average object size.
uint64_t MonDaemon::pending_bytes(const PgStatsTable::Summary& ps, const RecoveryProgress& p) {
  return ps.objects ? static_cast<uint64_t>(static_cast<double>(ps.bytes) / static_cast<double>(ps.objects) *
                                            static_cast<double>(p.pending))
                    : 0;
}

std::string MonDaemon::recovery_text(const PgStatsTable::Summary& ps) {
  RecoveryProgress p = recovery_progress(ps);
  if (p.pending == 0) return "";
  double done = p.total ? 1.0 - static_cast<double>(p.pending) / static_cast<double>(p.total) : 1.0;
  constexpr int kWidth = 30;
  int fill = static_cast<int>(done * kWidth);
  std::string bar = "[" + std::string(fill, '=') + (fill < kWidth ? ">" : "") +
                    std::string(std::max(0, kWidth - fill - 1), ' ') + "]";
  char buf[320];
  std::snprintf(
      buf, sizeof buf,
      "\n  recovery:\n    %llu/%llu object copies degraded, %llu misplaced (about %.1f MiB to copy)\n"
      "    %s %.1f%% healthy",
      static_cast<unsigned long long>(ps.degraded), static_cast<unsigned long long>(p.total),
      static_cast<unsigned long long>(ps.misplaced), static_cast<double>(pending_bytes(ps, p)) / (1 << 20),
      bar.c_str(), done * 100);
  std::string out = buf;
  if (p.rate > 0) {
    std::snprintf(buf, sizeof buf, ", %.1f objects/s, about %.0f s left", p.rate, p.eta_s);
    out += buf;
  }
  return out + "\n";
}

uint64_t MonDaemon::wall_ns() const {
  return real_clock().wall_ns() + static_cast<uint64_t>(opts_.test_clock_offset_ms * 1'000'000);
}

std::string MonDaemon::addr() const { return messenger_ ? messenger_->addr().to_string() : ""; }

std::string MonDaemon::leader_addr() const {
  int l = paxos_ ? paxos_->leader_rank() : -1;
  return l >= 0 && l < monmap_.size() ? monmap_.mons[l].addr : "";
}

void MonDaemon::schedule_tick() {
  if (stopping_) return;
  tick_timer_->expires_after(std::chrono::milliseconds(opts_.tick_ms));
  tick_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    paxos_->tick();
    core_->tick(real_clock().now_ns() / 1'000'000);
    schedule_tick();
  });
}

void MonDaemon::send(int to_rank, const PaxosMsg& m) {
  auto it = peers_.find(to_rank);
  if (it == peers_.end()) return;
  Status st = it->second->send(Message::make(msg::kMsgMonPaxos, m));
  // Backpressure or a closed session: Paxos retransmits on its own schedule.
  if (!st.ok()) CAIRN_LOG(kDebug, kMon) << "paxos message not queued" << log::kv("error", st.to_string());
}

void MonDaemon::on_commit(uint64_t /*version*/) {
  m_commits_.inc();
  core_->on_commit();
  // A committed monmap change is applied outside Paxos's own call stack.
  if (monmap_service_->map().epoch > monmap_.epoch) asio::post(io_, [this] { apply_monmap(); });
  m_epoch_.set(osdmap_->map().epoch);
  publish_osdmap();
}

void MonDaemon::on_leader_change(int leader_rank, bool i_am_leader) {
  m_elections_.inc();
  m_leader_.set(i_am_leader ? 1 : 0);
  CAIRN_LOG(kInfo, kMon) << "leader changed" << log::kv("leader_rank", leader_rank)
                         << log::kv("me", i_am_leader ? "leader" : "follower");
}

void MonDaemon::register_handlers() {
  dispatch_.on(msg::kMsgMonPaxos, [this](const ConnectionRef& c, Message m) { on_paxos(c, std::move(m)); });
  dispatch_.on(msg::kMsgMonCommand,
               [this](const ConnectionRef& c, Message m) { on_command(c, std::move(m)); });
  dispatch_.on(msg::kMsgMonSubscribe,
               [this](const ConnectionRef& c, Message m) { on_subscribe(c, std::move(m)); });
  dispatch_.on(msg::kMsgMonGetOsdMaps,
               [this](const ConnectionRef& c, Message m) { on_get_osdmaps(c, std::move(m)); });
  for (auto t : {msg::kMsgOsdBoot, msg::kMsgOsdFailure, msg::kMsgOsdBeacon, msg::kMsgOsdAlive,
                 msg::kMsgOsdStats, msg::kMsgOsdPgTemp})
    dispatch_.on(t, [this](const ConnectionRef& c, Message m) { on_osd_message(c, std::move(m)); });
  dispatch_.on_any([](const ConnectionRef& c, Message m) {
    CAIRN_LOG(kWarn, kMon) << "unexpected message type" << log::kv("type", m.type)
                           << log::kv("peer", c->peer_name().to_string());
  });
  dispatch_.on_close([this](const ConnectionRef& c, const Status&) { subscribers_.erase(c); });
}

void MonDaemon::on_paxos(const ConnectionRef& c, Message m) {
  const msg::EntityName& peer = c->peer_name();
  auto rank = peer.type == msg::EntityType::kMon ? monmap_.rank_of(peer.id) : std::nullopt;
  auto pm = m.decode_front<PaxosMsg>();
  if (!rank) {
    // Not a member (any more): its vote does not count, but it may be a removed
    // monitor that missed the commit removing it. Send it the commits it lacks.
    CAIRN_LOG(kDebug, kMon) << "paxos message from a non-member" << log::kv("peer", peer.to_string());
    if (pm.ok() && peer.type == msg::EntityType::kMon && pm->last_committed < store_->last_committed())
      (void)c->send(Message::make(msg::kMsgMonPaxos, paxos_->catch_up(pm->last_committed)));
    return;
  }
  if (!pm.ok()) {
    CAIRN_LOG(kWarn, kMon) << "malformed paxos message" << log::kv("peer", peer.to_string())
                           << log::kv("error", pm.status().to_string());
    return;
  }
  paxos_->handle(*rank, *pm);
}

void MonDaemon::on_command(const ConnectionRef& c, Message req) {
  auto cmd = req.decode_front<msg::MonCommandMsg>();
  auto start_ns = real_clock().now_ns();
  auto respond = [this, c, req, start_ns](MonCommandReply r) {
    msg::MonCommandReplyMsg out{r.code, std::move(r.out), std::move(r.err), ""};
    if (out.code == EAGAIN) out.leader_addr = leader_addr();
    m_commands_.inc();
    m_cmd_latency_.observe(static_cast<double>(real_clock().now_ns() - start_ns) / 1e9);
    (void)c->reply(req, Message::make(msg::kMsgMonCommandReply, out));
  };
  if (!cmd.ok()) {
    MonCommandReply r;
    r.fail(cmd.status().with_context("malformed command"));
    return respond(std::move(r));
  }
  MonCommand mc{std::move(cmd->args), cmd->json};
  MonCommandReply r;
  if (daemon_command(mc, r)) return respond(std::move(r));
  core_->handle_command(mc, respond);
}

bool MonDaemon::daemon_command(const MonCommand& cmd, MonCommandReply& reply) {
  if (cmd.args.empty()) return false;
  bool mon_stat = cmd.args.size() >= 2 && cmd.args[0] == "mon" && cmd.args[1] == "stat";
  bool status = cmd.args[0] == "status";
  if (!mon_stat && !status) {
    if (cmd.args[0] == "mon" && !monmap_service_->owns(cmd.args)) {
      reply.fail(Status(Errc::kInvalid, "usage: mon stat | mon add <name> <host:port> | mon remove <name>"));
      return true;
    }
    return false;
  }
  if (!paxos_->is_leader()) {
    reply.fail(Status(Errc::kAgain, "not the leader"));
    return true;
  }
  nlohmann::json mons = nlohmann::json::array(), quorum = nlohmann::json::array();
  for (const auto& m : monmap_.mons) mons.push_back({{"name", m.name}, {"addr", m.addr}});
  for (int r : paxos_->quorum()) quorum.push_back(monmap_.mons[r].name);
  std::string leader = monmap_.mons[rank_].name;
  if (mon_stat) {
    nlohmann::json j = {{"epoch", monmap_.epoch}, {"fsid", monmap_.fsid},
                        {"leader", leader},       {"quorum", quorum},
                        {"mons", mons},           {"last_committed", store_->last_committed()}};
    reply.out = cmd.json ? j.dump()
                         : "e" + std::to_string(monmap_.epoch) + ": " + std::to_string(mons.size()) +
                               " mons, leader " + leader + ", quorum " + quorum.dump() + "\n";
    return true;
  }
  auto checks = core_->health();
  const char* health = MonitorCore::health_status(checks);
  const crush::OsdMap& om = osdmap_->map();
  PgStatsTable::Summary ps = osdmap_->pg_summary();
  size_t pgs = ps.pgs;
  if (cmd.json) {
    nlohmann::json hc = nlohmann::json::object();
    for (const auto& c : checks) hc[c.code] = c.summary;
    nlohmann::json j = {
        {"fsid", monmap_.fsid},
        {"health", {{"status", health}, {"checks", hc}}},
        {"monmap", {{"num_mons", monmap_.size()}, {"leader", leader}, {"quorum", quorum}}},
        {"osdmap",
         {{"epoch", om.epoch},
          {"num_osds", om.osds.size()},
          {"num_up_osds", om.num_up()},
          {"num_in_osds", om.num_in()}}},
        {"pools", om.pools.size()},
        {"pgs", pgs},
        {"pgs_by_state", ps.by_state},
        {"usage", {{"objects", ps.objects}, {"bytes", ps.bytes}, {"used", ps.used}, {"total", ps.total}}},
        {"recovery", recovery_json(ps)}};
    reply.out = j.dump();
    return true;
  }
  std::string out = "  cluster:\n    id:     " + monmap_.fsid + "\n    health: " + health + "\n";
  for (const auto& c : checks) out += "            " + c.summary + "\n";
  out += "\n  services:\n    mon: " + std::to_string(monmap_.size()) + " daemons, quorum " + quorum.dump() +
         " (leader " + leader + ")\n    osd: " + std::to_string(om.osds.size()) +
         " osds: " + std::to_string(om.num_up()) + " up, " + std::to_string(om.num_in()) + " in (epoch e" +
         std::to_string(om.epoch) + ")\n\n  data:\n    pools: " + std::to_string(om.pools.size()) +
         " pools, " + std::to_string(pgs) + " pgs\n    objects: " + std::to_string(ps.objects) +
         " objects, " + std::to_string(ps.bytes) + " bytes\n    usage:   " + std::to_string(ps.used) +
         " used of " + std::to_string(ps.total) + " bytes\n    pgs:    ";
  for (const auto& [state, n] : ps.by_state) out += " " + std::to_string(n) + " " + state;
  out += "\n" + recovery_text(ps);
  reply.out = out;
  return true;
}

void MonDaemon::on_subscribe(const ConnectionRef& c, Message m) {
  auto sub = m.decode_front<msg::MonSubscribeMsg>();
  if (!sub.ok()) {
    CAIRN_LOG(kWarn, kMon) << "malformed subscribe" << log::kv("peer", c->peer_name().to_string());
    return;
  }
  if (!sub->onetime) subscribers_[c] = sub->osdmap_from;
  send_osdmaps(c, sub->osdmap_from);
}

void MonDaemon::on_get_osdmaps(const ConnectionRef& c, Message m) {
  // Any monitor answers from its committed maps (an OSD working out past intervals).
  auto q = m.decode_front<msg::MonGetOsdMapsMsg>();
  const crush::OsdMap& cur = osdmap_->map();
  msg::OsdMapMsg out;
  out.fsid = cur.fsid;
  if (q.ok() && cur.epoch > 0) {
    uint32_t from = std::max({q->from, osdmap_->first_epoch(), 1u});
    uint32_t to = std::min({q->to, cur.epoch, from + kMaxIncrementalsPerMessage});
    if (from <= to) {
      if (auto full = osdmap_->full_map(*store_, from); full.ok()) {
        out.full[from] = encode_to_buffer(*full);
        for (uint32_t e = from + 1; e <= to; ++e) {
          auto inc = osdmap_->incremental(*store_, e);
          if (!inc.ok()) break;
          out.incremental[e] = encode_to_buffer(*inc);
        }
      }
    }
  } else if (!q.ok()) {
    CAIRN_LOG(kWarn, kMon) << "malformed get-osdmaps" << log::kv("peer", c->peer_name().to_string());
  }
  (void)c->reply(m, Message::make(msg::kMsgOsdMap, out));
}

void MonDaemon::send_osdmaps(const ConnectionRef& c, uint32_t from) {
  const crush::OsdMap& cur = osdmap_->map();
  if (cur.epoch == 0 || from > cur.epoch) return;
  msg::OsdMapMsg out;
  out.fsid = cur.fsid;
  bool incrementals =
      from > 1 && from >= osdmap_->first_epoch() && cur.epoch - from < kMaxIncrementalsPerMessage;
  if (incrementals) {
    for (uint32_t e = from; e <= cur.epoch; ++e) {
      auto inc = osdmap_->incremental(*store_, e);
      if (!inc.ok()) {
        incrementals = false;
        break;
      }
      out.incremental[e] = encode_to_buffer(*inc);
    }
  }
  if (!incrementals) {
    out.incremental.clear();
    out.full[cur.epoch] = encode_to_buffer(cur);
  }
  if (c->send(Message::make(msg::kMsgOsdMap, out)).ok()) {
    auto it = subscribers_.find(c);
    if (it != subscribers_.end()) it->second = cur.epoch + 1;
  }
}

void MonDaemon::publish_osdmap() {
  uint32_t e = osdmap_->map().epoch;
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    if (!it->first->is_open()) {
      it = subscribers_.erase(it);
      continue;
    }
    if (it->second <= e) send_osdmaps(it->first, it->second);
    ++it;
  }
}

void MonDaemon::answer_osd(const ConnectionRef& c, const Message& req, Status st) {
  msg::OsdAckMsg ack{st.err(), st.message(), osdmap_->map().epoch, ""};
  if (st.code() == Errc::kAgain) ack.leader_addr = leader_addr();
  (void)c->reply(req, Message::make(msg::kMsgOsdAck, ack));
}

void MonDaemon::on_osd_message(const ConnectionRef& c, Message m) {
  bool request = m.type == msg::kMsgOsdBoot || m.type == msg::kMsgOsdAlive || m.type == msg::kMsgOsdPgTemp;
  if (!paxos_->is_leader()) {
    if (request) return answer_osd(c, m, Status(Errc::kAgain, "not the leader"));
    // One-way reports reach the leader through us (OSDs may talk to any monitor).
    auto it = peers_.find(paxos_->leader_rank());
    bool from_mon = c->peer_name().type == msg::EntityType::kMon;
    if (it != peers_.end() && !from_mon) (void)it->second->send(std::move(m));
    return;
  }
  if (m.type == msg::kMsgOsdStats) {
    if (auto st = m.decode_front<msg::OsdStatsMsg>(); st.ok()) osdmap_->osd_stats(*st);
  } else if (m.type == msg::kMsgOsdBeacon) {
    if (auto b = m.decode_front<msg::OsdBeaconMsg>(); b.ok()) osdmap_->osd_beacon(b->osd);
  } else if (m.type == msg::kMsgOsdFailure) {
    if (auto f = m.decode_front<msg::OsdFailureMsg>(); f.ok()) {
      uint64_t now = real_clock().now_ns() / 1'000'000;
      uint64_t since = f->failed_for_ms > now ? 0 : now - f->failed_for_ms;
      osdmap_->osd_failure(f->target, f->reporter, since, f->still_alive);
    }
  } else if (m.type == msg::kMsgOsdBoot) {
    auto b = m.decode_front<msg::OsdBootMsg>();
    if (!b.ok()) return answer_osd(c, m, b.status());
    Status st = osdmap_->osd_boot(b->osd, b->addr.to_string(), b->instance, b->host, b->weight,
                                  [this, c, m](Status s) { answer_osd(c, m, s); });
    if (!st.ok()) answer_osd(c, m, st);
  } else if (m.type == msg::kMsgOsdAlive) {
    auto a = m.decode_front<msg::OsdAliveMsg>();
    if (!a.ok()) return answer_osd(c, m, a.status());
    Status st =
        osdmap_->osd_want_up_thru(a->osd, a->want_up_thru, [this, c, m](Status s) { answer_osd(c, m, s); });
    if (!st.ok()) answer_osd(c, m, st);
  } else if (m.type == msg::kMsgOsdPgTemp) {
    auto t = m.decode_front<msg::OsdPgTempMsg>();
    if (!t.ok()) return answer_osd(c, m, t.status());
    std::vector<crush::ItemId> acting(t->acting.begin(), t->acting.end());
    Status st = osdmap_->set_pg_temp(crush::PgId{t->pool, t->seed}, std::move(acting),
                                     [this, c, m](Status s) { answer_osd(c, m, s); });
    if (!st.ok()) answer_osd(c, m, st);
  }
}

void MonDaemon::register_admin_commands() {
  admin_->register_command("status", "this monitor's Paxos state", [this](const std::vector<std::string>&) {
    nlohmann::json j = {{"name", opts_.id},
                        {"rank", rank_},
                        {"leader_rank", paxos_->leader_rank()},
                        {"is_leader", paxos_->is_leader()},
                        {"readable", paxos_->readable()},
                        {"last_committed", store_->last_committed()},
                        {"first_committed", store_->first_committed()},
                        {"osdmap_epoch", osdmap_->map().epoch},
                        {"addr", addr()}};
    return Result<std::string>(j.dump());
  });
  admin_->register_command(
      "digest", "xxh3 digest of the committed log and state (for comparing monitors)",
      [this](const std::vector<std::string>&) {
        Snapshot s = store_->snapshot();
        uint64_t h = 0;
        for (const auto& [k, v] : s.kv) h = xxh3_64(k + "\x01" + v, h);
        return Result<std::string>(
            nlohmann::json{{"last_committed", s.last_committed}, {"state_xxh3", std::to_string(h)}}.dump());
      });
  admin_->register_command(
      "fault", msg::FaultInjector::kAdminHelp,
      [this](const std::vector<std::string>& a) { return messenger_->faults().admin_command(a); });
}

}  // namespace cairn::mon
