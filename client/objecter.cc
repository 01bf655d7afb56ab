// The client's engine: maps, op sending with resends, OSD connections, watches.
#include <algorithm>
#include <cstring>

#include "client/internal/cluster_impl.h"
#include "common/env.h"
#include "common/log.h"
#include "msg/mon_messages.h"

// GCC 12 false positive (GCC PR 109224): a coroutine frame allocated with Asio's
// frame operator new is said to be freed by a mismatched delete.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace cairn::client {

namespace {
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kMaxBackoff{1000};
constexpr milliseconds kNoPrimaryWait{1000};

milliseconds left_until(Clock::time_point deadline) {
  auto d = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  return std::max(d, milliseconds(0));
}
}  // namespace

bool is_retry_result(int32_t result) { return result == -ESTALE || result == -EAGAIN; }

msg::OsdOpMsg make_op_msg(const crush::OsdMap& map, const OpTarget& t, const ObjectOperation& op) {
  msg::OsdOpMsg m;
  m.map_epoch = map.epoch;
  m.pool = t.pool;
  m.nspace = t.nspace;
  m.name = t.name;
  if (t.pg) {
    m.pg_seed = *t.pg;
    m.hash = *t.pg;  // stable_mod(seed) == seed for seed < pg_num
  } else {
    m.pg_seed = map.object_to_pg(t.pool, t.name).seed;
    m.hash = crush::object_hash(t.name);
  }
  m.flags = op.flags();
  m.ops = op.ops();
  return m;
}

OpReply make_op_reply(const msg::OsdOpReplyMsg& reply, const BufferList& data) {
  OpReply out;
  out.result = reply.result;
  out.version_epoch = reply.version_epoch;
  out.version = reply.version;
  std::vector<uint32_t> lens;
  lens.reserve(reply.results.size());
  for (const auto& r : reply.results) {
    out.rvals.push_back(r.rval);
    lens.push_back(r.outdata_len);
  }
  out.outdata = msg::split_data(data, lens);
  return out;
}

ClusterImpl::ClusterImpl(ClusterOptions opts) : opts_(std::move(opts)) {
  Random& rnd = real_random();
  while (client_id_ == 0) client_id_ = rnd.next_u64();
  if (!opts_.name.empty()) {
    entity_id_ = opts_.name;
  } else {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(client_id_));
    entity_id_ = buf;
  }
}

ClusterImpl::~ClusterImpl() { shutdown(); }

Status ClusterImpl::start() {
  auto mons = msg::MonSession::parse_hosts(opts_.mon_host);
  if (!mons.ok()) return mons.status();
  msg::EntityName self{msg::EntityType::kClient, entity_id_};
  messenger_ = std::make_unique<msg::Messenger>(io_, self);
  auto monc = MonClient::create(*messenger_, opts_.mon_host);
  if (!monc.ok()) return monc.status();
  monc_ = std::make_unique<MonClient>(std::move(*monc));
  session_ = std::make_unique<msg::MonSession>(*messenger_, std::move(*mons));
  table_.on(msg::kMsgOsdMap, [this](const msg::ConnectionRef&, msg::Message m) { handle_osdmap(m); });
  table_.on(msg::kMsgWatchNotify,
            [this](const msg::ConnectionRef& c, msg::Message m) { handle_watch_notify(c, std::move(m)); });
  table_.on_close([this](const msg::ConnectionRef& c, const Status&) { handle_closed(c); });
  messenger_->set_dispatcher(&table_);
  work_.emplace(asio::make_work_guard(io_));
  std::promise<void> started;
  thread_ = std::thread([this, &started] {
    set_thread_name("objecter");
    thread_id_ = std::this_thread::get_id();
    started.set_value();
    io_.run();
  });
  started.get_future().wait();
  asio::post(io_, [this] { session_->start(1); });
  Status st = wait_for_epoch_sync(1, opts_.connect_timeout);
  if (!st.ok()) {
    shutdown();
    return st.with_context("waiting for the first osdmap from " + opts_.mon_host);
  }
  return {};
}

Status ClusterImpl::wait_for_epoch_sync(uint32_t e, milliseconds timeout) {
  auto self = shared_from_this();
  auto r = run_sync<bool>(
      [self, e, timeout]() -> awaitable<Result<bool>> { return wait_epoch_bool(self, e, timeout); });
  return r.ok() ? Status() : r.status();
}

awaitable<Result<bool>> ClusterImpl::wait_epoch_bool(std::shared_ptr<ClusterImpl> self, uint32_t e,
                                                     milliseconds timeout) {
  Status st = co_await self->wait_epoch(e, timeout);
  if (!st.ok()) co_return st;
  co_return true;
}

void ClusterImpl::shutdown() {
  if (stopping_.exchange(true)) return;
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    if (session_) session_->stop();
    // close() reports to handle_closed(), which edits conns_: iterate a copy.
    auto conns = std::move(conns_);
    conns_.clear();
    for (auto& [id, c] : conns) c.conn->close();
    if (messenger_) messenger_->shutdown();
    wake_waiters();
  });
  work_.reset();
  // Let in-flight coroutines see the shutdown and return, then stop idle loops.
  auto stopper = std::thread([this] {
    std::this_thread::sleep_for(milliseconds(100));
    io_.stop();
  });
  if (std::this_thread::get_id() == thread_id_) {
    // Called from a callback: the thread cannot join itself; it ends after stop().
    stopper.detach();
    thread_.detach();
    return;
  }
  thread_.join();
  stopper.join();
}

std::shared_ptr<const crush::OsdMap> ClusterImpl::map_snapshot() const {
  std::lock_guard<std::mutex> l(snap_mu_);
  return snap_;
}

void ClusterImpl::publish(std::shared_ptr<const crush::OsdMap> map) {
  map_ = map;
  {
    std::lock_guard<std::mutex> l(snap_mu_);
    snap_ = map;
  }
  epoch_.store(map->epoch);
  session_->got_epoch(map->epoch);
  wake_waiters();
  check_watches();
}

void ClusterImpl::handle_osdmap(const msg::Message& m) {
  auto mm = m.decode_front<msg::OsdMapMsg>();
  if (!mm.ok()) {
    CAIRN_LOG(kWarn, kClient) << "malformed osdmap message" << log::kv("err", mm.status().to_string());
    return;
  }
  std::shared_ptr<crush::OsdMap> cur;
  if (map_) cur = std::make_shared<crush::OsdMap>(*map_);
  if (!mm->full.empty()) {
    const auto& [e, bl] = *mm->full.rbegin();
    if (!cur || e > cur->epoch) {
      auto full = decode_from<crush::OsdMap>(bl);
      if (!full.ok()) {
        CAIRN_LOG(kWarn, kClient) << "bad full osdmap" << log::kv("epoch", e)
                                  << log::kv("err", full.status().to_string());
        return;
      }
      cur = std::make_shared<crush::OsdMap>(std::move(*full));
    }
  }
  bool gap = false;
  for (const auto& [e, bl] : mm->incremental) {
    if (!cur || e > cur->epoch + 1) {
      gap = true;
      break;
    }
    if (e <= cur->epoch) continue;
    auto inc = decode_from<crush::OsdMapIncremental>(bl);
    Status st = inc.ok() ? cur->apply(*inc) : inc.status();
    if (!st.ok()) {
      CAIRN_LOG(kWarn, kClient) << "cannot apply osdmap incremental" << log::kv("epoch", e)
                                << log::kv("err", st.to_string());
      gap = true;
      break;
    }
  }
  if (cur && (!map_ || cur->epoch > map_->epoch)) publish(cur);
  if (gap) session_->want_newer();
}

void ClusterImpl::wake_waiters() {
  for (auto* t : waiters_) t->cancel();
}

awaitable<void> ClusterImpl::wait_map_change(uint32_t have, milliseconds d) {
  if (stopping_ || (map_ && map_->epoch > have) || d.count() <= 0) co_return;
  asio::steady_timer t(io_);
  t.expires_after(d);
  waiters_.insert(&t);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  waiters_.erase(&t);
}

awaitable<Status> ClusterImpl::wait_epoch(uint32_t e, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!map_ || map_->epoch < e) {
    if (stopping_) co_return Status(Errc::kShutdown, "client is shutting down");
    auto left = left_until(deadline);
    if (left.count() == 0) {
      co_return Status(Errc::kTimedOut, "no osdmap epoch " + std::to_string(e) + " (have " +
                                            std::to_string(map_ ? map_->epoch : 0) + ")");
    }
    if (map_) session_->want_newer();
    uint32_t have = map_ ? map_->epoch : 0;
    co_await wait_map_change(have, std::min(left, milliseconds(1000)));
  }
  co_return Status();
}

msg::ConnectionRef ClusterImpl::osd_conn(int32_t osd, const std::string& addr) {
  auto it = conns_.find(osd);
  if (it != conns_.end() && it->second.addr == addr && it->second.conn->is_open()) return it->second.conn;
  if (it != conns_.end()) {
    msg::ConnectionRef stale = it->second.conn;
    conns_.erase(it);
    stale->close();
  }
  auto a = msg::EntityAddr::parse(addr);
  msg::EntityInst peer{msg::EntityName{msg::EntityType::kOsd, std::to_string(osd)},
                       a.ok() ? *a : msg::EntityAddr{}};
  auto conn = messenger_->connect(peer, msg::Policy::kLossy);
  conns_[osd] = OsdConn{conn, addr};
  return conn;
}

void ClusterImpl::drop_conn(int32_t osd, const msg::ConnectionRef& conn) {
  auto it = conns_.find(osd);
  if (it != conns_.end() && it->second.conn == conn) conns_.erase(it);
  conn->close();
}

void ClusterImpl::handle_closed(const msg::ConnectionRef& conn) {
  for (auto it = conns_.begin(); it != conns_.end(); ++it) {
    if (it->second.conn == conn) {
      int32_t osd = it->first;
      conns_.erase(it);
      for (auto& [cookie, w] : watches_)
        if (w.osd == osd) w.osd = -1;
      break;
    }
  }
  if (!stopping_) check_watches();
}

std::optional<int32_t> ClusterImpl::primary_of(const crush::OsdMap& map, const OpTarget& t) const {
  crush::PgId pg = t.pg ? crush::PgId{t.pool, *t.pg} : map.object_to_pg(t.pool, t.name);
  auto mapping = map.map_pg(pg);
  if (!mapping.ok() || mapping->acting_primary < 0) return std::nullopt;
  return mapping->acting_primary;
}

awaitable<Result<OpReply>> ClusterImpl::execute(OpTarget t, ObjectOperation op, milliseconds extra) {
  auto self = shared_from_this();
  auto deadline = Clock::now() + opts_.op_timeout + extra;
  uint64_t tid = ++next_tid_;
  uint32_t attempt = 0;
  milliseconds backoff{10};
  Status last(Errc::kTimedOut, "no answer");
  while (true) {
    if (stopping_) co_return Status(Errc::kShutdown, "client is shutting down");
    milliseconds left = left_until(deadline);
    if (left.count() == 0)
      co_return Status(Errc::kTimedOut, "op on '" + t.name + "' timed out: " + last.to_string());
    if (!map_) {
      co_await wait_map_change(0, left);
      continue;
    }
    std::shared_ptr<const crush::OsdMap> map = map_;
    const crush::PoolInfo* pool = map->pool(t.pool);
    if (!pool) co_return Status(Errc::kNotFound, "pool " + std::to_string(t.pool) + " does not exist");
    if (t.pg && *t.pg >= pool->placement.pg_num)
      co_return Status(Errc::kInvalid, "pg seed " + std::to_string(*t.pg) + " out of range");
    std::optional<int32_t> primary = primary_of(*map, t);
    const crush::OsdInfo* info = primary ? map->osd(*primary) : nullptr;
    if (!info || !info->up || info->addr.empty()) {
      last = Status(Errc::kAgain, "the PG has no live primary in epoch " + std::to_string(map->epoch));
      co_await wait_map_change(map->epoch, std::min(left, kNoPrimaryWait));
      continue;
    }
    int32_t osd = *primary;
    msg::ConnectionRef conn = osd_conn(osd, info->addr);
    msg::OsdOpMsg m = make_op_msg(*map, t, op);
    m.client = client_id_;
    m.tid = tid;
    m.attempt = attempt++;
    msg::Message req = msg::Message::make(msg::kMsgOsdOp, m, op.data());
    milliseconds wait = std::min(left, opts_.attempt_timeout + extra);
    auto r = co_await conn->request(std::move(req), wait);
    if (stopping_) co_return Status(Errc::kShutdown, "client is shutting down");
    if (!r.ok()) {
      // Reset, timeout, closed: resend to whoever is primary by then.
      last = r.status().with_context("osd." + std::to_string(osd));
      drop_conn(osd, conn);
      // Back off; a new map (or shutdown) ends the pause early.
      milliseconds pause = std::min(backoff, left_until(deadline));
      backoff = std::min(backoff * 2, kMaxBackoff);
      co_await wait_map_change(map->epoch, pause);
      continue;
    }
    auto reply = r->decode_front<msg::OsdOpReplyMsg>();
    if (!reply.ok()) co_return reply.status().with_context("reply from osd." + std::to_string(osd));
    if (is_retry_result(reply->result)) {
      last = status_from_errno(reply->result, "osd." + std::to_string(osd));
      if (reply->map_epoch > map->epoch) {
        session_->want_newer();
        uint32_t want = reply->map_epoch;
        Status st = co_await wait_epoch(want, std::min(left_until(deadline), milliseconds(2000)));
        if (st.ok()) continue;  // the new map may move the PG: resend at once
      }
      // Back off; a new map (or shutdown) ends the pause early.
      milliseconds pause = std::min(backoff, left_until(deadline));
      backoff = std::min(backoff * 2, kMaxBackoff);
      co_await wait_map_change(map->epoch, pause);
      continue;
    }
    OpReply out = make_op_reply(*reply, r->data);
    out.osd = osd;
    co_return out;
  }
}

awaitable<Result<MonCommandResult>> ClusterImpl::mon_command(std::vector<std::string> args, bool json) {
  auto self = shared_from_this();
  milliseconds timeout = opts_.mon_timeout;
  auto r = co_await monc_->command(std::move(args), json, timeout);
  co_return r;
}

// ---- watch/notify ----

awaitable<Result<uint64_t>> ClusterImpl::watch(OpTarget t, WatchCallback cb) {
  auto self = shared_from_this();
  uint64_t cookie = ++next_cookie_;
  Watch w;
  w.target = t;
  w.cb = std::move(cb);
  w.registering = true;
  watches_[cookie] = std::move(w);
  ObjectOperation op = watch_op(msg::OsdOpCode::kWatch, cookie);
  auto r = co_await execute(t, std::move(op), milliseconds(0));
  auto it = watches_.find(cookie);
  if (it == watches_.end()) co_return Status(Errc::kCanceled, "watch removed while registering");
  it->second.registering = false;
  Status st = r.ok() ? status_from_errno(r->result, "watch " + t.name) : r.status();
  if (!st.ok()) {
    watches_.erase(it);
    co_return st;
  }
  it->second.osd = r->osd;
  // The primary may have changed while we registered.
  check_watches();
  co_return cookie;
}

awaitable<Status> ClusterImpl::unwatch(uint64_t cookie) {
  auto self = shared_from_this();
  auto it = watches_.find(cookie);
  if (it == watches_.end()) co_return Status(Errc::kNotFound, "no watch " + std::to_string(cookie));
  OpTarget t = it->second.target;
  watches_.erase(it);
  ObjectOperation op = watch_op(msg::OsdOpCode::kUnwatch, cookie);
  auto r = co_await execute(t, std::move(op), milliseconds(0));
  if (!r.ok()) co_return r.status();
  Status st = status_from_errno(r->result, "unwatch " + t.name);
  // The watch is gone either way (the object may have been removed).
  if (st.code() == Errc::kNotFound) co_return Status();
  co_return st;
}

awaitable<Result<bool>> ClusterImpl::unwatch_bool(std::shared_ptr<ClusterImpl> self, uint64_t cookie) {
  Status st = co_await self->unwatch(cookie);
  if (!st.ok()) co_return st;
  co_return true;
}

void ClusterImpl::check_watches() {
  if (!map_ || stopping_) return;
  for (auto& [cookie, w] : watches_) {
    if (w.registering) continue;
    std::optional<int32_t> p = primary_of(*map_, w.target);
    bool conn_ok = false;
    if (w.osd >= 0) {
      auto c = conns_.find(w.osd);
      conn_ok = c != conns_.end() && c->second.conn->is_open();
    }
    if (p && *p == w.osd && conn_ok) continue;
    w.registering = true;
    asio::co_spawn(io_, rewatch(shared_from_this(), cookie), asio::detached);
  }
}

awaitable<void> ClusterImpl::rewatch(std::shared_ptr<ClusterImpl> self, uint64_t cookie) {
  while (!self->stopping_) {
    auto it = self->watches_.find(cookie);
    if (it == self->watches_.end()) co_return;
    OpTarget t = it->second.target;
    ObjectOperation op = watch_op(msg::OsdOpCode::kWatch, cookie);
    auto r = co_await self->execute(t, std::move(op), milliseconds(0));
    it = self->watches_.find(cookie);
    if (it == self->watches_.end()) co_return;
    if (r.ok() && r->result == 0) {
      it->second.osd = r->osd;
      it->second.registering = false;
      CAIRN_LOG(kInfo, kClient) << "watch re-established" << log::kv("object", t.name)
                                << log::kv("osd", r->osd);
      self->check_watches();
      co_return;
    }
    CAIRN_LOG(kWarn, kClient) << "watch re-registration failed" << log::kv("object", t.name)
                              << log::kv("err", r.ok() ? std::to_string(r->result) : r.status().to_string());
    co_await self->wait_map_change(self->epoch(), milliseconds(1000));
  }
}

void ClusterImpl::handle_watch_notify(const msg::ConnectionRef&, msg::Message m) {
  auto n = m.decode_front<msg::WatchNotifyMsg>();
  if (!n.ok()) {
    CAIRN_LOG(kWarn, kClient) << "malformed watch notify" << log::kv("err", n.status().to_string());
    return;
  }
  auto it = watches_.find(n->cookie);
  if (it == watches_.end()) return;  // unwatched meanwhile: the notifier times out on us
  BufferList reply;
  if (it->second.cb) reply = it->second.cb(n->notify_id, n->cookie, m.data);
  // The callback may have unwatched: look the watch up again.
  it = watches_.find(n->cookie);
  OpTarget t;
  if (it != watches_.end()) {
    t = it->second.target;
  } else {
    t.pool = n->pool;
    t.name = n->name;
  }
  asio::co_spawn(io_,
                 send_notify_ack(shared_from_this(), std::move(t), n->notify_id, n->cookie, std::move(reply)),
                 asio::detached);
}

awaitable<void> ClusterImpl::send_notify_ack(std::shared_ptr<ClusterImpl> self, OpTarget t,
                                             uint64_t notify_id, uint64_t cookie, BufferList reply) {
  ObjectOperation op = notify_ack_op(notify_id, cookie, std::move(reply));
  auto r = co_await self->execute(std::move(t), std::move(op), milliseconds(0));
  if (!r.ok() || r->result != 0)
    CAIRN_LOG(kDebug, kClient) << "notify ack failed" << log::kv("notify_id", notify_id);
}

}  // namespace cairn::client
