#include "crush/osd_map.h"

#include <algorithm>

namespace cairn::crush {

void OsdInfo::encode(Encoder& e) const {
  auto m = e.begin_struct(2, 1);
  e.put(up);
  e.put(in_weight);
  e.put(addr);
  e.put(instance);
  e.put(up_from);
  e.put(up_thru);
  e.put(down_at);
  e.put(fullness);
  e.end_struct(m);
}

void OsdInfo::decode(Decoder& d) {
  auto s = d.begin_struct(2, "OsdInfo");
  d.get(up);
  d.get(in_weight);
  d.get(addr);
  d.get(instance);
  d.get(up_from);
  d.get(up_thru);
  d.get(down_at);
  if (s.version >= 2) d.get(fullness);
  d.end_struct(s);
}

const char* osd_fullness_name(uint8_t bits) {
  if (bits & kOsdFull) return "full";
  if (bits & kOsdBackfillfull) return "backfillfull";
  if (bits & kOsdNearfull) return "nearfull";
  return "";
}

bool PoolInfo::operator==(const PoolInfo& o) const {
  const Pool &a = placement, &b = o.placement;
  return a.id == b.id && a.pg_num == b.pg_num && a.size == b.size && a.rule == b.rule &&
         a.erasure == b.erasure && name == o.name && min_size == o.min_size && created == o.created;
}

void PoolInfo::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(placement.id);
  e.put(placement.pg_num);
  e.put(placement.size);
  e.put(placement.rule);
  e.put(placement.erasure);
  e.put(name);
  e.put(min_size);
  e.put(created);
  e.end_struct(m);
}

void PoolInfo::decode(Decoder& d) {
  auto s = d.begin_struct(1, "PoolInfo");
  d.get(placement.id);
  d.get(placement.pg_num);
  d.get(placement.size);
  d.get(placement.rule);
  d.get(placement.erasure);
  d.get(name);
  d.get(min_size);
  d.get(created);
  if (!d.failed() && (placement.pg_num == 0 || placement.pg_num > kMaxPgNum || placement.size == 0 ||
                      placement.size > kMaxReplicas || min_size > placement.size))
    d.fail("PoolInfo: bad pg_num, size or min_size");
  d.end_struct(s);
}

const char* map_flag_name(MapFlag f) {
  switch (f) {
    case kFlagNoUp: return "noup";
    case kFlagNoDown: return "nodown";
    case kFlagNoOut: return "noout";
    case kFlagFull: return "full";
  }
  return "?";
}

std::optional<MapFlag> parse_map_flag(const std::string& name) {
  for (MapFlag f : {kFlagNoUp, kFlagNoDown, kFlagNoOut, kFlagFull})
    if (name == map_flag_name(f)) return f;
  return std::nullopt;
}

Status OsdMap::rebuild() {
  auto m = Mapper::build(crush);
  if (!m.ok()) return m.status().with_context("osdmap crush map");
  mapper_ = std::make_shared<const Mapper>(std::move(*m));
  int32_t max_id = osds.empty() ? -1 : osds.rbegin()->first;
  states_.in_weight.assign(static_cast<size_t>(max_id + 1), 0);
  states_.up.assign(static_cast<size_t>(max_id + 1), false);
  for (const auto& [id, info] : osds) {
    states_.in_weight[static_cast<size_t>(id)] = info.in_weight;
    states_.up[static_cast<size_t>(id)] = info.up;
  }
  return {};
}

bool OsdMap::is_up(int32_t id) const {
  auto it = osds.find(id);
  return it != osds.end() && it->second.up;
}

bool OsdMap::is_in(int32_t id) const {
  auto it = osds.find(id);
  return it != osds.end() && it->second.in_weight > 0;
}

const OsdInfo* OsdMap::osd(int32_t id) const {
  auto it = osds.find(id);
  return it == osds.end() ? nullptr : &it->second;
}

const PoolInfo* OsdMap::pool(int64_t id) const {
  auto it = pools.find(id);
  return it == pools.end() ? nullptr : &it->second;
}

const PoolInfo* OsdMap::pool_by_name(const std::string& name) const {
  for (const auto& [id, p] : pools)
    if (p.name == name) return &p;
  return nullptr;
}

size_t OsdMap::num_up() const {
  return static_cast<size_t>(
      std::count_if(osds.begin(), osds.end(), [](const auto& o) { return o.second.up; }));
}

size_t OsdMap::num_in() const {
  return static_cast<size_t>(
      std::count_if(osds.begin(), osds.end(), [](const auto& o) { return o.second.in_weight > 0; }));
}

PgId OsdMap::object_to_pg(int64_t pool_id, std::string_view name) const {
  const PoolInfo* p = pool(pool_id);
  if (!p) return PgId{pool_id, 0};
  return crush::object_to_pg(p->placement, name);
}

Result<PgMapping> OsdMap::map_pg(const PgId& pg) const {
  const PoolInfo* p = pool(pg.pool);
  if (!p) return Status(Errc::kNotFound, "no pool " + std::to_string(pg.pool));
  if (pg.seed >= p->placement.pg_num) return Status(Errc::kNotFound, "pg seed beyond pg_num");
  if (!mapper_) return Status(Errc::kInternal, "osdmap not rebuilt");
  return pg_to_up_acting(*mapper_, p->placement, pg.seed, states_, overrides);
}

std::vector<PgId> OsdMap::all_pgs() const {
  std::vector<PgId> out;
  for (const auto& [id, p] : pools)
    for (uint32_t s = 0; s < p.placement.pg_num; ++s) out.push_back(PgId{id, s});
  return out;
}

void OsdMap::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(epoch);
  e.put(fsid);
  e.put(modified_ns);
  e.put(crush);
  e.put(osds);
  e.put(pools);
  e.put(pool_max);
  e.put(overrides);
  e.put(flags);
  e.put(nearfull_permille);
  e.put(backfillfull_permille);
  e.put(full_permille);
  e.end_struct(m);
}

void OsdMap::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdMap");
  d.get(epoch);
  d.get(fsid);
  d.get(modified_ns);
  d.get(crush);
  d.get(osds);
  d.get(pools);
  d.get(pool_max);
  d.get(overrides);
  d.get(flags);
  d.get(nearfull_permille);
  d.get(backfillfull_permille);
  d.get(full_permille);
  d.end_struct(s);
  if (d.failed()) return;
  for (const auto& [id, info] : osds) {
    if (id < 0 || static_cast<uint32_t>(id) >= kMaxDevices) return d.fail("OsdMap: osd id out of range");
  }
  for (const auto& [id, p] : pools) {
    if (p.placement.id != id || id > pool_max) return d.fail("OsdMap: pool id mismatch");
  }
  Status st = rebuild();
  if (!st.ok()) d.fail(st.message());
}

bool OsdMapIncremental::empty() const {
  return !new_crush && new_osds.empty() && removed_osds.empty() && new_pools.empty() &&
         removed_pools.empty() && !new_pool_max && new_pg_temp.empty() && new_primary_temp.empty() &&
         new_upmap_items.empty() && !new_flags && !new_fsid && !new_nearfull_permille &&
         !new_backfillfull_permille && !new_full_permille;
}

void OsdMapIncremental::encode(Encoder& e) const {
  auto m = e.begin_struct(2, 1);
  e.put(epoch);
  e.put(modified_ns);
  e.put(new_crush);
  e.put(new_osds);
  e.put(removed_osds);
  e.put(new_pools);
  e.put(removed_pools);
  e.put(new_pool_max);
  e.put(new_pg_temp);
  e.put(new_primary_temp);
  e.put(new_upmap_items);
  e.put(new_flags);
  e.put(new_fsid);
  e.put(new_nearfull_permille);
  e.put(new_backfillfull_permille);
  e.put(new_full_permille);
  e.end_struct(m);
}

void OsdMapIncremental::decode(Decoder& d) {
  auto s = d.begin_struct(2, "OsdMapIncremental");
  d.get(epoch);
  d.get(modified_ns);
  d.get(new_crush);
  d.get(new_osds);
  d.get(removed_osds);
  d.get(new_pools);
  d.get(removed_pools);
  d.get(new_pool_max);
  d.get(new_pg_temp);
  d.get(new_primary_temp);
  d.get(new_upmap_items);
  d.get(new_flags);
  d.get(new_fsid);
  if (s.version >= 2) {
    d.get(new_nearfull_permille);
    d.get(new_backfillfull_permille);
    d.get(new_full_permille);
  }
  d.end_struct(s);
}

Status OsdMap::apply(const OsdMapIncremental& inc) {
  if (inc.epoch != epoch + 1) {
    return error(Errc::kInvalid, "incremental for epoch " + std::to_string(inc.epoch) + " does not follow " +
                                     std::to_string(epoch));
  }
  OsdMap next = *this;
  next.epoch = inc.epoch;
  next.modified_ns = inc.modified_ns;
  if (inc.new_fsid) next.fsid = *inc.new_fsid;
  if (inc.new_crush) next.crush = *inc.new_crush;
  for (const auto& [id, info] : inc.new_osds) {
    if (id < 0 || static_cast<uint32_t>(id) >= kMaxDevices)
      return error(Errc::kInvalid, "osd id out of range");
    next.osds[id] = info;
  }
  for (int32_t id : inc.removed_osds) next.osds.erase(id);
  if (inc.new_pool_max) next.pool_max = *inc.new_pool_max;
  for (const auto& [id, p] : inc.new_pools) {
    if (p.placement.id != id || id > next.pool_max) return error(Errc::kInvalid, "pool id mismatch");
    next.pools[id] = p;
  }
  for (int64_t id : inc.removed_pools) {
    next.pools.erase(id);
    std::erase_if(next.overrides.pg_temp, [id](const auto& kv) { return kv.first.pool == id; });
    std::erase_if(next.overrides.primary_temp, [id](const auto& kv) { return kv.first.pool == id; });
    std::erase_if(next.overrides.pg_upmap_items, [id](const auto& kv) { return kv.first.pool == id; });
  }
  for (const auto& [pg, v] : inc.new_pg_temp) {
    if (v.empty())
      next.overrides.pg_temp.erase(pg);
    else
      next.overrides.pg_temp[pg] = v;
  }
  for (const auto& [pg, p] : inc.new_primary_temp) {
    if (p == kNoItem)
      next.overrides.primary_temp.erase(pg);
    else
      next.overrides.primary_temp[pg] = p;
  }
  for (const auto& [pg, v] : inc.new_upmap_items) {
    if (v.empty())
      next.overrides.pg_upmap_items.erase(pg);
    else
      next.overrides.pg_upmap_items[pg] = v;
  }
  if (inc.new_flags) next.flags = *inc.new_flags;
  if (inc.new_nearfull_permille) next.nearfull_permille = *inc.new_nearfull_permille;
  if (inc.new_backfillfull_permille) next.backfillfull_permille = *inc.new_backfillfull_permille;
  if (inc.new_full_permille) next.full_permille = *inc.new_full_permille;
  CAIRN_RETURN_IF_ERROR(next.rebuild());
  *this = std::move(next);
  return {};
}

}  // namespace cairn::crush
