#include "osd/osd_daemon.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/buffer.h"
#include "common/env.h"
#include "common/log.h"
#include "msg/mon_messages.h"
#include "msg/osd_messages.h"
#include "osd/shard.h"

namespace cairn::osd {

using msg::ConnectionRef;
using msg::Message;

namespace {

store::BlockStoreOptions store_options(const OsdOptions& o) {
  store::BlockStoreOptions s;
  s.path = o.data_dir;
  s.device_bytes = o.device_bytes;
  s.cache_bytes = o.cache_bytes;
  s.dsync_data_writes = o.store_dsync;
  s.share_wal_flush = o.store_share_flush;
  s.prepare_ahead_bytes = o.prepare_ahead_bytes;
  s.wal_spare_bytes = o.store_wal_spare_bytes;
  s.data_cache_bytes = o.store_data_cache_bytes;
  s.group_commit_delay_us = o.group_commit_delay_us;
  return s;
}

std::string osd_name(int32_t id) { return "osd." + std::to_string(id); }

}  // namespace

Status OsdDaemon::mkfs(const OsdOptions& opts) {
  if (opts.id < 0) return Status(Errc::kInvalid, "--id must be a non-negative OSD id");
  CAIRN_RETURN_IF_ERROR(store::BlockStore::mkfs(store_options(opts)));
  std::ofstream f(opts.data_dir + "/whoami");
  f << opts.id << "\n";
  if (!f) return Status(Errc::kIo, "cannot write " + opts.data_dir + "/whoami");
  return {};
}

OsdDaemon::OsdDaemon(asio::io_context& front, OsdOptions opts)
    : io_(front),
      opts_(std::move(opts)),
      metrics_(MetricsRegistry::global()),
      m_ops_(metrics_.counter("cairn_osd_ops_total", "Client ops received")),
      m_op_bytes_(metrics_.counter("cairn_osd_op_in_bytes_total", "Client op payload bytes received")),
      m_epoch_(metrics_.gauge("cairn_osd_osdmap_epoch", "OSD map epoch")),
      m_resident_(metrics_.gauge("cairn_osd_resident_bytes", "Resident memory of the process")),
      m_pool_retained_(metrics_.gauge("cairn_osd_buffer_pool_bytes",
                                      "Freed payload buffers kept for reuse (osd_buffer_pool_size)")),
      m_onode_cache_(metrics_.gauge("cairn_osd_onode_cache_bytes", "Bytes in the store's onode cache")),
      m_client_bytes_(metrics_.gauge("cairn_osd_client_bytes_held",
                                     "Bytes of client requests in progress (osd_client_message_size_cap)")),
      m_client_waits_(
          metrics_.gauge("cairn_osd_client_throttle_waits",
                         "Times a client connection paused its reads at osd_client_message_size_cap")),
      m_store_{
          metrics_.counter("cairn_osd_store_txns_total", "Store transactions committed"),
          metrics_.counter("cairn_osd_store_commit_groups_total",
                           "Store commit groups (synced RocksDB writes)"),
          metrics_.counter("cairn_osd_store_shared_flushes_total",
                           "Commit groups whose data flush was the previous group's WAL sync"),
          metrics_.counter("cairn_osd_store_hole_writes_total",
                           "Store data writes into blocks the block file had not written yet"),
          metrics_.counter("cairn_osd_store_data_write_requests_total",
                           "Store device writes of new data (a group's contiguous writes go as one)"),
          metrics_.counter("cairn_osd_store_checksum_errors_total", "Store blocks that failed their crc32c"),
          metrics_.counter("cairn_osd_store_wal_spares_taken_total",
                           "RocksDB WAL files that started written ahead (osd_store_wal_spare)"),
          metrics_.counter("cairn_osd_store_plain_wals_total",
                           "RocksDB WAL files created while no written-ahead spare was ready"),
          metrics_.counter("cairn_osd_store_data_cache_hits_total",
                           "4 KiB blocks of client reads served from the data cache (osd_store_data_cache)"),
          metrics_.counter("cairn_osd_store_data_cache_misses_total",
                           "4 KiB blocks of client reads not in the data cache, read from the device"),
          metrics_.counter("cairn_osd_store_kv_bytes_total",
                           "Bytes of RocksDB batches the store committed (its WAL payload)"),
          metrics_.counter("cairn_osd_store_device_flushes_total",
                           "Flushes (fdatasync) of the store's data device by its commit thread"),
          metrics_.counter("cairn_osd_store_deferred_retired_total",
                           "Deferred-write records deleted once their in-place writes were flushed")} {}

OsdDaemon::~OsdDaemon() { stop(); }

std::string OsdDaemon::addr() const { return messenger_ ? messenger_->addr().to_string() : ""; }

Status OsdDaemon::start() {
  {
    std::ifstream f(opts_.data_dir + "/whoami");
    int32_t id = -1;
    if (!(f >> id))
      return Status(Errc::kNotFound, opts_.data_dir + " is not an OSD data directory (run --mkfs)");
    if (id != opts_.id)
      return Status(Errc::kInvalid, opts_.data_dir + " belongs to osd." + std::to_string(id) + ", not osd." +
                                        std::to_string(opts_.id));
  }
  CAIRN_ASSIGN_OR_RETURN(store_, store::BlockStore::open(store_options(opts_)));
  // Default: one shard per core beyond the front thread's; on a machine of 1 or 2 cores one
  // shard on the front thread itself (every thread hop costs a context switch per op,
  // and there is no spare core for a second thread to use).
  uint32_t cores = std::max(1u, std::thread::hardware_concurrency());
  bool inline_shard = opts_.shards == 0 && cores <= 2;
  uint32_t n = opts_.shards ? opts_.shards : std::max(1u, cores - 1);
  for (uint32_t i = 0; i < n; ++i)
    shards_.push_back(std::make_unique<Shard>(*this, i, inline_shard ? &io_ : nullptr));
  for (auto& s : shards_) CAIRN_RETURN_IF_ERROR(s->load_pgs(n));
  for (auto& s : shards_) s->start();

  CAIRN_ASSIGN_OR_RETURN(auto mons, msg::MonSession::parse_hosts(opts_.mon_host));
  CAIRN_ASSIGN_OR_RETURN(auto self, msg::EntityName::parse(osd_name(opts_.id)));
  msg::MessengerOptions mo;
  mo.max_client_bytes = opts_.client_message_cap;
  messenger_ = std::make_unique<msg::Messenger>(io_, self, mo);
  register_handlers();
  messenger_->set_dispatcher(&dispatch_);
  msg::EntityAddr bind_addr{opts_.public_addr, opts_.port};
  CAIRN_RETURN_IF_ERROR(messenger_->bind(bind_addr).status().with_context("bind " + bind_addr.to_string()));
  mon_ = std::make_unique<msg::MonSession>(*messenger_, std::move(mons));
  mon_->start(1);

  admin_ = std::make_unique<AdminServer>(io_, metrics_);
  register_admin_commands();
  CAIRN_RETURN_IF_ERROR(admin_->start_http(opts_.metrics_addr, opts_.metrics_port));
  std::string sock =
      opts_.admin_socket.empty() ? opts_.data_dir + "/" + osd_name(opts_.id) + ".asok" : opts_.admin_socket;
  CAIRN_RETURN_IF_ERROR(admin_->start_admin_socket(sock));
  instance_ = real_random().next_u64() | 1;
  hb_timer_ = std::make_unique<asio::steady_timer>(io_);
  stats_timer_ = std::make_unique<asio::steady_timer>(io_);
  beacon_timer_ = std::make_unique<asio::steady_timer>(io_);
  schedule(hb_timer_, opts_.heartbeat_interval_ms, &OsdDaemon::heartbeat_tick);
  schedule(stats_timer_, opts_.stats_interval_ms, &OsdDaemon::stats_tick);
  schedule(beacon_timer_, opts_.beacon_interval_ms, &OsdDaemon::beacon_tick);
  CAIRN_LOG(kInfo, kOsd) << "osd started" << log::kv("osd", opts_.id) << log::kv("addr", addr())
                         << log::kv("shards", n) << log::kv("metrics_port", admin_->http_port());
  boot();
  return {};
}

void OsdDaemon::stop() {
  if (stopping_) return;
  stopping_ = true;
  for (auto* t : {&hb_timer_, &stats_timer_, &beacon_timer_})
    if (*t) (*t)->cancel();
  if (mon_) mon_->stop();
  if (admin_) admin_->stop();
  if (messenger_) messenger_->shutdown();
  for (auto& s : shards_) s->stop();
  if (store_) (void)store_->flush();
}

void OsdDaemon::schedule(std::unique_ptr<asio::steady_timer>& t, uint32_t ms, void (OsdDaemon::*fn)()) {
  t->expires_after(std::chrono::milliseconds(ms));
  t->async_wait([this, &t, ms, fn](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    (this->*fn)();
    schedule(t, ms, fn);
  });
}

Shard& OsdDaemon::shard_of(int64_t pool, uint32_t seed) {
  return *shards_[shard_index(pool, seed, static_cast<uint32_t>(shards_.size()))];
}

void OsdDaemon::register_handlers() {
  dispatch_.on(msg::kMsgOsdMap, [this](const ConnectionRef&, Message m) { handle_osdmap(m); });
  for (msg::MsgType t : {msg::kMsgOsdOp, msg::kMsgRepOp, msg::kMsgRepOpReply, msg::kMsgPgInfo,
                         msg::kMsgPgScan, msg::kMsgPgPull})
    dispatch_.on(t, [this](const ConnectionRef& c, Message m) { dispatch_pg_message(c, std::move(m)); });
  dispatch_.on(msg::kMsgOsdPing, [this](const ConnectionRef& c, Message m) {
    auto p = m.decode_front<msg::OsdPingMsg>();
    if (!p.ok()) return;
    if (!p->reply) {
      msg::OsdPingMsg r = *p;
      r.reply = true;
      r.from = opts_.id;
      r.map_epoch = map_ ? map_->epoch : 0;
      (void)c->send(Message::make(msg::kMsgOsdPing, r));
    } else if (auto it = peers_.find(p->from); it != peers_.end()) {
      it->second.last_rx_ns = real_clock().now_ns();
      if (it->second.reported) {
        it->second.reported = false;
        (void)mon_->send(Message::make(msg::kMsgOsdFailure, msg::OsdFailureMsg{p->from, opts_.id, 0, true}));
      }
    }
    if (map_ && p->map_epoch > map_->epoch) want_map(p->map_epoch);
  });
  dispatch_.on_close([this](const ConnectionRef& c, const Status&) {
    if (c->peer_name().type != msg::EntityType::kClient) return;
    for (auto& s : shards_) s->post([sh = s.get(), c] { sh->connection_closed(c); });
  });
}

void OsdDaemon::dispatch_pg_message(const ConnectionRef& c, Message m) {
  int64_t pool = 0;
  uint32_t seed = 0;
  int32_t from = -1;
  if (c->peer_name().type == msg::EntityType::kOsd) {
    char* end = nullptr;
    long v = std::strtol(c->peer_name().id.c_str(), &end, 10);
    if (end && *end == '\0') from = static_cast<int32_t>(v);
  }
  if (m.type == msg::kMsgOsdOp) {
    auto op = m.decode_front<msg::OsdOpMsg>();
    Status st = op.ok() ? op->validate(m.data.size()) : op.status();
    if (st.ok() && !op->nspace.empty() && op->nspace[0] == '\x01')
      st = Status(Errc::kInvalid, "reserved namespace");
    if (st.ok() && op->name.empty() && op->nspace.empty() &&
        !(op->ops.size() == 1 && msg::osd_op_is_pg_wide(op->ops[0].code)))
      st = Status(Errc::kInvalid, "empty object name");
    if (!st.ok()) {
      // Malformed or invalid: a clear error, never a crash.
      msg::OsdOpReplyMsg r;
      r.result = -st.err();
      r.map_epoch = map_ ? map_->epoch : 0;
      if (m.is_request()) (void)c->reply(m, Message::make(msg::kMsgOsdOpReply, r));
      CAIRN_LOG(kDebug, kOsd) << "rejected op" << log::kv("peer", c->peer_name().to_string())
                              << log::kv("error", st.to_string());
      return;
    }
    // Decoded once, here: the shard takes the op as it is.
    Shard& sh = shard_of(op->pool, op->pg_seed);
    sh.post([&sh, c, m = std::move(m), op = std::move(*op)]() mutable {
      sh.dispatch_op(c, std::move(m), std::move(op));
    });
    return;
  } else {
    if (from < 0) return;  // replication and peering come only from OSDs
    // Every osd <-> osd PG message starts with the pool and seed (versioned struct header first).
    Decoder d(m.front.contiguous().view());
    auto s = d.begin_struct(1, "pg message");
    pool = d.i64();
    seed = d.u32();
    if (d.failed()) return;
    (void)s;
  }
  Shard& sh = shard_of(pool, seed);
  sh.post([&sh, c, m = std::move(m), from]() mutable { sh.dispatch(c, std::move(m), from); });
}

void OsdDaemon::handle_osdmap(const Message& m) {
  auto om = m.decode_front<msg::OsdMapMsg>();
  if (!om.ok()) return;
  uint32_t cur = map_ ? map_->epoch : 0;
  std::shared_ptr<crush::OsdMap> next;
  // Every epoch applied goes to the shards in order: PGs see each interval change.
  std::vector<std::shared_ptr<const crush::OsdMap>> fresh;
  if (!om->full.empty() && om->full.rbegin()->first > cur) {
    auto full = decode_from<crush::OsdMap>(om->full.rbegin()->second);
    if (!full.ok()) {
      CAIRN_LOG(kWarn, kOsd) << "bad full osdmap" << log::kv("error", full.status().to_string());
      return;
    }
    next = std::make_shared<crush::OsdMap>(std::move(*full));
    fresh.push_back(next);
  } else if (map_) {
    next = std::make_shared<crush::OsdMap>(*map_);
  } else {
    mon_->want_newer();
    return;
  }
  for (const auto& [e, bl] : om->incremental) {
    if (e != next->epoch + 1) continue;
    auto inc = decode_from<crush::OsdMapIncremental>(bl);
    auto applied = std::make_shared<crush::OsdMap>(*next);
    if (!inc.ok() || !applied->apply(*inc).ok()) {
      CAIRN_LOG(kWarn, kOsd) << "cannot apply osdmap incremental" << log::kv("epoch", e);
      break;
    }
    next = std::move(applied);
    fresh.push_back(next);
  }
  if (next->epoch <= cur) return;
  map_ = std::move(next);
  for (const auto& f : fresh) remember_map(f);
  mon_->got_epoch(map_->epoch);
  m_epoch_.set(map_->epoch);
  publish_map(std::move(fresh));
}

void OsdDaemon::remember_map(const std::shared_ptr<const crush::OsdMap>& m) {
  std::lock_guard lk(hist_mu_);
  history_[m->epoch] = m;
  while (history_.size() > kMaxHistory) history_.erase(history_.begin());
}

bool OsdDaemon::maps_between(uint32_t from, uint32_t to,
                             std::vector<std::shared_ptr<const crush::OsdMap>>& out) {
  out.clear();
  uint32_t missing = 0;
  {
    std::lock_guard lk(hist_mu_);
    from = std::max(from, oldest_available_);
    for (uint32_t e = from; e <= to; ++e) {
      auto it = history_.find(e);
      if (it == history_.end()) {
        missing = e;
        break;
      }
      out.push_back(it->second);
    }
  }
  if (!missing) return true;
  out.clear();
  asio::post(io_, [this, missing, to] { fetch_maps(missing, to); });
  return false;
}

void OsdDaemon::fetch_maps(uint32_t from, uint32_t to) {
  if (fetching_ || stopping_) return;
  fetching_ = true;
  asio::co_spawn(
      io_,
      [this, from, to]() -> awaitable<void> {
        uint32_t next = from;
        auto final_reply = [](const Message&) -> std::optional<std::string> { return std::nullopt; };
        while (!stopping_ && next <= to) {
          Message req = Message::make(msg::kMsgMonGetOsdMaps, msg::MonGetOsdMapsMsg{next, to});
          auto r = co_await mon_->request(std::move(req), final_reply, std::chrono::seconds(10));
          if (!r.ok()) break;
          auto om = r->decode_front<msg::OsdMapMsg>();
          if (!om.ok() || om->full.empty()) break;
          auto base = decode_from<crush::OsdMap>(om->full.begin()->second);
          if (!base.ok()) break;
          auto cur = std::make_shared<crush::OsdMap>(std::move(*base));
          if (cur->epoch > next) {
            // The monitors trimmed [next, epoch): those intervals cannot be known any more.
            CAIRN_LOG(kWarn, kOsd) << "old osdmaps are gone from the monitors" << log::kv("wanted", next)
                                   << log::kv("oldest", cur->epoch);
            std::lock_guard lk(hist_mu_);
            oldest_available_ = std::max(oldest_available_, cur->epoch);
          }
          remember_map(cur);
          for (const auto& [e, bl] : om->incremental) {
            if (e != cur->epoch + 1) break;
            auto inc = decode_from<crush::OsdMapIncremental>(bl);
            auto n = std::make_shared<crush::OsdMap>(*cur);
            if (!inc.ok() || !n->apply(*inc).ok()) break;
            cur = std::move(n);
            remember_map(cur);
          }
          next = cur->epoch + 1;
        }
        fetching_ = false;
      },
      asio::detached);
}

bool OsdDaemon::reserve_backfill() {
  uint32_t n = backfills_.load();
  while (n < std::max<uint32_t>(1, opts_.max_backfills))
    if (backfills_.compare_exchange_weak(n, n + 1)) return true;
  return false;
}

void OsdDaemon::release_backfill() { backfills_.fetch_sub(1); }

void OsdDaemon::request_pg_temp(const crush::PgId& pg, std::vector<int32_t> acting) {
  asio::post(io_, [this, pg, acting = std::move(acting)]() mutable {
    if (stopping_) return;
    asio::co_spawn(
        io_,
        [this, pg, acting = std::move(acting)]() -> awaitable<void> {
          Message req =
              Message::make(msg::kMsgOsdPgTemp, msg::OsdPgTempMsg{opts_.id, pg.pool, pg.seed, acting});
          auto redirect = [](const Message& r) -> std::optional<std::string> {
            auto ack = r.decode_front<msg::OsdAckMsg>();
            if (ack.ok() && ack->code == EAGAIN) return ack->leader_addr;
            return std::nullopt;
          };
          auto r = co_await mon_->request(std::move(req), redirect, std::chrono::seconds(10));
          if (!r.ok()) co_return;  // the PG asks again
          auto ack = r->decode_front<msg::OsdAckMsg>();
          if (ack.ok() && ack->code == 0) {
            want_map(ack->epoch);
          } else {
            CAIRN_LOG(kWarn, kOsd) << "pg_temp refused"
                                   << log::kv("error", ack.ok() ? ack->err : "malformed ack");
          }
        },
        asio::detached);
  });
}

void OsdDaemon::want_up_thru(uint32_t epoch) {
  asio::post(io_, [this, epoch] {
    const crush::OsdInfo* me = map_ ? map_->osd(opts_.id) : nullptr;
    if (stopping_ || (me && me->up_thru >= epoch)) return;
    up_thru_wanted_ = std::max(up_thru_wanted_, epoch);
    if (up_thru_asking_) return;
    up_thru_asking_ = true;
    asio::co_spawn(
        io_,
        [this]() -> awaitable<void> {
          uint32_t want = up_thru_wanted_;
          Message req = Message::make(msg::kMsgOsdAlive, msg::OsdAliveMsg{opts_.id, want});
          auto redirect = [](const Message& r) -> std::optional<std::string> {
            auto ack = r.decode_front<msg::OsdAckMsg>();
            if (ack.ok() && ack->code == EAGAIN) return ack->leader_addr;
            return std::nullopt;
          };
          auto r = co_await mon_->request(std::move(req), redirect, std::chrono::seconds(10));
          up_thru_asking_ = false;
          if (r.ok()) {
            auto ack = r->decode_front<msg::OsdAckMsg>();
            if (ack.ok() && ack->code == 0) want_map(ack->epoch);
          }
          // A newer want arrived meanwhile, or this one failed: PGs ask again when they retry.
        },
        asio::detached);
  });
}

void OsdDaemon::publish_map(std::vector<std::shared_ptr<const crush::OsdMap>> fresh) {
  // Peers that went down or restarted: drop their sessions (a restarted peer gets a new one).
  for (auto it = peers_.begin(); it != peers_.end();) {
    const crush::OsdInfo* oi = map_->osd(it->first);
    if (!oi || !oi->up || oi->instance != it->second.instance) {
      if (it->second.conn) it->second.conn->close();
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
  check_up();
  uint32_t n = static_cast<uint32_t>(shards_.size());
  auto maps = std::make_shared<const std::vector<std::shared_ptr<const crush::OsdMap>>>(std::move(fresh));
  for (auto& s : shards_) s->post([sh = s.get(), maps, n] { sh->handle_maps(*maps, n); });
}

void OsdDaemon::check_up() {
  if (!map_) return;
  const crush::OsdInfo* me = map_->osd(opts_.id);
  bool up_here = me && me->up && me->instance == instance_;
  if (up_here && !booted_epoch_) {
    booted_epoch_ = me->up_from;
    CAIRN_LOG(kInfo, kOsd) << "osd is up" << log::kv("epoch", map_->epoch);
  }
  // Down in a map at or past the one that accepted our boot, whether or not we
  // saw ourselves up in between (maps arrive several at a time, and some while
  // the boot was still waiting for its answer): boot again.
  bool acked_and_passed = boot_acked_epoch_ && map_->epoch >= boot_acked_epoch_;
  if (!up_here && (booted_epoch_ || acked_and_passed) && !booting_) {
    CAIRN_LOG(kWarn, kOsd) << "osdmap says this osd is down: booting again" << log::kv("epoch", map_->epoch);
    booted_epoch_ = 0;
    boot();
  }
}

void OsdDaemon::boot() {
  if (booting_ || stopping_) return;
  booting_ = true;
  boot_acked_epoch_ = 0;
  asio::co_spawn(
      io_,
      [this]() -> awaitable<void> {
        asio::steady_timer pause(io_);
        while (!stopping_) {
          char host[256] = "localhost";
          (void)gethostname(host, sizeof host - 1);
          msg::OsdBootMsg b;
          b.osd = opts_.id;
          b.addr = messenger_->addr();
          b.instance = instance_;
          b.host = opts_.crush_host.empty() ? std::string(host) : opts_.crush_host;
          uint64_t w = (opts_.device_bytes << 16) >> 40;  // TiB in 16.16
          b.weight = static_cast<uint32_t>(std::clamp<uint64_t>(w, 1, 1u << 30));
          Message req = Message::make(msg::kMsgOsdBoot, b);
          auto redirect = [](const Message& r) -> std::optional<std::string> {
            auto ack = r.decode_front<msg::OsdAckMsg>();
            if (ack.ok() && ack->code == EAGAIN) return ack->leader_addr;
            return std::nullopt;
          };
          auto r = co_await mon_->request(std::move(req), redirect, std::chrono::seconds(10));
          if (r.ok()) {
            auto ack = r->decode_front<msg::OsdAckMsg>();
            if (ack.ok() && ack->code == 0) {
              CAIRN_LOG(kInfo, kOsd) << "boot accepted" << log::kv("epoch", ack->epoch);
              boot_acked_epoch_ = ack->epoch;
              want_map(ack->epoch);
              break;
            }
            CAIRN_LOG(kWarn, kOsd) << "boot refused"
                                   << log::kv("error", ack.ok() ? ack->err : "malformed ack");
          } else {
            CAIRN_LOG(kWarn, kOsd) << "boot failed" << log::kv("error", r.status().to_string());
          }
          pause.expires_after(std::chrono::seconds(1));
          boost::system::error_code ec;
          co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        booting_ = false;
        check_up();  // maps that came while we waited were not judged
      },
      asio::detached);
}

void OsdDaemon::want_map(uint32_t epoch) {
  asio::post(io_, [this, epoch] {
    if (!map_ || epoch > map_->epoch) mon_->want_newer();
  });
}

ConnectionRef OsdDaemon::peer(int32_t osd) {
  if (!map_) return nullptr;
  const crush::OsdInfo* oi = map_->osd(osd);
  if (!oi || !oi->up) return nullptr;
  auto& p = peers_[osd];
  if (!p.conn || p.instance != oi->instance) {
    if (p.conn) p.conn->close();
    auto a = msg::EntityAddr::parse(oi->addr);
    auto n = msg::EntityName::parse(osd_name(osd));
    if (!a.ok() || !n.ok()) return nullptr;
    p.conn = messenger_->connect(msg::EntityInst{*n, *a}, msg::Policy::kLossless);
    p.instance = oi->instance;
    p.last_rx_ns = real_clock().now_ns();
  }
  return p.conn;
}

void OsdDaemon::send_to_osd(int32_t osd, Message m) {
  asio::post(io_, [this, osd, m = std::move(m)]() mutable {
    if (stopping_) return;
    ConnectionRef c = peer(osd);
    if (!c) return;
    Peer& p = peers_[osd];
    // A connection refuses messages beyond its in-flight bound (kAgain): those wait
    // here, in order, instead of being lost (a lost push or replicated write would
    // stall its PG until the next interval).
    if (p.backlog.empty()) {
      Status st = c->try_send(m);  // leaves `m` alone if refused
      if (st.code() != Errc::kAgain) return;
    }
    p.backlog.push_back(std::move(m));
    if (!p.draining) {
      p.draining = true;
      drain_backlog(osd);
    }
  });
}

void OsdDaemon::drain_backlog(int32_t osd) {
  asio::co_spawn(
      io_,
      [this, osd]() -> awaitable<void> {
        for (;;) {
          auto it = peers_.find(osd);
          if (it == peers_.end() || it->second.backlog.empty() || stopping_) break;
          ConnectionRef c = it->second.conn;
          if (!c || !c->is_open()) {
            it->second.backlog.clear();  // the peer went away: peering starts over
            break;
          }
          Message m = it->second.backlog.front();
          Status st = co_await c->send_wait(std::move(m), std::chrono::seconds(60));
          it = peers_.find(osd);
          if (it == peers_.end()) co_return;
          if (!st.ok()) {
            CAIRN_LOG(kWarn, kOsd) << "messages to a peer dropped" << log::kv("peer", osd)
                                   << log::kv("count", it->second.backlog.size())
                                   << log::kv("error", st.to_string());
            it->second.backlog.clear();
            break;
          }
          it->second.backlog.pop_front();
        }
        if (auto it = peers_.find(osd); it != peers_.end()) it->second.draining = false;
      },
      asio::detached);
}

void OsdDaemon::heartbeat_tick() {
  if (!map_ || !booted_epoch_) return;
  uint64_t now = real_clock().now_ns();
  for (const auto& [id, oi] : map_->osds) {
    if (id == opts_.id || !oi.up) continue;
    ConnectionRef c = peer(id);
    if (!c) continue;
    Peer& p = peers_[id];
    (void)c->send(Message::make(msg::kMsgOsdPing, msg::OsdPingMsg{opts_.id, map_->epoch, now, false}));
    uint64_t since_rx_ms = (now - p.last_rx_ns) / 1'000'000;
    if (since_rx_ms > opts_.heartbeat_grace_ms) {
      // Re-sent every tick while it lasts: the monitor counts reporters, not messages.
      p.reported = true;
      (void)mon_->send(
          Message::make(msg::kMsgOsdFailure, msg::OsdFailureMsg{id, opts_.id, since_rx_ms, false}));
    }
  }
}

void OsdDaemon::beacon_tick() {
  if (!map_ || !booted_epoch_) return;
  (void)mon_->send(Message::make(msg::kMsgOsdBeacon, msg::OsdBeaconMsg{opts_.id, map_->epoch}));
}

void OsdDaemon::stats_tick() {
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long size = 0, resident = 0;
    if (std::fscanf(f, "%lu %lu", &size, &resident) == 2)
      m_resident_.set(static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE));
    std::fclose(f);
  }
  trim_idle_buffer_pool();  // back to the system after a stats interval without large payloads
  m_pool_retained_.set(static_cast<int64_t>(buffer_pool_stats().retained_bytes));
  store::BlockStoreStats ss = store_->stats();
  m_onode_cache_.set(static_cast<int64_t>(ss.onode_cache_bytes));
  StoreCounters& sc = m_store_;
  sc.txns.advance_to(ss.committed_txns);
  sc.groups.advance_to(ss.commit_groups);
  sc.shared_flushes.advance_to(ss.shared_flushes);
  sc.hole_writes.advance_to(ss.hole_writes);
  sc.data_requests.advance_to(ss.data_write_requests);
  sc.checksum_errors.advance_to(ss.checksum_errors);
  sc.wal_spares.advance_to(ss.wal_spares_taken);
  sc.plain_wals.advance_to(ss.plain_wals);
  sc.data_cache_hits.advance_to(ss.data_cache_hits);
  sc.data_cache_misses.advance_to(ss.data_cache_misses);
  sc.kv_bytes.advance_to(ss.kv_bytes);
  sc.device_flushes.advance_to(ss.device_flushes);
  sc.deferred_retired.advance_to(ss.deferred_retired);
  if (messenger_) {
    m_client_bytes_.set(static_cast<int64_t>(messenger_->client_bytes_held()));
    m_client_waits_.set(static_cast<int64_t>(messenger_->client_throttle_waits()));
  }
  if (!map_ || !booted_epoch_) return;
  struct Gather {
    msg::OsdStatsMsg out;
    size_t left = 0;
  };
  auto g = std::make_shared<Gather>();
  g->out.osd = opts_.id;
  g->out.epoch = map_->epoch;
  if (auto fs = store_->statfs(); fs.ok()) {
    g->out.used_bytes = fs->used;
    g->out.total_bytes = fs->total;
  }
  g->left = shards_.size();
  for (auto& s : shards_) {
    s->post([this, g, sh = s.get()] {
      auto stats = sh->pg_stats();
      asio::post(io_, [this, g, stats = std::move(stats)]() mutable {
        for (auto& e : stats) g->out.pgs.push_back(std::move(e));
        if (--g->left == 0 && !stopping_) (void)mon_->send(Message::make(msg::kMsgOsdStats, g->out));
      });
    });
  }
}

Result<std::string> OsdDaemon::on_pg(const std::string& pgid,
                                     std::function<Result<std::string>(pg::ReplicatedPg&)> fn) {
  CAIRN_ASSIGN_OR_RETURN(auto cid, store::CollectionId::parse(pgid));
  Shard& sh = shard_of(cid.pool, cid.seed);
  auto run = [&sh, cid, &fn]() -> Result<std::string> {
    auto* pg = sh.find_pg({cid.pool, cid.seed});
    if (!pg) return Status(Errc::kNotFound, "no pg " + cid.to_string() + " here");
    return fn(*pg);
  };
  if (sh.is_inline()) return run();  // this very thread: waiting on a post would deadlock
  std::promise<Result<std::string>> p;
  auto f = p.get_future();
  sh.post([&p, &run] { p.set_value(run()); });
  return f.get();
}

void OsdDaemon::register_admin_commands() {
  admin_->register_command("status", "this OSD's state", [this](const std::vector<std::string>&) {
    nlohmann::json j = {
        {"osd", opts_.id},          {"addr", addr()},           {"osdmap_epoch", map_ ? map_->epoch : 0},
        {"up", booted_epoch_ != 0}, {"shards", shards_.size()}, {"mon", mon_ ? mon_->current() : ""}};
    j["client_bytes_held"] = messenger_->client_bytes_held();
    j["client_throttle_waits"] = messenger_->client_throttle_waits();
    j["buffer_pool_bytes"] = buffer_pool_stats().retained_bytes;
    return Result<std::string>(j.dump());
  });
  admin_->register_command(
      "dump-objects", "dump-objects PGID [--digest]: objects of a PG copy with versions (and data digests)",
      [this](const std::vector<std::string>& a) -> Result<std::string> {
        if (a.empty()) return Status(Errc::kInvalid, "usage: dump-objects PGID [--digest]");
        bool digest = a.size() > 1 && a[1] == "--digest";
        return on_pg(a[0], [digest](pg::ReplicatedPg& pg) { return pg.dump_objects_json(digest); });
      });
  admin_->register_command(
      "inject-error", "inject-error data|missing PGID NAME: damage this copy of an object (tests only)",
      [this](const std::vector<std::string>& a) -> Result<std::string> {
        if (a.size() != 3 || (a[0] != "data" && a[0] != "missing"))
          return Status(Errc::kInvalid, "usage: inject-error data|missing PGID NAME");
        bool data = a[0] == "data";
        std::string name = a[2];
        return on_pg(a[1], [data, name](pg::ReplicatedPg& pg) { return pg.inject_error(name, data); });
      });
  admin_->register_command(
      "fault", msg::FaultInjector::kAdminHelp,
      [this](const std::vector<std::string>& a) { return messenger_->faults().admin_command(a); });
}

}  // namespace cairn::osd
