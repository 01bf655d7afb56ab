// Cluster configuration kept by the monitors: `cairn config set|get|rm|dump`.
// Keys: config/<who>/<option>, where <who> is global, a daemon type (osd) or a
// daemon (osd.3); more specific entries win when a daemon asks for its config.
#pragma once

#include <map>

#include "mon/service.h"

namespace cairn::mon {

class ConfigService final : public Service {
 public:
  std::string_view name() const override { return "config"; }
  void refresh(const PaxosStore& store) override;
  bool owns(const std::vector<std::string>& args) const override;
  Result<std::optional<KvTxn>> command(const MonCommand& cmd, MonCommandReply& reply) override;

  // The effective options for entity `who` (e.g. "osd.3"): global < osd < osd.3.
  std::map<std::string, std::string> effective(const std::string& who) const;

 private:
  // who -> option -> value
  std::map<std::string, std::map<std::string, std::string>> entries_;
};

// Checks the shape of a <who>: global, mon, osd, mds, client, or type.id.
bool valid_config_who(const std::string& who);

}  // namespace cairn::mon
