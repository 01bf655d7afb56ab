// The per-link loops: read (frames in), write (batched gather writes) and keepalive.
#include <algorithm>

#include "common/log.h"
#include "msg/internal/messenger_impl.h"
#include "msg/internal/session.h"

namespace cairn::msg::internal {

using boost::system::error_code;
using log::kv;

namespace {
// A write batch stops at whichever comes first. Enough frames to fill a TCP
// window with small messages; bytes bounded so one batch does not hold up acks.
constexpr size_t kMaxBatchFrames = 64;
constexpr size_t kMaxBatchBytes = 4u << 20;
// Asio's gather writes take at most this many iovecs per system call.
constexpr size_t kMaxBatchIovecs = 256;
}  // namespace

// ---- reading ----------------------------------------------------------------

awaitable<Status> Session::read_loop(std::shared_ptr<Link> link) {
  auto self = shared_from_this();
  Result<ReceivedFrame> f(Status(Errc::kShutdown, "link closed"));
  bool throttled = policy_ == Policy::kLossy && !initiator_ && m_->opts.max_client_bytes > 0;
  std::unique_ptr<asio::steady_timer> pause;
  while (!link->dead) {
    // Over the client bound: read nothing more until the dispatcher lets go of
    // enough (polled: releases happen on any thread; a 1 ms wait only while over).
    while (throttled && m_->client_bytes->load(std::memory_order_relaxed) >= m_->opts.max_client_bytes &&
           !link->dead && !m_->stopped) {
      if (!pause) {
        pause = std::make_unique<asio::steady_timer>(ex_);
        m_->client_throttle_waits.fetch_add(1, std::memory_order_relaxed);
      }
      pause->expires_after(std::chrono::milliseconds(1));
      error_code ec;
      co_await pause->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      last_rx_ = Clock::now();  // not reading by choice: the peer is not silent
    }
    pause.reset();
    if (!link->reader.try_next_buffered(f)) f = co_await link->reader.next();
    if (!f.ok()) co_return f.status();
    if (link->dead) break;
    last_rx_ = Clock::now();
    Status st = handle_frame(std::move(*f));
    if (!st.ok()) co_return st;
    // Ack once per burst of frames: when nothing more is buffered.
    if (policy_ == Policy::kLossless && in_seq_ != acked_in_seq_ && !link->reader.has_buffered_header()) {
      ack_needed_ = true;
      wake_writer();
    }
  }
  co_return Status(Errc::kShutdown, "link closed");
}

Status Session::handle_frame(ReceivedFrame f) {
  const FrameHeader& h = f.header;
  if (policy_ == Policy::kLossless && h.ack_seq != 0) trim_acked(h.ack_seq);
  if (is_control(h.type)) return handle_control(f);
  if (policy_ == Policy::kLossless) {
    if (h.seq == 0) return Status(Errc::kCorrupt, "lossless frame without a sequence number");
    if (h.seq <= in_seq_) {
      stats_.dups.fetch_add(1, std::memory_order_relaxed);
      return ok_status();
    }
    if (h.seq != in_seq_ + 1) {
      return Status(Errc::kCorrupt, "sequence gap: expected " + std::to_string(in_seq_ + 1) + ", got " +
                                        std::to_string(h.seq));
    }
    in_seq_ = h.seq;
  }
  Message m;
  m.type = h.type;
  m.flags = h.flags;
  m.tid = h.tid;
  m.front = std::move(f.front);
  m.data = std::move(f.data);
  stats_.received.fetch_add(1, std::memory_order_relaxed);
  if (policy_ == Policy::kLossy && !initiator_ && m_->opts.max_client_bytes > 0 && !m.is_reply()) {
    size_t charge = m.wire_size();
    m_->client_bytes->fetch_add(charge, std::memory_order_relaxed);
    m.hold = std::shared_ptr<void>(nullptr, [counter = m_->client_bytes, charge](void*) {
      counter->fetch_sub(charge, std::memory_order_relaxed);
    });
  }
  if (m.is_reply()) {
    complete_request(m.tid, std::move(m));
  } else if (m_->dispatcher) {
    m_->dispatcher->dispatch(shared_from_this(), std::move(m));
  }
  return ok_status();
}

Status Session::handle_control(const ReceivedFrame& f) {
  switch (f.header.type) {
    case kMsgAck:
    case kMsgKeepaliveAck: return ok_status();
    case kMsgKeepalive: queue_control(kMsgKeepaliveAck); return ok_status();
    case kMsgClose: return Status(Errc::kConnReset, "peer closed: " + f.front.to_string());
    default: return Status(Errc::kCorrupt, "unexpected control frame " + std::to_string(f.header.type));
  }
}

// ---- writing ----------------------------------------------------------------

void Session::enqueue(Message m, bool counted) {
  if (closed_.load()) {
    if (counted) release(m.wire_size());
    return;
  }
  OutFrame f;
  f.header.type = m.type;
  f.header.flags = m.flags;
  f.header.tid = m.tid;
  seal_frame(f.header, m.front, m.data);
  if (policy_ == Policy::kLossless) f.header.seq = ++out_seq_;
  f.msg = std::move(m);
  f.counted = counted;
  pending_.push_back(std::move(f));
  wake_writer();
}

void Session::queue_control(MsgType type) {
  OutFrame f;
  f.header.type = type;
  pending_.push_back(std::move(f));
  wake_writer();
}

void Session::wake_writer() {
  if (link_) link_->wake.cancel();
}

void Session::trim_acked(uint64_t ack_seq) {
  while (!sent_.empty() && sent_.front().header.seq <= ack_seq) {
    if (sent_.front().counted) release(sent_.front().msg.wire_size());
    sent_.pop_front();
  }
}

awaitable<void> Session::write_loop(std::shared_ptr<Session> self, std::shared_ptr<Link> link) {
  std::vector<OutFrame> batch;
  while (!link->dead && !self->closed_.load()) {
    if (self->pending_.empty() && !self->ack_needed_) {
      link->wake.expires_at(Clock::time_point::max());
      error_code ec;
      co_await link->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    FaultSpec fault = self->m_->faults.get(self->peer_);
    if (fault.delay.count() > 0) {
      asio::steady_timer hold(self->ex_, fault.delay);
      error_code ec;
      co_await hold.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (link->dead) break;
    }
    batch.clear();
    size_t bytes = 0, iovs = 0;
    while (!self->pending_.empty() && batch.size() < kMaxBatchFrames && bytes < kMaxBatchBytes) {
      const Message& m = self->pending_.front().msg;
      size_t need = 1 + m.front.num_segments() + m.data.num_segments();
      if (!batch.empty() && iovs + need > kMaxBatchIovecs) break;
      bytes += m.wire_size();
      iovs += need;
      batch.push_back(std::move(self->pending_.front()));
      self->pending_.pop_front();
    }
    Status st = co_await self->write_batch(*link, batch);
    if (!st.ok()) {
      self->fail_link(link, st);
      break;
    }
  }
}

// Writes `batch` (and the owed ack) with one gather write. Lossless frames move
// to sent_ before the write, so a failure leaves them there to be resent.
awaitable<Status> Session::write_batch(Link& link, std::vector<OutFrame>& batch) {
  if (batch.empty()) {
    OutFrame ack;
    ack.header.type = kMsgAck;
    batch.push_back(std::move(ack));
  }
  std::vector<char> headers(batch.size() * kFrameHeaderSize);
  std::vector<iovec> iov;
  size_t written_msgs = 0;
  std::vector<Message> keep;  // lossy and control frames stay alive until the write ends
  for (size_t i = 0; i < batch.size(); ++i) {
    OutFrame& f = batch[i];
    f.header.ack_seq = in_seq_;
    bool drop = m_->faults.should_drop(peer_);
    if (!drop) {
      char* h = headers.data() + i * kFrameHeaderSize;
      encode_frame_header(f.header, h);
      iov.push_back({h, kFrameHeaderSize});
      f.msg.front.to_iovecs(iov);
      f.msg.data.to_iovecs(iov);
      if (!is_control(f.header.type)) ++written_msgs;
    }
    if (f.header.seq != 0) {
      sent_.push_back(std::move(f));
    } else {
      if (f.counted) release(f.msg.wire_size());
      keep.push_back(std::move(f.msg));
    }
  }
  acked_in_seq_ = in_seq_;
  ack_needed_ = false;
  if (iov.empty()) co_return ok_status();
  Status st = co_await link.stream->write_all(iov);
  last_tx_ = Clock::now();
  if (st.ok()) stats_.sent.fetch_add(written_msgs, std::memory_order_relaxed);
  co_return st;
}

// ---- keepalive --------------------------------------------------------------

awaitable<void> Session::keepalive_loop(std::shared_ptr<Session> self, std::shared_ptr<Link> link) {
  const auto interval = self->m_->opts.keepalive_interval;
  const auto timeout = self->m_->opts.keepalive_timeout;
  uint64_t seen_bytes = 0;
  while (!link->dead) {
    link->keepalive.expires_after(interval);
    error_code ec;
    co_await link->keepalive.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (link->dead) break;
    auto now = Clock::now();
    if (link->reader.bytes_read() != seen_bytes) {  // bytes arriving inside a large frame
      seen_bytes = link->reader.bytes_read();
      self->last_rx_ = now;
    }
    if (now - self->last_rx_ > timeout) {
      self->fail_link(link, Status(Errc::kTimedOut, "keepalive timeout"));
      break;
    }
    if (now - self->last_tx_ >= interval) self->queue_control(kMsgKeepalive);
  }
}

}  // namespace cairn::msg::internal
