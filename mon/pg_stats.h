// The PG summary OSDs report: state, object and byte counts per PG, usage per OSD.
//
// Kept in the leader's memory only, not in the Paxos log: it changes every few
// seconds and is rebuilt from the next reports after a leader change (a few
// seconds of "unknown"). A PG's report counts only from its current acting
// primary; a PG whose primary has not reported for `stale_ms` shows as stale.
//
// Thread-safety: owned by the monitor's Paxos thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "crush/osd_map.h"
#include "mon/service.h"
#include "msg/mon_messages.h"

namespace cairn::mon {

class PgStatsTable {
 public:
  explicit PgStatsTable(uint64_t stale_ms = 15'000) : stale_ms_(stale_ms) {}

  // Entries for PGs the reporter is not the acting primary of are ignored.
  void report(const msg::OsdStatsMsg& m, const crush::OsdMap& map, uint64_t now_ms);

  // "active+clean", "stale+active+clean", or "unknown" (never reported).
  std::string state_of(const crush::PgId& pg, const crush::OsdMap& map, uint64_t now_ms) const;
  const msg::PgStatEntry* stat(const crush::PgId& pg) const;

  struct Summary {
    std::map<std::string, size_t> by_state;
    size_t pgs = 0;
    uint64_t objects = 0, bytes = 0, degraded = 0, misplaced = 0;
    uint64_t copies = 0;  // object copies the pools' sizes call for (degraded/misplaced count copies)
    uint64_t used = 0, total = 0;  // over reporting OSDs
  };
  Summary summary(const crush::OsdMap& map, uint64_t now_ms) const;
  void health(const crush::OsdMap& map, uint64_t now_ms, std::vector<HealthCheck>& out) const;
  // Some existing OSD reports usage at or above the map's full ratio.
  bool any_full(const crush::OsdMap& map) const;
  // The oldest map epoch peering may still need: the minimum over every PG of the
  // last_epoch_started it reported while active+clean (its pool's creation if it
  // never did). Peering walks the maps from the newest les its copies report, so
  // maps older than this are never needed. Leader memory only: after a leader
  // change, nothing is trimmed until every PG reported clean again.
  crush::Epoch trim_floor(const crush::OsdMap& map) const;
  // OsdFullness bits of every OSD that reported usage, against the map's ratios.
  std::map<int32_t, uint8_t> fullness(const crush::OsdMap& map) const;

 private:
  struct Entry {
    msg::PgStatEntry stat;
    int32_t reporter = -1;
    uint64_t reported_ms = 0;
  };
  struct Usage {
    uint64_t used = 0, total = 0, reported_ms = 0;
  };
  bool stale(const crush::PgId& pg, const Entry& e, const crush::OsdMap& map, uint64_t now_ms) const;

  uint64_t stale_ms_;
  std::map<crush::PgId, Entry> pgs_;
  std::map<int32_t, Usage> osds_;
  std::map<crush::PgId, crush::Epoch> clean_les_;  // les last reported with active+clean
};

}  // namespace cairn::mon
