#include "client/mon_client.h"

#include "common/env.h"
#include "common/log.h"
#include "msg/mon_session.h"

namespace cairn::client {

namespace {
// One monitor gets this long to answer before the next is tried.
constexpr auto kPerMonitorTimeout = std::chrono::milliseconds(3000);
// Pause between rounds over all monitors (an election may be in progress).
constexpr auto kRetryPause = std::chrono::milliseconds(200);
}  // namespace

Result<MonClient> MonClient::create(msg::Messenger& messenger, const std::string& mon_hosts) {
  CAIRN_ASSIGN_OR_RETURN(auto mons, msg::MonSession::parse_hosts(mon_hosts));
  return MonClient(messenger, std::move(mons));
}

msg::ConnectionRef MonClient::connect(const msg::EntityAddr& addr) {
  // An empty id matches whichever monitor answers at that address (msg/internal/session.cc).
  msg::EntityName any_mon{msg::EntityType::kMon, ""};
  return messenger_->connect(msg::EntityInst{any_mon, addr}, msg::Policy::kLossy);
}

awaitable<Result<MonCommandResult>> MonClient::command(std::vector<std::string> args, bool json,
                                                       std::chrono::milliseconds timeout) {
  uint64_t deadline = real_clock().now_ns() + static_cast<uint64_t>(timeout.count()) * 1'000'000;
  msg::EntityAddr target = mons_[next_ % mons_.size()];
  Status last(Errc::kTimedOut, "no monitor answered");
  asio::steady_timer pause(messenger_->io());
  for (int attempt = 0; real_clock().now_ns() < deadline; ++attempt) {
    auto conn = connect(target);
    auto left = std::chrono::milliseconds((deadline - real_clock().now_ns()) / 1'000'000);
    // Named, not temporaries in the co_await expression (docs/coroutines.md, GCC 12).
    msg::Message req = msg::Message::make(msg::kMsgMonCommand, msg::MonCommandMsg{args, json});
    std::chrono::milliseconds wait = std::min(left, std::chrono::milliseconds(kPerMonitorTimeout));
    auto r = co_await conn->request(std::move(req), wait);
    conn->close();
    if (r.ok()) {
      auto reply = r->decode_front<msg::MonCommandReplyMsg>();
      if (!reply.ok()) co_return reply.status().with_context("malformed reply from " + target.to_string());
      if (reply->code != EAGAIN)
        co_return MonCommandResult{reply->code, std::move(reply->out), std::move(reply->err)};
      last = Status(Errc::kAgain, reply->err);
      if (auto l = msg::EntityAddr::parse(reply->leader_addr); l.ok() && !(*l == target)) {
        target = *l;  // redirected to the leader: go there at once
        continue;
      }
    } else {
      last = r.status().with_context("monitor " + target.to_string());
    }
    target = mons_[++next_ % mons_.size()];
    if (attempt % static_cast<int>(mons_.size()) == static_cast<int>(mons_.size()) - 1) {
      pause.expires_after(kRetryPause);
      boost::system::error_code ec;
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  co_return last;
}

}  // namespace cairn::client
