// A connection to one peer, as daemons and clients use it.
//
// Two policies (chosen by the side that connects, announced in the handshake):
//
//   kLossless  between daemons. A session outlives sockets: the connecting side
//              reconnects with backoff; every message carries a sequence number,
//              is kept until the peer acks it and is resent in order after a
//              reconnect; the receiver drops duplicates. Pending requests survive
//              reconnects (they time out only by their own deadline).
//   kLossy     towards clients. When the socket drops the connection is closed:
//              pending requests fail with kConnReset and the client resends at the
//              op level on a new connection.
//
// Backpressure: a connection holds at most `max_inflight_bytes` of messages that
// are queued, being written or (lossless) not yet acked. send() returns kAgain
// beyond that; send_wait() and request() wait for room instead. One message may
// always be queued on an idle connection, so the bound is that plus one message.
//
// Thread-safety: send(), reply(), close(), is_open() and the accessors may be
// called from any thread; request() and send_wait() are coroutines that must run
// on the messenger's executor. All state is owned by the messenger's executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "common/asio.h"
#include "common/status.h"
#include "msg/entity.h"
#include "msg/message.h"
#include "msg/policy.h"

namespace cairn::msg {

struct ConnectionStats {
  uint64_t msgs_sent = 0;           // frames written (resends included), control frames excluded
  uint64_t msgs_received = 0;       // messages delivered to the dispatcher or a waiting request
  uint64_t msgs_resent = 0;         // lossless: frames written again after a reconnect
  uint64_t duplicates_dropped = 0;  // lossless: frames received twice and dropped
  uint64_t reconnects = 0;          // sockets after the first
  uint64_t inflight_bytes = 0;      // bytes under the backpressure bound right now
  uint64_t max_inflight_bytes_seen = 0;
};

class Connection {
 public:
  virtual ~Connection() = default;

  virtual const EntityName& peer_name() const = 0;
  virtual EntityAddr peer_addr() const = 0;
  virtual Policy policy() const = 0;
  // Lossy: the socket is up (or still connecting). Lossless: the session is not closed.
  virtual bool is_open() const = 0;

  // Queues a one-way message. kAgain at the in-flight bound, kConnReset/kShutdown when closed.
  virtual Status send(Message m) = 0;
  // As send(), but `m` is moved from only when it is queued: refused (kAgain or
  // closed), it is left as it was, for the caller to keep or retry.
  virtual Status try_send(Message& m) = 0;
  // Waits (up to `timeout`) for room under the bound, then queues.
  virtual awaitable<Status> send_wait(Message m, std::chrono::milliseconds timeout) = 0;
  // Sends `m` as a request and waits for the reply with its tid: kTimedOut after
  // `timeout`, kConnReset if a lossy connection drops first.
  virtual awaitable<Result<Message>> request(Message m, std::chrono::milliseconds timeout) = 0;
  // Answers request `req` with `resp` (its tid, the reply flag).
  virtual Status reply(const Message& req, Message resp) = 0;
  // Closes the connection (fails pending requests with kShutdown). Idempotent.
  virtual void close() = 0;

  virtual ConnectionStats stats() const = 0;
};

using ConnectionRef = std::shared_ptr<Connection>;

}  // namespace cairn::msg
