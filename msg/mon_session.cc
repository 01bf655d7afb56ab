#include "msg/mon_session.h"

#include <optional>

#include "common/env.h"
#include "common/log.h"
#include "msg/mon_messages.h"

namespace cairn::msg {

namespace {
// One monitor gets this long to answer a request before the next is tried.
constexpr auto kPerMonitorTimeout = std::chrono::milliseconds(3000);
// How often the session checks its connection.
constexpr auto kCheckInterval = std::chrono::milliseconds(500);
}  // namespace

struct MonSession::State : std::enable_shared_from_this<MonSession::State> {
  Messenger* messenger = nullptr;
  std::vector<EntityAddr> mons;
  size_t cur = 0;
  ConnectionRef conn;
  uint32_t have = 0;
  uint64_t last_map_ns = 0;
  std::chrono::milliseconds renew{10000};
  std::unique_ptr<asio::steady_timer> timer;
  bool started = false;
  bool stopped = false;

  ConnectionRef connect(const EntityAddr& addr) {
    // An empty id matches whichever monitor answers at that address.
    EntityName any_mon{EntityType::kMon, ""};
    return messenger->connect(EntityInst{any_mon, addr}, Policy::kLossy);
  }

  void subscribe() {
    if (!conn) return;
    (void)conn->send(Message::make(kMsgMonSubscribe, MonSubscribeMsg{have + 1, false}));
  }

  void hunt() {
    if (conn) conn->close();
    cur = (cur + 1) % mons.size();
    conn = connect(mons[cur]);
    last_map_ns = real_clock().now_ns();
    CAIRN_LOG(kDebug, kMsg) << "mon session: connecting" << log::kv("mon", mons[cur].to_string())
                            << log::kv("from_epoch", have + 1);
    subscribe();
  }

  void arm() {
    timer->expires_after(kCheckInterval);
    timer->async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      auto self = w.lock();
      if (ec || !self || self->stopped) return;
      self->check();
      self->arm();
    });
  }

  void check() {
    uint64_t now = real_clock().now_ns();
    bool silent = now - last_map_ns > static_cast<uint64_t>(renew.count()) * 1'000'000;
    if (!conn || !conn->is_open()) {
      hunt();
    } else if (silent) {
      // Maps come only when they change; a quiet monitor may also be one cut off
      // from the quorum. Ask again on another monitor now and then.
      hunt();
    }
  }
};

Result<std::vector<EntityAddr>> MonSession::parse_hosts(std::string_view rest) {
  std::vector<EntityAddr> mons;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    auto a = EntityAddr::parse(item);
    if (!a.ok()) return a.status().with_context("mon_host");
    mons.push_back(*a);
  }
  if (mons.empty()) return Status(Errc::kInvalid, "no monitors: set mon_host in cairn.conf or --mon-host");
  return mons;
}

MonSession::MonSession(Messenger& messenger, std::vector<EntityAddr> mons) : s_(std::make_shared<State>()) {
  s_->messenger = &messenger;
  s_->mons = std::move(mons);
  s_->cur = real_random().next_u64() % std::max<size_t>(1, s_->mons.size());
  s_->timer = std::make_unique<asio::steady_timer>(messenger.io());
}

MonSession::~MonSession() { stop(); }

void MonSession::start(uint32_t from_epoch, std::chrono::milliseconds renew) {
  if (s_->started || s_->mons.empty()) return;
  s_->started = true;
  s_->have = from_epoch == 0 ? 0 : from_epoch - 1;
  s_->renew = renew;
  s_->cur = (s_->cur + s_->mons.size() - 1) % s_->mons.size();
  s_->hunt();
  s_->arm();
}

void MonSession::got_epoch(uint32_t epoch) {
  if (epoch > s_->have) s_->have = epoch;
  s_->last_map_ns = real_clock().now_ns();
}

void MonSession::want_newer() {
  if (!s_->conn) return;
  (void)s_->conn->send(Message::make(kMsgMonSubscribe, MonSubscribeMsg{s_->have + 1, true}));
}

Status MonSession::send(Message m) {
  if (!s_->conn) return Status(Errc::kAgain, "no monitor session yet");
  return s_->conn->send(std::move(m));
}

awaitable<Result<Message>> MonSession::request(Message m, RedirectFn redirect,
                                               std::chrono::milliseconds timeout) {
  auto s = s_;
  uint64_t deadline = real_clock().now_ns() + static_cast<uint64_t>(timeout.count()) * 1'000'000;
  EntityAddr target = s->mons[s->cur % s->mons.size()];
  size_t next = s->cur;
  Status last(Errc::kTimedOut, "no monitor answered");
  asio::steady_timer pause(s->messenger->io());
  for (int attempt = 0; real_clock().now_ns() < deadline && !s->stopped; ++attempt) {
    ConnectionRef conn = s->connect(target);
    auto left = std::chrono::milliseconds((deadline - real_clock().now_ns()) / 1'000'000);
    std::chrono::milliseconds wait = std::min(left, std::chrono::milliseconds(kPerMonitorTimeout));
    Message req = m;  // named: no temporaries inside co_await (docs/coroutines.md)
    auto r = co_await conn->request(std::move(req), wait);
    conn->close();
    if (r.ok()) {
      std::optional<std::string> leader = redirect(*r);
      if (!leader) co_return std::move(*r);
      last = Status(Errc::kAgain, "monitor " + target.to_string() + " is not the leader");
      if (auto l = EntityAddr::parse(*leader); l.ok() && !(*l == target)) {
        target = *l;
        continue;
      }
    } else {
      last = r.status().with_context("monitor " + target.to_string());
    }
    next = (next + 1) % s->mons.size();
    target = s->mons[next];
    if (attempt % static_cast<int>(s->mons.size()) == static_cast<int>(s->mons.size()) - 1) {
      pause.expires_after(std::chrono::milliseconds(200));
      boost::system::error_code ec;
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  co_return last;
}

void MonSession::stop() {
  if (s_->stopped) return;
  s_->stopped = true;
  if (s_->timer) s_->timer->cancel();
  if (s_->conn) s_->conn->close();
}

std::string MonSession::current() const { return s_->conn ? s_->mons[s_->cur].to_string() : std::string(); }

uint32_t MonSession::epoch() const { return s_->have; }

}  // namespace cairn::msg
