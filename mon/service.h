// A map service: a state machine over the keys of the Paxos log (one key prefix
// per service). Services read their state from the store after each commit, turn
// write commands into transactions for the leader to propose, and report health.
//
// Thread-safety: owned by the monitor's Paxos thread, like Paxos itself.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mon/command.h"
#include "mon/paxos_store.h"
#include "mon/paxos_types.h"

namespace cairn::mon {

enum class HealthSeverity : uint8_t { kOk = 0, kWarn = 1, kErr = 2 };

struct HealthCheck {
  std::string code;  // e.g. OSD_DOWN, MON_DOWN, PG_DEGRADED
  HealthSeverity severity = HealthSeverity::kWarn;
  std::string summary;
  std::vector<std::string> detail;
};

class Service {
 public:
  using ReplyFn = std::function<void(MonCommandReply)>;
  // Proposes a transaction through Paxos; `done` runs when it commits (ok) or
  // cannot (EAGAIN: leadership lost). Refused at once when not the leader.
  using ProposeFn = std::function<Status(KvTxn, std::function<void(Status)>)>;

  virtual ~Service() = default;
  // Called once when the service is added to a monitor.
  virtual void bind(ProposeFn propose) { propose_ = std::move(propose); }
  virtual std::string_view name() const = 0;
  // Reloads cached state after commits (and once at start).
  virtual void refresh(const PaxosStore& store) = 0;
  // True if `args` is one of this service's commands.
  virtual bool owns(const std::vector<std::string>& args) const = 0;
  // Read commands fill `reply` and return nullopt. Write commands validate against
  // the current state and return the transaction to propose; `reply` is sent once
  // it commits. Errors are values (sent back as the reply's code and text).
  virtual Result<std::optional<KvTxn>> command(const MonCommand& cmd, MonCommandReply& reply) = 0;
  // Services that batch changes themselves (the OSD map: one epoch per proposal)
  // take the command here and reply through `done` when its change commits.
  // Returns false to use command() instead; `done` is moved from only on true.
  virtual bool command_async(const MonCommand& /*cmd*/, ReplyFn& /*done*/) { return false; }
  // Periodic work on the leader (e.g. marking OSDs out): append transactions.
  virtual void tick(uint64_t /*now_ms*/, std::vector<KvTxn>& /*out*/) {}
  virtual void health(std::vector<HealthCheck>& /*out*/) const {}

 protected:
  ProposeFn propose_;
};

}  // namespace cairn::mon
