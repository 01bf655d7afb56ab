// The monitor's brain without its I/O: Paxos plus the map services plus command
// dispatch. The daemon (cairn-mon) feeds it messages, ticks and commands from the
// messenger; tests feed it directly or through the Paxos simulator.
//
// Commands are served by the leader only (a read there reflects every commit,
// under its lease); elsewhere the reply is EAGAIN naming the leader's rank.
//
// Thread-safety: one thread owns a MonitorCore, its Paxos and its services.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "mon/paxos.h"
#include "mon/service.h"

namespace cairn::mon {

class MonitorCore {
 public:
  using ReplyFn = std::function<void(MonCommandReply)>;

  MonitorCore(Paxos& paxos, PaxosStore& store);
  void add_service(std::unique_ptr<Service> s);

  // After every commit (PaxosHost::on_commit): services reload their state.
  void on_commit();
  void handle_command(const MonCommand& cmd, ReplyFn done);
  // Leader only: services' periodic transactions.
  void tick(uint64_t now_ms);
  std::vector<HealthCheck> health() const;
  // HEALTH_OK / HEALTH_WARN / HEALTH_ERR.
  static const char* health_status(const std::vector<HealthCheck>& checks);

 private:
  void health_command(const MonCommand& cmd, MonCommandReply& reply) const;

  Paxos& paxos_;
  PaxosStore& store_;
  std::vector<std::unique_ptr<Service>> services_;
};

}  // namespace cairn::mon
