// Talking to the monitors: admin commands (with leader redirects and failover
// between monitors) and, later, map subscriptions for the client library.
//
// Thread-safety: a MonClient belongs to its messenger's io_context; its
// coroutines run there.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/status.h"
#include "msg/messenger.h"
#include "msg/mon_messages.h"

namespace cairn::client {

struct MonCommandResult {
  int32_t code = 0;
  std::string out;
  std::string err;
};

class MonClient {
 public:
  // `mon_hosts`: "127.0.0.1:6789,127.0.0.1:6790" (from cairn.conf's mon_host).
  static Result<MonClient> create(msg::Messenger& messenger, const std::string& mon_hosts);

  // Runs a command on the leader, following redirects and trying each monitor
  // in turn until `timeout` passes. Transport failures are kTimedOut/kConnReset;
  // a monitor's answer (even an error) is a MonCommandResult.
  awaitable<Result<MonCommandResult>> command(std::vector<std::string> args, bool json,
                                              std::chrono::milliseconds timeout);

 private:
  MonClient(msg::Messenger& m, std::vector<msg::EntityAddr> mons) : messenger_(&m), mons_(std::move(mons)) {}
  msg::ConnectionRef connect(const msg::EntityAddr& addr);

  msg::Messenger* messenger_;
  std::vector<msg::EntityAddr> mons_;
  size_t next_ = 0;
};

}  // namespace cairn::client
