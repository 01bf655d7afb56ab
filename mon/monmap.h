// The monitor map: who the monitors are and where. Rank = position in name order.
//
// Clients find monitors through `mon_host` in cairn.conf; monitors learn their
// peers from the monmap written at --mkfs (`mon_initial_members`). Membership is
// fixed by that map for now: adding and removing monitors through the Paxos log
// is not implemented yet (docs/paxos.md, known weaknesses).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/encoding.h"
#include "common/status.h"

namespace cairn::mon {

struct MonInfo {
  std::string name;  // "a" for mon.a
  std::string addr;  // "127.0.0.1:6789"
  // Stable for the monitor's life (ranks shift when members come and go): it
  // makes this monitor's Paxos ballots unique. Initial members get their rank.
  uint32_t id = 0;
  bool operator==(const MonInfo&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

struct MonMap {
  uint32_t epoch = 1;
  std::string fsid;
  std::vector<MonInfo> mons;  // sorted by name

  int size() const { return static_cast<int>(mons.size()); }
  std::optional<int> rank_of(std::string_view name) const;
  // "a=127.0.0.1:6789,b=127.0.0.1:6790" (names unique, 1..9 monitors).
  static Result<MonMap> parse(std::string_view members, std::string fsid);
  std::string to_string() const;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

}  // namespace cairn::mon
