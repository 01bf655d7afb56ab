// The monmap as a service over the replicated log: `mon add NAME ADDR` and
// `mon remove NAME` commit a new monmap (epoch + 1) like any other change, so
// every monitor learns the new membership in log order. The monitor daemon
// applies a committed monmap: it persists it, reconnects to the new set and
// reconfigures Paxos (new ranks and majority: an election follows).
//
// Key: "monmap" = encoded MonMap. Before the first change the log holds none and
// the service answers with the map each monitor was created with.
// Thread-safety: the monitor's thread.
#pragma once

#include <string>

#include "mon/monmap.h"
#include "mon/service.h"

namespace cairn::mon {

class MonmapService final : public Service {
 public:
  explicit MonmapService(MonMap initial) : map_(std::move(initial)) {}
  std::string_view name() const override { return "monmap"; }
  void refresh(const PaxosStore& store) override;
  bool owns(const std::vector<std::string>& args) const override;
  Result<std::optional<KvTxn>> command(const MonCommand& cmd, MonCommandReply& reply) override;
  // The newest committed monmap.
  const MonMap& map() const { return map_; }

 private:
  MonMap map_;
};

}  // namespace cairn::mon
