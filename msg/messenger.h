// The messenger: one per shard (io_context). It listens, accepts and makes
// connections to named peers, runs the handshake, and hands received messages to
// the dispatcher. See connection.h for the two policies and backpressure, and
// docs/wire-format.md for the bytes.
//
//   asio::io_context io;
//   Messenger m(io, *EntityName::parse("osd.3"), {});
//   m.set_dispatcher(&table);
//   auto addr = m.bind(*EntityAddr::parse("127.0.0.1:0"));
//   ConnectionRef c = m.connect(peer_inst, Policy::kLossless);
//   c->send(Message::make(kMsgFoo, foo));   // or co_await c->request(...)
//
// Thread-safety: the messenger and all its connections belong to the io_context
// given at construction, which one thread runs. bind(), set_dispatcher() and
// connect() are called before that thread runs or on it; faults() from anywhere;
// shutdown() from any thread. Lifetime: call shutdown() and let the io_context
// drain (or stop) before destroying the messenger.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/asio.h"
#include "common/status.h"
#include "msg/connection.h"
#include "msg/dispatcher.h"
#include "msg/entity.h"
#include "msg/fault_injector.h"
#include "msg/frame.h"
#include "msg/transport.h"

namespace cairn::msg {

struct MessengerOptions {
  // Backpressure bound per connection (see connection.h): a slow peer costs at
  // most this much memory (plus one message).
  size_t max_inflight_bytes = 256u << 20;
  // Largest segments accepted from the wire (at most the hard limits in frame.h).
  FrameLimits limits;
  // Idle connections send a keepalive this often; a connection that hears
  // nothing for keepalive_timeout is dropped (and, if lossless, reconnected).
  std::chrono::milliseconds keepalive_interval{1000};
  std::chrono::milliseconds keepalive_timeout{5000};
  std::chrono::milliseconds connect_timeout{2000};
  // The peer must complete the handshake within this.
  std::chrono::milliseconds handshake_timeout{2000};
  // Lossless reconnects back off exponentially between these, with jitter.
  std::chrono::milliseconds reconnect_min{10};
  std::chrono::milliseconds reconnect_max{2000};
  // Accepted connections beyond this are refused (each costs buffers and a socket).
  size_t max_connections = 4096;
  // Bytes of requests received on accepted lossy (client) connections that the
  // dispatcher still holds (Message::hold: until the last copy of the request is
  // gone, for an OSD when it has answered). Beyond this, those connections stop
  // reading until enough is released: memory stays bounded whatever clients send,
  // and TCP pushes back on them. 0: no bound. Daemon-to-daemon links never wait.
  size_t max_client_bytes = 0;
  // Seed for fault injection draws and backoff jitter (reproducible tests).
  uint64_t seed = 1;
};

class MessengerImpl;

class Messenger {
 public:
  // `transport` defaults to TCP on `io`; a supplied one must outlive the messenger.
  Messenger(asio::io_context& io, EntityName self, MessengerOptions opts = {},
            Transport* transport = nullptr);
  ~Messenger();
  Messenger(const Messenger&) = delete;
  Messenger& operator=(const Messenger&) = delete;

  // Starts accepting on `addr` (port 0: an ephemeral port). Returns the bound address.
  Result<EntityAddr> bind(const EntityAddr& addr);
  // The dispatcher must outlive the messenger. Without one, messages are dropped.
  void set_dispatcher(Dispatcher* d);
  // A connection to `peer`; it connects (and, if lossless, reconnects) in the
  // background, so messages may be queued at once.
  ConnectionRef connect(const EntityInst& peer, Policy policy);
  // Closes the listener and every connection. Any thread; idempotent.
  void shutdown();

  const EntityName& name() const;
  // The bound address (empty before bind()).
  EntityAddr addr() const;
  FaultInjector& faults();
  asio::io_context& io();
  // Connections currently known (accepted or made), for tests and admin commands.
  size_t num_connections() const;
  // max_client_bytes accounting: bytes of client requests held now, and how many
  // times a client connection paused its reads at the bound.
  uint64_t client_bytes_held() const;
  uint64_t client_throttle_waits() const;

 private:
  std::shared_ptr<MessengerImpl> impl_;
};

}  // namespace cairn::msg
