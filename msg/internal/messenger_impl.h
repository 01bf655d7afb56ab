// The messenger's shared state: listener, accept loop, the registry of sessions,
// options, dispatcher, fault injector. Sessions hold a shared_ptr to it.
//
// Ownership: everything below belongs to the io_context's thread, except the
// fault injector (its own lock) and `stopped_` (atomic).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "common/asio.h"
#include "common/env.h"
#include "msg/internal/hello.h"
#include "msg/messenger.h"

namespace cairn::msg {

namespace internal {
class Session;
struct Link;
}  // namespace internal

class MessengerImpl : public std::enable_shared_from_this<MessengerImpl> {
 public:
  MessengerImpl(asio::io_context& io, EntityName self, MessengerOptions opts, Transport* transport);

  asio::io_context& io;
  const EntityName self;
  const MessengerOptions opts;
  FaultInjector faults;
  Dispatcher* dispatcher = nullptr;  // set before the io_context runs
  EntityAddr my_addr;                // set by bind()
  std::atomic<bool> stopped{false};
  // Bytes of held client requests (max_client_bytes); shared with each hold so a
  // request outliving the messenger releases into live memory.
  std::shared_ptr<std::atomic<uint64_t>> client_bytes = std::make_shared<std::atomic<uint64_t>>(0);
  std::atomic<uint64_t> client_throttle_waits{0};

  Transport& transport() { return *transport_; }
  Result<EntityAddr> bind(const EntityAddr& addr);
  std::shared_ptr<internal::Session> connect(const EntityInst& peer, Policy policy);
  void shutdown();  // executor
  void forget(const internal::Session* s);
  // Reconnect delay with +-25% jitter.
  std::chrono::milliseconds jitter(std::chrono::milliseconds base);
  size_t num_sessions() const { return sessions_.size(); }
  void on_faults_changed();

 private:
  awaitable<void> accept_loop();
  awaitable<void> handle_accepted(std::unique_ptr<Stream> stream);
  std::shared_ptr<internal::Session> find_or_make_session(const internal::Hello& hello, bool& fresh);

  std::unique_ptr<Transport> owned_transport_;
  Transport* transport_;
  std::unique_ptr<Listener> listener_;
  std::map<const internal::Session*, std::shared_ptr<internal::Session>> sessions_;
  // Accepted lossless sessions by (peer, session id), to resume after a reconnect.
  std::map<std::pair<EntityName, uint64_t>, std::shared_ptr<internal::Session>> lossless_;
  SeededRandom rng_;
};

}  // namespace cairn::msg
