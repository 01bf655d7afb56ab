// The OSD map: everything a client or daemon needs to place and find data.
//
// One epoch of the cluster's placement state: the CRUSH map, every OSD's
// existence, up/down and in/out state and address, the pools, the placement
// overrides (pg_temp, primary_temp, upmap items) and cluster flags. The monitors
// agree on each epoch through Paxos and hand out incrementals (OsdMapIncremental:
// what changed from epoch e-1 to e); everyone else applies them in order.
//
// Placement never asks anyone: map_pg() is CRUSH plus the overrides, computed
// locally and identically everywhere.
//
// Thread-safety: a value. After rebuild() (called by decode() and apply()),
// const methods may run concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "common/status.h"
#include "crush/crush_map.h"
#include "crush/mapper.h"
#include "crush/placement.h"

namespace cairn::crush {

using Epoch = uint32_t;

struct OsdInfo {
  bool up = false;
  Weight in_weight = 0;   // 16.16: kWeightOne in, 0 out
  std::string addr;       // "127.0.0.1:6800" where clients and peers reach it
  uint64_t instance = 0;  // changes at every boot: tells a restart from a flap
  Epoch up_from = 0;      // epoch it was last marked up
  Epoch up_thru = 0;      // newest epoch in which it may have gone active as a primary
  Epoch down_at = 0;      // epoch it was last marked down
  uint8_t fullness = 0;   // OsdFullness bits the monitors set from its reported usage
  bool operator==(const OsdInfo&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// How full an OSD's device is against the map's ratios (OsdInfo::fullness).
enum OsdFullness : uint8_t {
  kOsdNearfull = 1u << 0,      // a warning
  kOsdBackfillfull = 1u << 1,  // no new backfill (misplaced copies) onto it
  kOsdFull = 1u << 2,          // writes stop cluster-wide (kFlagFull)
};
// "nearfull", "backfillfull", "full" or "" (the most severe bit set).
const char* osd_fullness_name(uint8_t bits);

// Most PGs one pool may have: bounds per-pool work (listing, peering) and what a
// corrupt or hostile map could make a daemon allocate.
inline constexpr uint32_t kMaxPgNum = 1u << 16;

struct PoolInfo {
  Pool placement;  // id, pg_num, size, rule, erasure
  std::string name;
  uint32_t min_size = 2;
  Epoch created = 0;
  bool operator==(const PoolInfo& o) const;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

enum MapFlag : uint32_t {
  kFlagNoUp = 1u << 0,    // booting OSDs stay down
  kFlagNoDown = 1u << 1,  // failure reports do not mark OSDs down
  kFlagNoOut = 1u << 2,   // down OSDs are not marked out
  kFlagFull = 1u << 3,    // an OSD is full: writes fail with ENOSPC
};
const char* map_flag_name(MapFlag f);
std::optional<MapFlag> parse_map_flag(const std::string& name);

struct OsdMapIncremental;

class OsdMap {
 public:
  Epoch epoch = 0;
  std::string fsid;
  uint64_t modified_ns = 0;
  CrushMap crush;
  std::map<int32_t, OsdInfo> osds;  // ids that exist
  std::map<int64_t, PoolInfo> pools;
  int64_t pool_max = 0;  // highest pool id ever used (ids are never reused)
  Overrides overrides;
  uint32_t flags = 0;
  // Per-OSD capacity thresholds, in thousandths of the device's size.
  uint32_t nearfull_permille = 850;
  uint32_t backfillfull_permille = 900;
  uint32_t full_permille = 950;

  // Recomputes the derived state (compiled CRUSH, device states). Fails if the
  // CRUSH map does not compile.
  Status rebuild();
  // Applies `inc` (its epoch must be epoch + 1); on error the map is unchanged.
  Status apply(const OsdMapIncremental& inc);

  bool exists(int32_t osd) const { return osds.count(osd) != 0; }
  bool is_up(int32_t osd) const;
  bool is_in(int32_t osd) const;
  const OsdInfo* osd(int32_t id) const;
  const PoolInfo* pool(int64_t id) const;
  const PoolInfo* pool_by_name(const std::string& name) const;
  bool test_flag(MapFlag f) const { return (flags & f) != 0; }
  size_t num_up() const;
  size_t num_in() const;

  PgId object_to_pg(int64_t pool_id, std::string_view name) const;
  // Up and acting sets of a PG; kNotFound for an unknown pool or a seed out of range.
  Result<PgMapping> map_pg(const PgId& pg) const;
  // Every PG of every pool.
  std::vector<PgId> all_pgs() const;

  void encode(Encoder& e) const;
  void decode(Decoder& d);  // also rebuilds; a map that does not rebuild fails the decoder

 private:
  std::shared_ptr<const Mapper> mapper_;  // shared by copies: immutable once built
  DeviceStates states_;
};

// What changes between two consecutive epochs. Maps are replaced whole per key
// (an OSD's info, a pool), which keeps applying trivial and idempotent-looking.
struct OsdMapIncremental {
  Epoch epoch = 0;  // the epoch this produces
  uint64_t modified_ns = 0;
  std::optional<CrushMap> new_crush;
  std::map<int32_t, OsdInfo> new_osds;  // added or changed
  std::vector<int32_t> removed_osds;
  std::map<int64_t, PoolInfo> new_pools;  // added or changed
  std::vector<int64_t> removed_pools;
  std::optional<int64_t> new_pool_max;
  std::map<PgId, std::vector<ItemId>> new_pg_temp;                         // empty: remove
  std::map<PgId, ItemId> new_primary_temp;                                 // kNoItem: remove
  std::map<PgId, std::vector<std::pair<ItemId, ItemId>>> new_upmap_items;  // empty: remove
  std::optional<uint32_t> new_flags;
  std::optional<std::string> new_fsid;
  // v2: new capacity thresholds (permille), nearfull / backfillfull / full.
  std::optional<uint32_t> new_nearfull_permille, new_backfillfull_permille, new_full_permille;

  bool empty() const;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

}  // namespace cairn::crush
