#include "osd/shard.h"

#include <unistd.h>

#include "common/env.h"
#include "common/log.h"
#include "osd/osd_daemon.h"

namespace cairn::osd {

uint32_t shard_index(int64_t pool, uint32_t seed, uint32_t num_shards) {
  uint64_t h = static_cast<uint64_t>(pool) * 0x9e3779b97f4a7c15ull ^ (seed * 0xff51afd7ed558ccdull);
  h ^= h >> 29;
  return static_cast<uint32_t>(h % std::max<uint32_t>(1, num_shards));
}

Shard::Shard(OsdDaemon& osd, uint32_t index, asio::io_context* inline_io)
    : osd_(osd),
      index_(index),
      own_io_(inline_io ? nullptr : std::make_unique<asio::io_context>()),
      io_(inline_io ? *inline_io : *own_io_) {}

Shard::~Shard() { stop(); }

void Shard::start() {
  // A ring of its own for reads; without one (an error), reads are synchronous.
  store::UringDevice::Options ro;
  ro.read_only = true;
  ro.queue_depth = 64;
  if (auto r = store::UringDevice::open(osd_.block_store().device_path(), ro); r.ok()) {
    ring_ = std::move(*r);
    // The reads queued in one turn of the shard's loop go to the kernel together.
    ring_->set_batched_submit([this] {
      asio::post(io_, [this] {
        if (ring_) ring_->submit();
      });
    });
    ring_fd_ = std::make_unique<asio::posix::stream_descriptor>(io_, ::dup(ring_->event_fd()));
    arm_ring();
  } else {
    CAIRN_LOG(kWarn, kOsd) << "no read ring: reads are synchronous"
                           << log::kv("error", r.status().to_string());
  }
  if (!own_io_) return;  // runs on the front thread
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(io_.get_executor());
  thread_ = std::thread([this] {
    set_thread_name("osd-shard-" + std::to_string(index_));
    log::set_entity("osd." + std::to_string(osd_.whoami()));
    io_.run();
  });
}

void Shard::arm_ring() {
  ring_fd_->async_wait(asio::posix::stream_descriptor::wait_read,
                       [this](const boost::system::error_code& ec) {
                         if (ec) return;
                         uint64_t n;
                         (void)!::read(ring_fd_->native_handle(), &n, sizeof n);
                         (void)ring_->poll(false);
                         arm_ring();
                       });
}

void Shard::read_async(const store::CollectionId& cid, const store::ObjectId& oid, uint64_t off, uint64_t len,
                       ReadCallback cb) {
  if (!ring_) return cb(store().read(cid, oid, off, len));
  osd_.block_store().read_async(*ring_, cid, oid, off, len,
                                [this, cid, oid, off, len, cb = std::move(cb)](Result<BufferList> r) mutable {
                                  // A read racing a write that moved the object's extents fails its checksum:
                                  // read again from the committed state before calling it an error.
                                  if (!r.ok() && r.status().code() == Errc::kIo)
                                    r = store().read(cid, oid, off, len);
                                  cb(std::move(r));
                                });
}

void Shard::stop() {
  if (ring_fd_) {
    boost::system::error_code ec;
    ring_fd_->cancel(ec);
  }
  if (!thread_.joinable()) return;
  work_.reset();
  own_io_->stop();
  thread_.join();
}

Status Shard::load_pgs(uint32_t num_shards) {
  CAIRN_ASSIGN_OR_RETURN(auto cids, osd_.store().list_collections());
  for (const auto& cid : cids) {
    if (shard_index(cid.pool, cid.seed, num_shards) != index_) continue;
    crush::PgId id{cid.pool, cid.seed};
    auto pg = std::make_unique<pg::ReplicatedPg>(*this, id);
    CAIRN_RETURN_IF_ERROR(pg->init(false));
    pgs_[id] = std::move(pg);
  }
  return {};
}

pg::ReplicatedPg* Shard::find_pg(const crush::PgId& id) {
  auto it = pgs_.find(id);
  return it == pgs_.end() ? nullptr : it->second.get();
}

pg::ReplicatedPg* Shard::get_pg(const crush::PgId& id, bool create) {
  if (auto* p = find_pg(id)) return p;
  if (!create || !map_) return nullptr;
  const crush::PoolInfo* pool = map_->pool(id.pool);
  if (!pool || id.seed >= pool->placement.pg_num) return nullptr;
  auto pg = std::make_unique<pg::ReplicatedPg>(*this, id);
  if (Status st = pg->init(true); !st.ok()) {
    CAIRN_LOG(kError, kOsd) << "cannot create pg"
                            << log::kv("pg", std::to_string(id.pool) + "." + std::to_string(id.seed))
                            << log::kv("error", st.to_string());
    return nullptr;
  }
  pg->on_map(map_);
  auto* raw = pg.get();
  pgs_[id] = std::move(pg);
  return raw;
}

void Shard::handle_maps(const std::vector<std::shared_ptr<const crush::OsdMap>>& maps, uint32_t num_shards) {
  int32_t me = whoami();
  for (const auto& map : maps) {
    if (map_ && map->epoch <= map_->epoch) continue;
    map_ = map;
    for (const crush::PgId& id : map_->all_pgs()) {
      if (shard_index(id.pool, id.seed, num_shards) != index_) continue;
      if (find_pg(id)) continue;
      auto m = map_->map_pg(id);
      if (!m.ok()) continue;
      bool mine = std::find(m->acting.begin(), m->acting.end(), me) != m->acting.end();
      if (mine) get_pg(id, true);
    }
    for (auto& [id, pg] : pgs_) pg->on_map(map_);
  }
  // Peer messages that arrived before this map (a pool we did not know yet).
  auto parked = std::move(parked_);
  parked_.clear();
  for (auto& p : parked) dispatch(p.conn, std::move(p.m), p.from);
}

bool Shard::maps_between(uint32_t from, uint32_t to, std::vector<std::shared_ptr<const crush::OsdMap>>& out) {
  return osd_.maps_between(from, to, out);
}

void Shard::want_up_thru(uint32_t epoch) { osd_.want_up_thru(epoch); }

void Shard::request_pg_temp(const crush::PgId& pg, std::vector<int32_t> acting) {
  osd_.request_pg_temp(pg, std::move(acting));
}

bool Shard::reserve_backfill() { return osd_.reserve_backfill(); }

uint64_t Shard::recovery_max_log_entries() const { return osd_.options().recovery_max_log_entries; }

size_t Shard::recovery_max_active() const { return osd_.options().recovery_max_active; }

std::chrono::milliseconds Shard::recovery_sleep() const {
  return std::chrono::milliseconds(osd_.options().recovery_sleep_ms);
}

std::chrono::milliseconds Shard::recovery_charge(uint64_t bytes) {
  uint64_t cap = osd_.options().recovery_max_bytes;
  if (cap == 0) return std::chrono::milliseconds(0);
  double rate = static_cast<double>(cap) / std::max<size_t>(1, osd_.num_shards());  // bytes/s
  uint64_t now = now_ns();
  if (recovery_refilled_ns_ == 0) recovery_refilled_ns_ = now;
  // At most a tenth of a second's worth saved up: bursts stay short.
  recovery_tokens_ =
      std::min(rate / 10, recovery_tokens_ + rate * static_cast<double>(now - recovery_refilled_ns_) / 1e9);
  recovery_refilled_ns_ = now;
  recovery_tokens_ -= static_cast<double>(bytes);
  if (recovery_tokens_ >= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(static_cast<int64_t>(-recovery_tokens_ / rate * 1000) + 1);
}

void Shard::release_backfill() { osd_.release_backfill(); }

bool Shard::park(const msg::ConnectionRef& conn, msg::Message& m, int32_t from, int64_t pool) {
  if (map_ && map_->pool(pool)) return false;
  // A peer's map is ahead of ours: hold its message until ours catches up (bounded).
  if (parked_.size() < kMaxParked) parked_.push_back({conn, std::move(m), from});
  want_map(map_ ? map_->epoch + 1 : 1);
  return true;
}

void Shard::dispatch(const msg::ConnectionRef& conn, msg::Message m, int32_t from_osd) {
  switch (m.type) {
    case msg::kMsgRepOp: {
      auto r = m.decode_front<msg::RepOpMsg>();
      if (!r.ok() || park(conn, m, from_osd, r->pool)) return;
      if (auto* pg = get_pg({r->pool, r->pg_seed}, true)) {
        msg::RepOpMsg body = std::move(*r);
        pg->handle_rep_op(from_osd, std::move(m), std::move(body));
      }
      return;
    }
    case msg::kMsgRepOpReply: {
      auto r = m.decode_front<msg::RepOpReplyMsg>();
      if (!r.ok()) return;
      if (auto* pg = find_pg({r->pool, r->pg_seed})) pg->handle_rep_reply(*r);
      return;
    }
    case msg::kMsgPgInfo: {
      auto r = m.decode_front<msg::PgInfoMsg>();
      if (!r.ok() || park(conn, m, from_osd, r->pool)) return;
      r->from = from_osd;
      if (auto* pg = get_pg({r->pool, r->pg_seed}, true)) pg->handle_info(*r);
      return;
    }
    case msg::kMsgPgScan: {
      auto r = m.decode_front<msg::PgScanMsg>();
      if (!r.ok() || park(conn, m, from_osd, r->pool)) return;
      if (!r->reply) r->result = from_osd;
      if (auto* pg = get_pg({r->pool, r->pg_seed}, true)) pg->handle_scan(*r, from_osd);
      return;
    }
    case msg::kMsgPgPull: {
      auto r = m.decode_front<msg::PgPullMsg>();
      if (!r.ok() || park(conn, m, from_osd, r->pool)) return;
      if (auto* pg = find_pg({r->pool, r->pg_seed})) pg->handle_pull(*r, from_osd);
      return;
    }
    default: return;
  }
}

void Shard::dispatch_op(const msg::ConnectionRef& conn, msg::Message m, msg::OsdOpMsg op) {
  pg::ReplicatedPg* pg = find_pg({op.pool, op.pg_seed});
  if (!pg) {
    msg::OsdOpReplyMsg r;
    r.result = -ESTALE;  // not a PG of ours (yet): the client's map or ours is behind
    r.map_epoch = map_ ? map_->epoch : 0;
    if (map_ && op.map_epoch > map_->epoch) {
      r.result = -EAGAIN;
      want_map(op.map_epoch);
    }
    (void)conn->reply(m, msg::Message::make(msg::kMsgOsdOpReply, r));
    return;
  }
  osd_.ops_counter().inc();
  osd_.op_bytes_counter().inc(m.data.size());
  pg->handle_op(conn, std::move(m), std::move(op));
}

void Shard::connection_closed(const msg::ConnectionRef& conn) {
  for (auto& [id, pg] : pgs_) pg->connection_closed(conn);
}

std::vector<msg::PgStatEntry> Shard::pg_stats() {
  std::vector<msg::PgStatEntry> out;
  for (auto& [id, pg] : pgs_)
    if (pg->is_primary()) out.push_back(pg->stats());
  return out;
}

int32_t Shard::whoami() const { return osd_.whoami(); }
store::ObjectStore& Shard::store() { return osd_.store(); }
void Shard::send_to_osd(int32_t osd, msg::Message m) { osd_.send_to_osd(osd, std::move(m)); }
void Shard::run_on_shard(std::function<void()> fn) { asio::post(io_, std::move(fn)); }

void Shard::run_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto t = std::make_shared<asio::steady_timer>(io_, delay);
  t->async_wait([t, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec) fn();
  });
}

uint64_t Shard::now_ns() const { return real_clock().now_ns(); }
uint64_t Shard::wall_ns() const { return real_clock().wall_ns(); }
void Shard::want_map(uint32_t epoch) { osd_.want_map(epoch); }
std::chrono::milliseconds Shard::scrub_interval(bool deep) const { return osd_.scrub_interval(deep); }

}  // namespace cairn::osd
