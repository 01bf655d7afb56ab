// Session: the Connection implementation (both policies, both sides).
//
// A Session lives as long as the logical connection; a Link is one socket's
// worth of state under it (stream, frame reader, writer wake-up, keepalive).
// A lossless session goes through many links; a lossy one has exactly one.
//
// Per link, three coroutines run on the messenger's executor: the read loop
// (frames in, acks, duplicates, dispatch), the write loop (batches of queued
// frames written with one gather write) and the keepalive loop. Each holds a
// shared_ptr to the session and to its link and exits once the link is dead.
// The connecting side also runs a connect loop (connect, handshake, run, back off).
//
// Ownership: every member below is owned by the messenger's executor (one
// thread), except those marked "atomic" which any thread may read.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/asio.h"
#include "msg/connection.h"
#include "msg/internal/frame_reader.h"
#include "msg/internal/hello.h"

namespace cairn::msg {
class MessengerImpl;
}

namespace cairn::msg::internal {

using Clock = std::chrono::steady_clock;

struct Link {
  Link(std::unique_ptr<Stream> s, FrameLimits limits, const asio::any_io_executor& ex)
      : stream(std::move(s)), reader(*stream, limits), wake(ex), keepalive(ex), guard(ex) {}
  std::unique_ptr<Stream> stream;
  FrameReader reader;
  asio::steady_timer wake;       // an event: the writer waits on it, enqueue cancels it
  asio::steady_timer keepalive;  // the keepalive loop's tick
  asio::steady_timer guard;      // handshake deadline: closes the stream if it fires
  bool dead = false;
};

// A frame waiting to be written (or, lossless, written and not yet acked).
struct OutFrame {
  FrameHeader header;  // lengths, crcs and seq filled; ack_seq set when written
  Message msg;
  bool counted = false;  // holds bytes under the in-flight bound
};

struct PendingRequest {
  explicit PendingRequest(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;  // expires at the deadline; cancelled when the reply arrives
  std::optional<Result<Message>> result;
};

class Session final : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<MessengerImpl> m, EntityName peer, EntityAddr addr, Policy policy, bool initiator,
          uint64_t session_id);
  ~Session() override;

  // ---- Connection ----
  const EntityName& peer_name() const override { return peer_; }
  EntityAddr peer_addr() const override { return addr_; }
  Policy policy() const override { return policy_; }
  bool is_open() const override { return !closed_.load(std::memory_order_acquire); }
  Status send(Message m) override { return try_send(m); }
  Status try_send(Message& m) override;
  awaitable<Status> send_wait(Message m, std::chrono::milliseconds timeout) override;
  awaitable<Result<Message>> request(Message m, std::chrono::milliseconds timeout) override;
  Status reply(const Message& req, Message resp) override;
  void close() override;
  ConnectionStats stats() const override;

  // ---- for the messenger (executor) ----
  uint64_t session_id() const { return session_id_; }
  // Connector: starts the connect loop.
  void start_connecting();
  // Acceptor: takes over a handshaken socket (replacing any previous one) and runs it.
  awaitable<void> run_accepted(std::shared_ptr<Link> link, Hello hello, bool fresh);
  // Drops the current socket if the peer is now cut off by fault injection.
  void apply_faults();
  void close_with(Status why);

 private:
  // session.cc: lifecycle
  awaitable<void> connect_loop();
  awaitable<Status> connect_once(bool& handshaken);
  awaitable<Result<Hello>> read_hello(Link& link);
  Hello my_hello(bool fresh) const;
  void resume_after_handshake(uint64_t peer_in_seq);
  void start_link(const std::shared_ptr<Link>& link);
  void fail_link(const std::shared_ptr<Link>& link, const Status& why);
  void arm_handshake_guard(const std::shared_ptr<Link>& link);

  // session_io.cc: the loops
  awaitable<Status> read_loop(std::shared_ptr<Link> link);
  Status handle_frame(ReceivedFrame f);
  Status handle_control(const ReceivedFrame& f);
  awaitable<void> write_loop(std::shared_ptr<Session> self, std::shared_ptr<Link> link);
  awaitable<Status> write_batch(Link& link, std::vector<OutFrame>& batch);
  awaitable<void> keepalive_loop(std::shared_ptr<Session> self, std::shared_ptr<Link> link);
  void enqueue(Message m, bool counted);
  void queue_control(MsgType type);
  void wake_writer();
  void trim_acked(uint64_t ack_seq);

  // session_rpc.cc: requests, backpressure
  bool try_reserve(size_t bytes, bool force);
  void release(size_t bytes);
  awaitable<Status> queue_with_wait(Message m, Clock::time_point deadline);
  void complete_request(uint64_t tid, Result<Message> r);
  void fail_requests(const Status& why);

  // Constant after construction (any thread).
  const std::shared_ptr<MessengerImpl> m_;
  const asio::any_io_executor ex_;
  const EntityName peer_;
  EntityAddr addr_;  // connector: constant; acceptor: set before the session is published
  const Policy policy_;
  const bool initiator_;
  const uint64_t session_id_;
  const size_t max_inflight_;

  // Atomic: any thread.
  std::atomic<bool> closed_{false};
  std::atomic<size_t> inflight_{0};
  struct AtomicStats {
    std::atomic<uint64_t> sent{0}, received{0}, resent{0}, dups{0}, reconnects{0}, max_inflight{0};
  };
  AtomicStats stats_;

  // Executor-owned.
  std::shared_ptr<Link> link_;    // the current socket, if any
  std::deque<OutFrame> pending_;  // queued, not yet written (in seq order)
  std::deque<OutFrame> sent_;     // lossless: written, not yet acked (seq order)
  uint64_t out_seq_ = 0;          // lossless: last seq assigned
  uint64_t in_seq_ = 0;           // lossless: last seq delivered from the peer
  uint64_t acked_in_seq_ = 0;     // in_seq_ as last told to the peer
  bool ack_needed_ = false;       // the writer owes the peer an ack
  uint64_t next_tid_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<PendingRequest>> requests_;
  std::vector<asio::steady_timer*> space_waiters_;  // send_wait/request waiting for room
  asio::steady_timer reconnect_timer_;
  Clock::time_point last_rx_{};
  Clock::time_point last_tx_{};
  bool ever_connected_ = false;
};

}  // namespace cairn::msg::internal
