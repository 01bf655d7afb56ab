#include "crush/placement.h"

#include <algorithm>
#include <bit>

#include "common/checksum.h"
#include "crush/internal/hash.h"

namespace cairn::crush {

uint32_t pg_num_mask(uint32_t pg_num) {
  if (pg_num <= 1) return 0;
  int bits = 32 - std::countl_zero(pg_num - 1);
  return bits >= 32 ? 0xffffffffu : (1u << bits) - 1;
}

uint32_t object_hash(std::string_view name) { return static_cast<uint32_t>(xxh3_64(name)); }

PgId object_to_pg(const Pool& pool, std::string_view name) {
  uint32_t n = std::max<uint32_t>(pool.pg_num, 1);
  return PgId{pool.id, stable_mod(object_hash(name), n, pg_num_mask(n))};
}

Status pg_to_raw(const Mapper& m, const Pool& pool, uint32_t seed, const DeviceStates& st,
                 std::vector<ItemId>& out) {
  return m.map(pool.rule, internal::pg_input(seed, pool.id), pool.size, st.in_weight, out);
}

void apply_upmap(const Overrides& o, const PgId& pg, const DeviceStates& st, std::vector<ItemId>& raw) {
  auto it = o.pg_upmap_items.find(pg);
  if (it == o.pg_upmap_items.end()) return;
  for (const auto& [from, to] : it->second) {
    if (!st.is_in(to) || std::find(raw.begin(), raw.end(), to) != raw.end()) continue;
    auto pos = std::find(raw.begin(), raw.end(), from);
    if (pos != raw.end()) *pos = to;
  }
}

namespace {

// Down or out devices leave the set (firstn) or become holes (indep).
void filter_live(const DeviceStates& st, bool keep_positions, std::vector<ItemId>& v) {
  if (keep_positions) {
    for (ItemId& id : v)
      if (id != kNoItem && (!st.is_up(id) || !st.is_in(id))) id = kNoItem;
  } else {
    std::erase_if(v, [&](ItemId id) { return id == kNoItem || !st.is_up(id) || !st.is_in(id); });
  }
}

ItemId first_of(const std::vector<ItemId>& v) {
  for (ItemId id : v)
    if (id != kNoItem) return id;
  return kNoItem;
}

}  // namespace

Result<PgMapping> pg_to_up_acting(const Mapper& m, const Pool& pool, uint32_t seed, const DeviceStates& st,
                                  const Overrides& o) {
  PgId pg{pool.id, seed};
  PgMapping r;
  CAIRN_RETURN_IF_ERROR(pg_to_raw(m, pool, seed, st, r.up));
  apply_upmap(o, pg, st, r.up);
  filter_live(st, pool.erasure, r.up);
  r.up_primary = first_of(r.up);
  auto t = o.pg_temp.find(pg);
  if (t != o.pg_temp.end() && !t->second.empty()) {
    // A pg_temp keeps complete copies acting while others backfill; an OSD that is
    // out (being drained) may stay in it, a down one may not. None left: the up set.
    r.acting = t->second;
    if (pool.erasure) {
      for (ItemId& id : r.acting)
        if (id != kNoItem && !st.is_up(id)) id = kNoItem;
    } else {
      std::erase_if(r.acting, [&](ItemId id) { return id == kNoItem || !st.is_up(id); });
    }
    if (first_of(r.acting) == kNoItem) r.acting = r.up;
  } else {
    r.acting = r.up;
  }
  r.acting_primary = first_of(r.acting);
  auto p = o.primary_temp.find(pg);
  if (p != o.primary_temp.end() && std::find(r.acting.begin(), r.acting.end(), p->second) != r.acting.end())
    r.acting_primary = p->second;
  return r;
}

void Overrides::encode(Encoder& e) const {
  auto mark = e.begin_struct(1, 1);
  e.put(pg_temp);
  e.put(primary_temp);
  e.put(pg_upmap_items);
  e.end_struct(mark);
}

void Overrides::decode(Decoder& d) {
  auto scope = d.begin_struct(1, "crush overrides");
  d.get(pg_temp);
  d.get(primary_temp);
  d.get(pg_upmap_items);
  d.end_struct(scope);
}

}  // namespace cairn::crush
