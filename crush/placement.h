// From object names to OSDs: pool -> PG (stable_mod) -> CRUSH up set -> overrides.
//
//   pg  = object_to_pg(pool, name)                 hash(name) folded by stable_mod
//   raw = CRUSH(pool.rule, pg_input(pg), size)     (crush/mapper.h)
//   up  = raw with pg_upmap_items applied, then down/out devices removed
//         (firstn: dropped; indep: left as kNoItem holes)
//   acting = pg_temp[pg] if set (while backfilling), else up
//   primary = primary_temp[pg] if set and in acting, else the first device of acting
//
// Growing pg_num from n to 2n splits each PG into itself and one child (x and
// x + n share their low bits), so objects never move between unrelated PGs.
//
// Thread-safety: values and pure functions.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "common/encoding.h"
#include "common/status.h"
#include "crush/mapper.h"

namespace cairn::crush {

struct PgId {
  int64_t pool = 0;
  uint32_t seed = 0;

  auto operator<=>(const PgId&) const = default;
  void encode(Encoder& e) const {
    e.i64(pool);
    e.u32(seed);
  }
  void decode(Decoder& d) {
    pool = d.i64();
    seed = d.u32();
  }
};

struct Pool {
  int64_t id = 0;
  uint32_t pg_num = 1;
  uint32_t size = 3;
  int32_t rule = 0;
  bool erasure = false;  // positions matter (indep): holes stay
};

// Ceph's stable_mod: x mod b, such that growing b moves x only to x + old b.
inline uint32_t stable_mod(uint32_t x, uint32_t b, uint32_t bmask) {
  return (x & bmask) < b ? (x & bmask) : (x & (bmask >> 1));
}
// (1 << bits(pg_num - 1)) - 1.
uint32_t pg_num_mask(uint32_t pg_num);
uint32_t object_hash(std::string_view name);
PgId object_to_pg(const Pool& pool, std::string_view name);

// Per-device state the cluster map holds beside the CRUSH map.
struct DeviceStates {
  std::vector<Weight> in_weight;  // 16.16; 0 = out; missing = fully in
  std::vector<bool> up;           // missing = up
  bool is_up(ItemId id) const {
    size_t i = static_cast<size_t>(id);
    return id >= 0 && (i >= up.size() || up[i]);
  }
  bool is_in(ItemId id) const {
    size_t i = static_cast<size_t>(id);
    return id >= 0 && (i >= in_weight.size() || in_weight[i] > 0);
  }
};

// Exceptions applied after CRUSH.
struct Overrides {
  std::map<PgId, std::vector<ItemId>> pg_temp;
  std::map<PgId, ItemId> primary_temp;
  std::map<PgId, std::vector<std::pair<ItemId, ItemId>>> pg_upmap_items;  // from -> to

  bool operator==(const Overrides&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

struct PgMapping {
  std::vector<ItemId> up;
  ItemId up_primary = kNoItem;
  std::vector<ItemId> acting;
  ItemId acting_primary = kNoItem;
};

// The raw CRUSH result for a PG (before overrides), honouring in-weights.
Status pg_to_raw(const Mapper& m, const Pool& pool, uint32_t seed, const DeviceStates& st,
                 std::vector<ItemId>& out);
// Applies pg_upmap_items to a raw set: a pair (from, to) replaces `from` when
// `to` is in and not already present.
void apply_upmap(const Overrides& o, const PgId& pg, const DeviceStates& st, std::vector<ItemId>& raw);
Result<PgMapping> pg_to_up_acting(const Mapper& m, const Pool& pool, uint32_t seed, const DeviceStates& st,
                                  const Overrides& o);

}  // namespace cairn::crush
