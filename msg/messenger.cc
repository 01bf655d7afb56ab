// The messenger: binding, accepting and handshaking incoming sockets, the
// session registry, shutdown. Per-connection work is in internal/session*.cc.
#include "msg/messenger.h"

#include "common/log.h"
#include "msg/internal/messenger_impl.h"
#include "msg/internal/session.h"
#include "msg/internal/spawn.h"
#include "msg/tcp_transport.h"

namespace cairn::msg {

using internal::Hello;
using internal::Link;
using internal::Session;
using log::kv;

MessengerImpl::MessengerImpl(asio::io_context& io_, EntityName self_, MessengerOptions opts_, Transport* t)
    : io(io_), self(std::move(self_)), opts(opts_), faults(opts_.seed), transport_(t), rng_(opts_.seed) {
  if (!transport_) {
    owned_transport_ = make_tcp_transport(io);
    transport_ = owned_transport_.get();
  }
}

Result<EntityAddr> MessengerImpl::bind(const EntityAddr& addr) {
  CAIRN_ASSIGN_OR_RETURN(listener_, transport_->listen(addr));
  my_addr = listener_->local_addr();
  asio::co_spawn(
      io,
      [](std::shared_ptr<MessengerImpl> self) -> awaitable<void> {
        co_await self->accept_loop();
      }(shared_from_this()),
      internal::log_if_thrown("accept loop"));
  CAIRN_LOG(kInfo, kMsg) << "listening" << kv("entity", self.to_string()) << kv("addr", my_addr.to_string());
  return my_addr;
}

awaitable<void> MessengerImpl::accept_loop() {
  while (!stopped.load()) {
    auto s = co_await listener_->accept();
    if (stopped.load()) break;
    if (!s.ok()) {
      CAIRN_LOG(kWarn, kMsg) << "accept failed" << kv("reason", s.status().to_string());
      continue;
    }
    if (sessions_.size() >= opts.max_connections) {
      CAIRN_LOG(kWarn, kMsg) << "refusing connection: too many" << kv("remote", (*s)->remote());
      (*s)->close();
      continue;
    }
    asio::co_spawn(io, handle_accepted(std::move(*s)), internal::log_if_thrown("accepted connection"));
  }
}

awaitable<void> MessengerImpl::handle_accepted(std::unique_ptr<Stream> stream) {
  auto self = shared_from_this();
  auto link = std::make_shared<Link>(std::move(stream), opts.limits, io.get_executor());
  link->guard.expires_after(opts.handshake_timeout);
  link->guard.async_wait([l = link](const boost::system::error_code& ec) {
    if (!ec) l->stream->close();
  });
  auto f = co_await link->reader.next();
  link->guard.cancel();
  Result<Hello> hello =
      f.ok() ? (f->header.type == kMsgHello ? decode_from<Hello>(f->front)
                                            : Result<Hello>(Errc::kCorrupt, "first frame is not a hello"))
             : Result<Hello>(f.status());
  if (hello.ok() && (hello->name.empty() || faults.is_cut(hello->name))) {
    hello = Status(Errc::kConnReset, "peer refused (unnamed or cut by fault injection)");
  }
  if (!hello.ok() || stopped.load()) {
    CAIRN_LOG(kInfo, kMsg) << "handshake failed" << kv("remote", link->stream->remote())
                           << kv("reason", hello.status().to_string());
    link->stream->close();
    co_return;
  }
  bool fresh = true;
  auto session = find_or_make_session(*hello, fresh);
  co_await session->run_accepted(link, std::move(*hello), fresh);
}

std::shared_ptr<Session> MessengerImpl::find_or_make_session(const Hello& hello, bool& fresh) {
  fresh = true;
  if (hello.policy == Policy::kLossless) {
    auto key = std::make_pair(hello.name, hello.session_id);
    if (auto it = lossless_.find(key); it != lossless_.end()) {
      fresh = false;
      return it->second;
    }
    // A new session id from a known peer: the peer restarted; its old sessions are gone.
    std::vector<std::shared_ptr<Session>> stale;
    for (auto& [k, s] : lossless_) {
      if (k.first == hello.name) stale.push_back(s);
    }
    for (auto& s : stale) s->close_with(Status(Errc::kConnReset, "peer restarted (new session)"));
  }
  auto s = std::make_shared<Session>(shared_from_this(), hello.name, hello.addr, hello.policy, false,
                                     hello.session_id);
  sessions_[s.get()] = s;
  if (hello.policy == Policy::kLossless) lossless_[{hello.name, hello.session_id}] = s;
  return s;
}

std::shared_ptr<Session> MessengerImpl::connect(const EntityInst& peer, Policy policy) {
  uint64_t id = real_random().next_u64() | 1;  // unique across restarts of this process
  auto s = std::make_shared<Session>(shared_from_this(), peer.name, peer.addr, policy, true, id);
  if (stopped.load()) {
    s->close_with(Status(Errc::kShutdown, "messenger stopped"));
    return s;
  }
  sessions_[s.get()] = s;
  s->start_connecting();
  return s;
}

void MessengerImpl::forget(const Session* s) {
  auto it = sessions_.find(s);
  if (it == sessions_.end()) return;
  if (s->policy() == Policy::kLossless) lossless_.erase({s->peer_name(), s->session_id()});
  sessions_.erase(it);
}

void MessengerImpl::on_faults_changed() {
  std::vector<std::shared_ptr<Session>> all;
  for (auto& [p, s] : sessions_) all.push_back(s);
  for (auto& s : all) s->apply_faults();
}

std::chrono::milliseconds MessengerImpl::jitter(std::chrono::milliseconds base) {
  int64_t b = base.count();
  int64_t spread = std::max<int64_t>(1, b / 2);
  return std::chrono::milliseconds(b - b / 4 +
                                   static_cast<int64_t>(rng_.uniform(static_cast<uint64_t>(spread))));
}

void MessengerImpl::shutdown() {
  stopped.store(true);
  if (listener_) listener_->close();
  std::vector<std::shared_ptr<Session>> all;
  for (auto& [p, s] : sessions_) all.push_back(s);
  for (auto& s : all) s->close_with(Status(Errc::kShutdown, "messenger shut down"));
  sessions_.clear();
  lossless_.clear();
}

// ---- Messenger ----------------------------------------------------------------

Messenger::Messenger(asio::io_context& io, EntityName self, MessengerOptions opts, Transport* transport)
    : impl_(std::make_shared<MessengerImpl>(io, std::move(self), opts, transport)) {
  // A fault change on any thread drops the sockets of newly cut peers, on the executor.
  impl_->faults.set_listener([w = std::weak_ptr<MessengerImpl>(impl_)] {
    if (auto impl = w.lock()) asio::post(impl->io, [impl] { impl->on_faults_changed(); });
  });
}

Messenger::~Messenger() {
  impl_->faults.set_listener(nullptr);
  if (!impl_->stopped.load()) shutdown();
}

Result<EntityAddr> Messenger::bind(const EntityAddr& addr) { return impl_->bind(addr); }
void Messenger::set_dispatcher(Dispatcher* d) { impl_->dispatcher = d; }
ConnectionRef Messenger::connect(const EntityInst& peer, Policy policy) {
  return impl_->connect(peer, policy);
}

void Messenger::shutdown() {
  auto impl = impl_;
  impl->stopped.store(true);
  if (impl->io.get_executor().running_in_this_thread() || impl->io.stopped()) {
    impl->shutdown();
  } else {
    asio::post(impl->io, [impl] { impl->shutdown(); });
  }
}

const EntityName& Messenger::name() const { return impl_->self; }
EntityAddr Messenger::addr() const { return impl_->my_addr; }
FaultInjector& Messenger::faults() { return impl_->faults; }
asio::io_context& Messenger::io() { return impl_->io; }
size_t Messenger::num_connections() const { return impl_->num_sessions(); }
uint64_t Messenger::client_bytes_held() const { return impl_->client_bytes->load(std::memory_order_relaxed); }
uint64_t Messenger::client_throttle_waits() const {
  return impl_->client_throttle_waits.load(std::memory_order_relaxed);
}

}  // namespace cairn::msg
