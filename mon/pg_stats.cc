#include "mon/pg_stats.h"

namespace cairn::mon {

namespace {
std::string pgid(const crush::PgId& pg) {
  char b[32];
  std::snprintf(b, sizeof b, "%lld.%x", static_cast<long long>(pg.pool), pg.seed);
  return b;
}
// Detail lines per health check: enough to act on, bounded for huge clusters.
constexpr size_t kMaxDetail = 50;
}  // namespace

void PgStatsTable::report(const msg::OsdStatsMsg& m, const crush::OsdMap& map, uint64_t now_ms) {
  if (!map.exists(m.osd)) return;
  osds_[m.osd] = Usage{m.used_bytes, m.total_bytes, now_ms};
  for (const auto& s : m.pgs) {
    crush::PgId pg{s.pool, s.seed};
    auto mp = map.map_pg(pg);
    if (!mp.ok() || mp->acting_primary != m.osd) continue;  // only the primary speaks for a PG
    pgs_[pg] = Entry{s, m.osd, now_ms};
    if ((s.state & msg::kPgActive) && (s.state & msg::kPgClean) && s.last_epoch_started > 0)
      clean_les_[pg] = s.last_epoch_started;
  }
}

crush::Epoch PgStatsTable::trim_floor(const crush::OsdMap& map) const {
  crush::Epoch floor = map.epoch;
  for (const auto& [id, p] : map.pools) {
    for (uint32_t seed = 0; seed < p.placement.pg_num; ++seed) {
      auto it = clean_les_.find(crush::PgId{id, seed});
      floor = std::min(floor, it == clean_les_.end() ? p.created : it->second);
    }
  }
  return floor;
}

bool PgStatsTable::stale(const crush::PgId& pg, const Entry& e, const crush::OsdMap& map,
                         uint64_t now_ms) const {
  if (now_ms > e.reported_ms + stale_ms_) return true;
  auto mp = map.map_pg(pg);
  return !mp.ok() || mp->acting_primary != e.reporter || !map.is_up(e.reporter);
}

const msg::PgStatEntry* PgStatsTable::stat(const crush::PgId& pg) const {
  auto it = pgs_.find(pg);
  return it == pgs_.end() ? nullptr : &it->second.stat;
}

std::string PgStatsTable::state_of(const crush::PgId& pg, const crush::OsdMap& map, uint64_t now_ms) const {
  auto it = pgs_.find(pg);
  if (it == pgs_.end()) return "unknown";
  std::string s = msg::pg_state_string(it->second.stat.state);
  return stale(pg, it->second, map, now_ms) ? "stale+" + s : s;
}

PgStatsTable::Summary PgStatsTable::summary(const crush::OsdMap& map, uint64_t now_ms) const {
  Summary out;
  for (const crush::PgId& pg : map.all_pgs()) {
    ++out.pgs;
    ++out.by_state[state_of(pg, map, now_ms)];
    if (const msg::PgStatEntry* s = stat(pg)) {
      out.objects += s->objects;
      if (const crush::PoolInfo* p = map.pool(pg.pool)) out.copies += s->objects * p->placement.size;
      out.bytes += s->bytes;
      out.degraded += s->degraded_objects;
      out.misplaced += s->misplaced_objects;
    }
  }
  for (const auto& [id, u] : osds_) {
    if (!map.exists(id)) continue;
    out.used += u.used;
    out.total += u.total;
  }
  return out;
}

bool PgStatsTable::any_full(const crush::OsdMap& map) const {
  for (const auto& [id, u] : osds_)
    if (map.exists(id) && u.total > 0 && u.used * 1000 / u.total >= map.full_permille) return true;
  return false;
}

std::map<int32_t, uint8_t> PgStatsTable::fullness(const crush::OsdMap& map) const {
  std::map<int32_t, uint8_t> out;
  for (const auto& [id, u] : osds_) {
    if (!map.exists(id) || u.total == 0) continue;
    uint64_t permille = u.used * 1000 / u.total;
    uint8_t bits = 0;
    if (permille >= map.nearfull_permille) bits |= crush::kOsdNearfull;
    if (permille >= map.backfillfull_permille) bits |= crush::kOsdBackfillfull;
    if (permille >= map.full_permille) bits |= crush::kOsdFull;
    out[id] = bits;
  }
  return out;
}

void PgStatsTable::health(const crush::OsdMap& map, uint64_t now_ms, std::vector<HealthCheck>& out) const {
  std::vector<std::string> degraded, stale_pgs, inconsistent, nearfull, backfillfull, full, toofull;
  for (const auto& [pg, e] : pgs_) {
    if (!map.pool(pg.pool)) continue;
    bool is_stale = stale(pg, e, map, now_ms);
    std::string line =
        "pg " + pgid(pg) + " is " + (is_stale ? "stale+" : "") + msg::pg_state_string(e.stat.state);
    if (is_stale && stale_pgs.size() < kMaxDetail) stale_pgs.push_back(line);
    if ((e.stat.state & (msg::kPgDegraded | msg::kPgUndersized)) && degraded.size() < kMaxDetail)
      degraded.push_back(line);
    if ((e.stat.state & msg::kPgInconsistent) && inconsistent.size() < kMaxDetail)
      inconsistent.push_back(line);
    if ((e.stat.state & msg::kPgBackfillToofull) && toofull.size() < kMaxDetail) toofull.push_back(line);
  }
  for (const auto& [id, u] : osds_) {
    if (!map.exists(id) || u.total == 0) continue;
    uint64_t permille = u.used * 1000 / u.total;
    std::string line = "osd." + std::to_string(id) + " is " + std::to_string(permille / 10) + "% full";
    if (permille >= map.full_permille)
      full.push_back(line);
    else if (permille >= map.backfillfull_permille)
      backfillfull.push_back(line);
    else if (permille >= map.nearfull_permille)
      nearfull.push_back(line);
  }
  auto add = [&](const char* code, HealthSeverity sev, const std::string& what, std::vector<std::string>& d) {
    if (!d.empty())
      out.push_back(HealthCheck{code, sev, std::to_string(d.size()) + " " + what, std::move(d)});
  };
  add("PG_DEGRADED", HealthSeverity::kWarn, "pgs degraded or undersized", degraded);
  add("PG_STALE", HealthSeverity::kWarn, "pgs stale (primary silent or changed)", stale_pgs);
  add("PG_INCONSISTENT", HealthSeverity::kErr, "pgs inconsistent (scrub found damage)", inconsistent);
  add("OSD_NEARFULL", HealthSeverity::kWarn, "osds near full", nearfull);
  add("OSD_BACKFILLFULL", HealthSeverity::kWarn, "osds too full to backfill onto", backfillfull);
  add("PG_BACKFILL_FULL", HealthSeverity::kWarn, "pgs wait for an OSD too full to backfill onto", toofull);
  add("OSD_FULL", HealthSeverity::kErr, "osds full", full);
}

}  // namespace cairn::mon
