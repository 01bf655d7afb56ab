// A daemon's or client's session with the monitors: keeps one connection to a
// live monitor, keeps an osdmap subscription on it (resubscribing from the
// newest epoch it has when it fails over), sends one-way reports, and runs
// requests on the leader (following "not the leader, try X" answers).
//
// The owner's dispatcher receives kMsgOsdMap messages and calls got_epoch()
// with each epoch it applied, so a failover resubscribes from the right place.
//
//   MonSession s(messenger, *MonSession::parse_hosts("127.0.0.1:6789,..."));
//   s.start(/*from epoch*/ 1);
//   s.send(Message::make(kMsgOsdBeacon, beacon));
//   auto r = co_await s.request(Message::make(kMsgOsdBoot, boot), redirect_of_ack, 10s);
//
// Thread-safety: belongs to the messenger's io_context; call it there.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.h"
#include "common/status.h"
#include "msg/messenger.h"

namespace cairn::msg {

class MonSession {
 public:
  // "127.0.0.1:6789,127.0.0.1:6790" (cairn.conf's mon_host). kInvalid when empty or malformed.
  static Result<std::vector<EntityAddr>> parse_hosts(std::string_view hosts);

  MonSession(Messenger& messenger, std::vector<EntityAddr> mons);
  ~MonSession();
  MonSession(const MonSession&) = delete;
  MonSession& operator=(const MonSession&) = delete;

  // Subscribes to osdmaps from `from_epoch` on and starts watching the connection:
  // when it drops, or no map arrives for `renew` while maps may be stale, it
  // moves to the next monitor and resubscribes from got_epoch() + 1.
  void start(uint32_t from_epoch, std::chrono::milliseconds renew = std::chrono::seconds(30));
  // The owner applied `epoch`; future (re)subscriptions start after it.
  void got_epoch(uint32_t epoch);
  // Asks the current monitor for maps newer than got_epoch() once more (a peer
  // mentioned a newer epoch than ours).
  void want_newer();
  // One-way message to the current monitor (it forwards to the leader).
  Status send(Message m);
  // Sends `m` as a request to the monitors until a reply is not a redirect or
  // `timeout` passes. `redirect` inspects a reply: it returns the leader's
  // address to try next ("" for any other monitor) when the reply means
  // "not the leader", nullopt when the reply is final.
  using RedirectFn = std::function<std::optional<std::string>(const Message&)>;
  awaitable<Result<Message>> request(Message m, RedirectFn redirect, std::chrono::milliseconds timeout);
  void stop();

  // The monitor currently used ("" before start()).
  std::string current() const;
  uint32_t epoch() const;

 private:
  struct State;
  std::shared_ptr<State> s_;
};

}  // namespace cairn::msg
