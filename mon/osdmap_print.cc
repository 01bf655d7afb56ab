// Human tables and JSON for `osd tree`, `osd dump`, `osd stat`, `pg dump`, and health.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "mon/osdmap_service.h"

namespace cairn::mon {

namespace {

std::string weight_str(crush::Weight w) {
  char b[32];
  std::snprintf(b, sizeof b, "%.5f", static_cast<double>(w) / crush::kWeightOne);
  return b;
}

std::string pgid_str(const crush::PgId& pg) {
  char b[32];
  std::snprintf(b, sizeof b, "%lld.%x", static_cast<long long>(pg.pool), pg.seed);
  return b;
}

}  // namespace

std::string OsdMapService::tree(bool json) const {
  const crush::CrushMap& c = map_.crush;
  nlohmann::json nodes = nlohmann::json::array();
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-5s %-10s %-9s %-24s %-7s %s\n", "ID", "CLASS", "WEIGHT", "NAME",
                "STATUS", "REWEIGHT");
  out = line;
  std::function<void(crush::ItemId, int)> walk = [&](crush::ItemId id, int depth) {
    std::string indent(static_cast<size_t>(depth) * 2, ' ');
    if (const crush::Bucket* b = c.bucket(id)) {
      std::string type = c.types.count(b->type) ? c.types.at(b->type) : "?";
      std::snprintf(line, sizeof line, "%-5d %-10s %-9s %-24s\n", id, "", weight_str(c.weight(id)).c_str(),
                    (indent + type + " " + b->name).c_str());
      out += line;
      nodes.push_back(
          {{"id", id}, {"name", b->name}, {"type", type}, {"weight", c.weight(id)}, {"children", b->items}});
      for (crush::ItemId child : b->items) walk(child, depth + 1);
      return;
    }
    const crush::Device* d = c.device(id);
    const crush::OsdInfo* info = map_.osd(id);
    std::string status = info && info->up ? "up" : "down";
    std::string reweight = info ? weight_str(info->in_weight) : "0";
    std::snprintf(line, sizeof line, "%-5d %-10s %-9s %-24s %-7s %s\n", id, d ? d->device_class.c_str() : "",
                  weight_str(c.weight(id)).c_str(), (indent + "osd." + std::to_string(id)).c_str(),
                  status.c_str(), reweight.c_str());
    out += line;
    nodes.push_back({{"id", id},
                     {"name", "osd." + std::to_string(id)},
                     {"type", "osd"},
                     {"status", status},
                     {"reweight", info ? info->in_weight : 0},
                     {"weight", c.weight(id)}});
  };
  for (const auto& [id, b] : c.buckets)
    if (!c.parent(id)) walk(id, 0);
  for (const auto& [id, info] : map_.osds) {
    if (c.device(id)) continue;  // placed: printed above
    std::snprintf(line, sizeof line, "%-5d %-10s %-9s %-24s %-7s %s\n", id, "", "0",
                  ("osd." + std::to_string(id)).c_str(), info.up ? "up" : "down",
                  weight_str(info.in_weight).c_str());
    out += line;
    nodes.push_back({{"id", id},
                     {"name", "osd." + std::to_string(id)},
                     {"type", "osd"},
                     {"status", info.up ? "up" : "down"}});
  }
  return json ? nlohmann::json{{"nodes", nodes}}.dump() : out;
}

std::string OsdMapService::dump(bool json) const {
  nlohmann::json j;
  j["epoch"] = map_.epoch;
  j["fsid"] = map_.fsid;
  std::vector<std::string> flags;
  for (auto f : {crush::kFlagNoUp, crush::kFlagNoDown, crush::kFlagNoOut, crush::kFlagFull})
    if (map_.test_flag(f)) flags.push_back(crush::map_flag_name(f));
  j["flags"] = flags;
  j["osds"] = nlohmann::json::array();
  for (const auto& [id, o] : map_.osds) {
    j["osds"].push_back({{"osd", id},
                         {"up", o.up},
                         {"in", o.in_weight > 0},
                         {"weight", o.in_weight},
                         {"addr", o.addr},
                         {"up_from", o.up_from},
                         {"up_thru", o.up_thru},
                         {"down_at", o.down_at},
                         {"fullness", crush::osd_fullness_name(o.fullness)}});
  }
  j["nearfull_ratio"] = map_.nearfull_permille / 1000.0;
  j["backfillfull_ratio"] = map_.backfillfull_permille / 1000.0;
  j["full_ratio"] = map_.full_permille / 1000.0;
  j["pools"] = nlohmann::json::array();
  for (const auto& [id, p] : map_.pools) {
    j["pools"].push_back({{"pool", id},
                          {"name", p.name},
                          {"size", p.placement.size},
                          {"min_size", p.min_size},
                          {"pg_num", p.placement.pg_num},
                          {"crush_rule", p.placement.rule}});
  }
  if (json) return j.dump();
  std::string out = "epoch " + std::to_string(map_.epoch) + "\nfsid " + map_.fsid + "\nflags";
  for (auto& f : flags) out += " " + f;
  char ratios[96];
  std::snprintf(ratios, sizeof ratios, "\nratios nearfull %.3f backfillfull %.3f full %.3f\n",
                map_.nearfull_permille / 1000.0, map_.backfillfull_permille / 1000.0,
                map_.full_permille / 1000.0);
  out += ratios;
  for (const auto& [id, p] : map_.pools) {
    out += "pool " + std::to_string(id) + " '" + p.name + "' size " + std::to_string(p.placement.size) +
           " min_size " + std::to_string(p.min_size) + " pg_num " + std::to_string(p.placement.pg_num) +
           " rule " + std::to_string(p.placement.rule) + "\n";
  }
  for (const auto& [id, o] : map_.osds) {
    out += "osd." + std::to_string(id) + (o.up ? " up  " : " down") + (o.in_weight ? " in " : " out") +
           " weight " + weight_str(o.in_weight) + " up_from " + std::to_string(o.up_from) + " up_thru " +
           std::to_string(o.up_thru) + " down_at " + std::to_string(o.down_at) + " " + o.addr +
           (o.fullness ? std::string(" ") + crush::osd_fullness_name(o.fullness) : "") + "\n";
  }
  return out;
}

std::string OsdMapService::status(bool json) const {
  size_t n = map_.osds.size(), up = map_.num_up(), in = map_.num_in();
  size_t pgs = 0;
  for (const auto& [id, p] : map_.pools) pgs += p.placement.pg_num;
  if (json)
    return nlohmann::json{{"epoch", map_.epoch},
                          {"num_osds", n},
                          {"num_up_osds", up},
                          {"num_in_osds", in},
                          {"num_pools", map_.pools.size()},
                          {"num_pgs", pgs}}
        .dump();
  return std::to_string(n) + " osds: " + std::to_string(up) + " up, " + std::to_string(in) + " in; epoch e" +
         std::to_string(map_.epoch) + "; " + std::to_string(map_.pools.size()) + " pools, " +
         std::to_string(pgs) + " pgs\n";
}

std::string OsdMapService::pg_dump(bool json) const {
  nlohmann::json arr = nlohmann::json::array();
  uint64_t now = clock_();
  std::string out;
  char line[320];
  std::snprintf(line, sizeof line, "%-10s %-28s %10s %14s %-20s %-20s\n", "PG", "STATE", "OBJECTS", "BYTES",
                "UP", "ACTING");
  out = line;
  for (const crush::PgId& pg : map_.all_pgs()) {
    auto mp = map_.map_pg(pg);
    if (!mp.ok()) continue;
    nlohmann::json up = mp->up, acting = mp->acting;
    std::string state = pg_stats_.state_of(pg, map_, now);
    const msg::PgStatEntry* st = pg_stats_.stat(pg);
    uint64_t objects = st ? st->objects : 0, bytes = st ? st->bytes : 0;
    arr.push_back({{"pgid", pgid_str(pg)},
                   {"state", state},
                   {"objects", objects},
                   {"bytes", bytes},
                   {"up", up},
                   {"acting", acting},
                   {"up_primary", mp->up_primary},
                   {"acting_primary", mp->acting_primary}});
    std::snprintf(line, sizeof line, "%-10s %-28s %10llu %14llu %-20s %-20s\n", pgid_str(pg).c_str(),
                  state.c_str(), static_cast<unsigned long long>(objects),
                  static_cast<unsigned long long>(bytes), up.dump().c_str(), acting.dump().c_str());
    out += line;
  }
  return json ? nlohmann::json{{"epoch", map_.epoch}, {"pgs", arr}}.dump() : out;
}

std::string OsdMapService::pg_stat(bool json) const {
  PgStatsTable::Summary s = pg_stats_.summary(map_, clock_());
  if (json) {
    return nlohmann::json{
        {"num_pgs", s.pgs},     {"by_state", s.by_state},         {"objects", s.objects},
        {"bytes", s.bytes},     {"degraded_objects", s.degraded}, {"misplaced_objects", s.misplaced},
        {"used_bytes", s.used}, {"total_bytes", s.total}}
        .dump();
  }
  std::string out = std::to_string(s.pgs) + " pgs:";
  for (const auto& [state, n] : s.by_state) out += " " + std::to_string(n) + " " + state + ";";
  out += " " + std::to_string(s.objects) + " objects, " + std::to_string(s.bytes) + " bytes; used " +
         std::to_string(s.used) + " of " + std::to_string(s.total) + " bytes\n";
  return out;
}

void OsdMapService::health(std::vector<HealthCheck>& out) const {
  std::vector<std::string> down;
  for (const auto& [id, o] : map_.osds)
    if (!o.up && o.in_weight > 0) down.push_back("osd." + std::to_string(id) + " is down");
  if (!down.empty()) {
    out.push_back(
        HealthCheck{"OSD_DOWN", HealthSeverity::kWarn, std::to_string(down.size()) + " osds down", down});
  }
  std::vector<std::string> undersized;
  for (const crush::PgId& pg : map_.all_pgs()) {
    auto mp = map_.map_pg(pg);
    const crush::PoolInfo* p = map_.pool(pg.pool);
    if (!mp.ok() || !p) continue;
    if (mp->acting.size() < p->min_size) {
      undersized.push_back("pg " + pgid_str(pg) + " has " + std::to_string(mp->acting.size()) + " of " +
                           std::to_string(p->placement.size) + " replicas (min_size " +
                           std::to_string(p->min_size) + "): inactive");
    }
  }
  if (!undersized.empty()) {
    out.push_back(HealthCheck{"PG_INACTIVE", HealthSeverity::kErr,
                              std::to_string(undersized.size()) + " pgs below min_size", undersized});
  }
  pg_stats_.health(map_, clock_(), out);
  if (map_.test_flag(crush::kFlagNoOut) || map_.test_flag(crush::kFlagNoDown) ||
      map_.test_flag(crush::kFlagNoUp)) {
    out.push_back(HealthCheck{"OSDMAP_FLAGS", HealthSeverity::kWarn, "maintenance flags are set", {}});
  }
}

}  // namespace cairn::mon
