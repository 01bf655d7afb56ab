// Sending from any thread, backpressure, and request/response correlation.
#include <algorithm>

#include "common/log.h"
#include "msg/internal/messenger_impl.h"
#include "msg/internal/session.h"

namespace cairn::msg::internal {

using boost::system::error_code;

namespace {
Status closed_status() { return Status(Errc::kConnReset, "connection closed"); }
}  // namespace

// Reserves `bytes` under the bound. An idle connection always takes one message;
// `force` (replies) ignores the bound: replies are limited by the peer's own
// bound on its requests.
bool Session::try_reserve(size_t bytes, bool force) {
  size_t cur = inflight_.load(std::memory_order_relaxed);
  for (;;) {
    if (!force && cur != 0 && cur + bytes > max_inflight_) return false;
    if (inflight_.compare_exchange_weak(cur, cur + bytes, std::memory_order_acq_rel)) break;
  }
  size_t now = cur + bytes;
  uint64_t seen = stats_.max_inflight.load(std::memory_order_relaxed);
  while (now > seen && !stats_.max_inflight.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
  }
  return true;
}

void Session::release(size_t bytes) {
  inflight_.fetch_sub(bytes, std::memory_order_acq_rel);
  if (!space_waiters_.empty()) {
    for (auto* t : space_waiters_) t->cancel();
    space_waiters_.clear();
  }
}

Status Session::try_send(Message& m) {
  if (closed_.load(std::memory_order_acquire)) return closed_status();
  if (m.data.size() > m_->opts.limits.max_data || m.front.size() > m_->opts.limits.max_front) {
    return Status(Errc::kRange, "message larger than the frame limits");
  }
  if (!try_reserve(m.wire_size(), m.is_reply())) {
    return Status(Errc::kAgain, "in-flight bytes at the bound for " + peer_.to_string());
  }
  if (m_->io.get_executor().running_in_this_thread()) {
    enqueue(std::move(m), true);
  } else {
    asio::post(
        ex_, [self = shared_from_this(), m = std::move(m)]() mutable { self->enqueue(std::move(m), true); });
  }
  return ok_status();
}

Status Session::reply(const Message& req, Message resp) {
  resp.tid = req.tid;
  resp.flags = kFlagReply;
  return send(std::move(resp));
}

awaitable<Status> Session::queue_with_wait(Message m, Clock::time_point deadline) {
  auto self = shared_from_this();
  if (m.data.size() > m_->opts.limits.max_data || m.front.size() > m_->opts.limits.max_front) {
    co_return Status(Errc::kRange, "message larger than the frame limits");
  }
  const size_t bytes = m.wire_size();
  for (;;) {
    if (closed_.load()) co_return closed_status();
    if (try_reserve(bytes, false)) break;
    if (Clock::now() >= deadline) co_return Status(Errc::kTimedOut, "no room under the in-flight bound");
    asio::steady_timer t(ex_, deadline);
    space_waiters_.push_back(&t);
    error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    std::erase(space_waiters_, &t);
  }
  enqueue(std::move(m), true);
  co_return ok_status();
}

awaitable<Status> Session::send_wait(Message m, std::chrono::milliseconds timeout) {
  // Fast path without a nested coroutine frame: room is usually there.
  bool fits = m.data.size() <= m_->opts.limits.max_data && m.front.size() <= m_->opts.limits.max_front;
  if (fits && !closed_.load() && try_reserve(m.wire_size(), false)) {
    enqueue(std::move(m), true);
    co_return ok_status();
  }
  co_return co_await queue_with_wait(std::move(m), Clock::now() + timeout);
}

awaitable<Result<Message>> Session::request(Message m, std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  const auto deadline = Clock::now() + timeout;
  const uint64_t tid = next_tid_++;
  m.tid = tid;
  m.flags = kFlagRequest;
  auto pr = std::make_shared<PendingRequest>(ex_);
  pr->timer.expires_at(deadline);
  requests_[tid] = pr;
  Status st = co_await queue_with_wait(std::move(m), deadline);
  if (st.ok() && !pr->result) {
    error_code ec;
    co_await pr->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  requests_.erase(tid);
  if (!st.ok()) co_return st;
  if (pr->result) co_return std::move(*pr->result);
  co_return Status(Errc::kTimedOut, "request to " + peer_.to_string() + " timed out");
}

void Session::complete_request(uint64_t tid, Result<Message> r) {
  auto it = requests_.find(tid);
  if (it == requests_.end()) {
    CAIRN_LOG(kDebug, kMsg) << "reply for no pending request (late or unknown)" << log::kv("tid", tid);
    return;
  }
  it->second->result = std::move(r);
  it->second->timer.cancel();
}

void Session::fail_requests(const Status& why) {
  for (auto& [tid, pr] : requests_) {
    if (!pr->result) {
      pr->result = why;
      pr->timer.cancel();
    }
  }
}

ConnectionStats Session::stats() const {
  ConnectionStats s;
  s.msgs_sent = stats_.sent.load(std::memory_order_relaxed);
  s.msgs_received = stats_.received.load(std::memory_order_relaxed);
  s.msgs_resent = stats_.resent.load(std::memory_order_relaxed);
  s.duplicates_dropped = stats_.dups.load(std::memory_order_relaxed);
  s.reconnects = stats_.reconnects.load(std::memory_order_relaxed);
  s.inflight_bytes = inflight_.load(std::memory_order_relaxed);
  s.max_inflight_bytes_seen = stats_.max_inflight.load(std::memory_order_relaxed);
  return s;
}

}  // namespace cairn::msg::internal
