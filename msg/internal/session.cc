// Session lifecycle: construction, the connect loop, handshakes, links coming
// and going, close. The I/O loops are in session_io.cc, requests and
// backpressure in session_rpc.cc.
#include "msg/internal/session.h"

#include "common/log.h"
#include "msg/internal/messenger_impl.h"
#include "msg/internal/spawn.h"

namespace cairn::msg::internal {

using boost::system::error_code;
using log::kv;

namespace {

// Writes one frame straight to the stream (the handshake, before the writer runs).
awaitable<Status> write_direct(Stream& s, MsgType type, const BufferList& front) {
  FrameHeader h;
  h.type = type;
  BufferList frame = encode_frame(h, front, BufferList());
  std::vector<iovec> iov;
  frame.to_iovecs(iov);
  co_return co_await s.write_all(iov);
}

}  // namespace

Session::Session(std::shared_ptr<MessengerImpl> m, EntityName peer, EntityAddr addr, Policy policy,
                 bool initiator, uint64_t session_id)
    : m_(std::move(m)),
      ex_(m_->io.get_executor()),
      peer_(std::move(peer)),
      addr_(std::move(addr)),
      policy_(policy),
      initiator_(initiator),
      session_id_(session_id),
      max_inflight_(m_->opts.max_inflight_bytes),
      reconnect_timer_(ex_) {}

Session::~Session() = default;

void Session::start_connecting() {
  asio::co_spawn(
      ex_,
      [](std::shared_ptr<Session> self) -> awaitable<void> {
        co_await self->connect_loop();
      }(shared_from_this()),
      log_if_thrown("connect loop"));
}

awaitable<void> Session::connect_loop() {
  auto backoff = m_->opts.reconnect_min;
  while (!closed_.load()) {
    bool handshaken = false;
    Status st = co_await connect_once(handshaken);
    if (closed_.load()) break;
    if (policy_ == Policy::kLossy) {
      close_with(Status(Errc::kConnReset, st.message()));
      break;
    }
    if (handshaken) backoff = m_->opts.reconnect_min;
    CAIRN_LOG(kDebug, kMsg) << "reconnecting" << kv("peer", peer_.to_string()) << kv("reason", st.message())
                            << kv("backoff_ms", backoff.count());
    reconnect_timer_.expires_after(m_->jitter(backoff));
    error_code ec;
    co_await reconnect_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    backoff = std::min(backoff * 2, m_->opts.reconnect_max);
  }
}

awaitable<Status> Session::connect_once(bool& handshaken) {
  if (m_->faults.is_cut(peer_)) co_return Status(Errc::kConnReset, "fault injection: cut");
  CAIRN_CO_ASSIGN_OR_RETURN(auto stream, co_await m_->transport().connect(addr_, m_->opts.connect_timeout));
  auto link = std::make_shared<Link>(std::move(stream), m_->opts.limits, ex_);
  arm_handshake_guard(link);
  Status st = co_await write_direct(*link->stream, kMsgHello, encode_to_buffer(my_hello(false)));
  // Not `st.ok() ? co_await ... : ...`: GCC 12 miscompiles co_await inside ?: (docs/coroutines.md).
  Result<Hello> reply(st.ok() ? Status(Errc::kInternal, "unset") : st);
  if (st.ok()) reply = co_await read_hello(*link);
  link->guard.cancel();
  // A peer named with an empty id ("mon." from a mon_host address list) matches
  // any entity of that type: clients know monitors by address only.
  bool wildcard = peer_.id.empty() && reply.ok() && reply->name.type == peer_.type;
  if (reply.ok() && reply->name != peer_ && !wildcard) {
    reply = Status(Errc::kInvalid,
                   "handshake: expected " + peer_.to_string() + ", got " + reply->name.to_string());
  }
  if (!reply.ok() || closed_.load() || m_->faults.is_cut(peer_)) {
    link->stream->close();
    co_return reply.ok() ? Status(Errc::kConnReset, "closed during handshake") : reply.status();
  }
  handshaken = true;
  if (reply->fresh) in_seq_ = acked_in_seq_ = reply->out_base;
  resume_after_handshake(reply->in_seq);
  start_link(link);
  st = co_await read_loop(link);
  fail_link(link, st);
  co_return st;
}

awaitable<void> Session::run_accepted(std::shared_ptr<Link> link, Hello hello, bool fresh) {
  if (closed_.load()) co_return;
  if (link_) fail_link(link_, Status(Errc::kConnReset, "replaced by a new connection"));
  if (fresh) in_seq_ = acked_in_seq_ = hello.out_base;
  resume_after_handshake(hello.in_seq);
  arm_handshake_guard(link);
  Status st = co_await write_direct(*link->stream, kMsgHello, encode_to_buffer(my_hello(fresh)));
  link->guard.cancel();
  if (st.ok() && !closed_.load()) {
    start_link(link);
    st = co_await read_loop(link);
  }
  fail_link(link, st);
}

awaitable<Result<Hello>> Session::read_hello(Link& link) {
  CAIRN_CO_ASSIGN_OR_RETURN(auto f, co_await link.reader.next());
  if (f.header.type != kMsgHello) co_return Status(Errc::kCorrupt, "handshake: first frame is not a hello");
  auto hello = decode_from<Hello>(f.front);
  if (!hello.ok()) co_return hello.status().with_context("handshake");
  co_return hello;
}

Hello Session::my_hello(bool fresh) const {
  Hello h;
  h.name = m_->self;
  h.addr = m_->my_addr;
  h.policy = policy_;
  h.session_id = session_id_;
  h.in_seq = in_seq_;
  // Everything below the oldest frame we still hold was acked.
  if (!sent_.empty()) {
    h.out_base = sent_.front().header.seq - 1;
  } else {
    h.out_base = out_seq_;
    for (const auto& f : pending_) {
      if (f.header.seq != 0) {
        h.out_base = f.header.seq - 1;
        break;
      }
    }
  }
  h.fresh = fresh;
  return h;
}

// Lossless: the peer has everything up to peer_in_seq; requeue the rest, in
// order, ahead of what was never written. Stale control frames are dropped.
void Session::resume_after_handshake(uint64_t peer_in_seq) {
  if (ever_connected_) stats_.reconnects.fetch_add(1, std::memory_order_relaxed);
  ever_connected_ = true;
  trim_acked(peer_in_seq);
  std::deque<OutFrame> queue;
  uint64_t resent = sent_.size();
  for (auto& f : sent_) queue.push_back(std::move(f));
  sent_.clear();
  for (auto& f : pending_) {
    if (f.header.seq == 0 && is_control(f.header.type)) continue;
    if (f.header.seq != 0 && f.header.seq <= peer_in_seq) {
      if (f.counted) release(f.msg.wire_size());
      continue;
    }
    queue.push_back(std::move(f));
  }
  pending_ = std::move(queue);
  stats_.resent.fetch_add(resent, std::memory_order_relaxed);
  ack_needed_ = in_seq_ != 0;
}

void Session::start_link(const std::shared_ptr<Link>& link) {
  link_ = link;
  last_rx_ = last_tx_ = Clock::now();
  asio::co_spawn(ex_, write_loop(shared_from_this(), link), log_if_thrown("write loop"));
  asio::co_spawn(ex_, keepalive_loop(shared_from_this(), link), log_if_thrown("keepalive loop"));
  CAIRN_LOG(kDebug, kMsg) << "connection up" << kv("peer", peer_.to_string())
                          << kv("remote", link->stream->remote()) << kv("resend", pending_.size());
}

void Session::arm_handshake_guard(const std::shared_ptr<Link>& link) {
  link->guard.expires_after(m_->opts.handshake_timeout);
  link->guard.async_wait([l = link](const error_code& ec) {  // a plain handler, not a coroutine
    if (!ec) l->stream->close();
  });
}

void Session::fail_link(const std::shared_ptr<Link>& link, const Status& why) {
  if (link->dead) return;
  link->dead = true;
  link->stream->close();
  link->wake.cancel();
  link->keepalive.cancel();
  link->guard.cancel();
  bool current = link_ == link;
  if (current) link_.reset();
  if (why.code() == Errc::kCorrupt) {  // a peer or the network is misbehaving: worth a warning
    CAIRN_LOG(kWarn, kMsg) << "connection dropped: corrupt frame" << kv("peer", peer_.to_string())
                           << kv("remote", link->stream->remote()) << kv("reason", why.to_string());
  } else if (!closed_.load()) {
    CAIRN_LOG(kInfo, kMsg) << "connection dropped" << kv("peer", peer_.to_string())
                           << kv("policy", policy_ == Policy::kLossless ? "lossless" : "lossy")
                           << kv("reason", why.to_string());
  }
  if (current && policy_ == Policy::kLossy) close_with(Status(Errc::kConnReset, why.message()));
}

void Session::apply_faults() {
  if (link_ && m_->faults.is_cut(peer_)) fail_link(link_, Status(Errc::kConnReset, "fault injection: cut"));
}

void Session::close() {
  auto self = shared_from_this();
  asio::dispatch(ex_, [self] { self->close_with(Status(Errc::kShutdown, "closed locally")); });
}

void Session::close_with(Status why) {
  if (closed_.exchange(true)) return;
  auto self = shared_from_this();  // m_->forget() may drop the registry's reference
  if (link_) fail_link(link_, why);
  reconnect_timer_.cancel();
  fail_requests(why);
  for (auto& q : {&pending_, &sent_}) {
    for (auto& f : *q) {
      if (f.counted) release(f.msg.wire_size());
    }
    q->clear();
  }
  for (auto* t : space_waiters_) t->cancel();
  m_->forget(this);
  CAIRN_LOG(kInfo, kMsg) << "connection closed" << kv("peer", peer_.to_string())
                         << kv("reason", why.to_string());
  if (m_->dispatcher) m_->dispatcher->on_closed(self, why);
}

}  // namespace cairn::msg::internal
