#include "tools/cairn/pg_scrub.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "client/rados.h"
#include "crush/osd_map.h"

namespace cairn::tools {

namespace {

int fail(const Status& st) {
  std::fprintf(stderr, "cairn: %s\n", st.to_string().c_str());
  return st.err() > 0 && st.err() < 256 ? st.err() : 1;
}

// "1.1f" -> pool 1, seed 0x1f.
Result<crush::PgId> parse_pgid(const std::string& s) {
  size_t dot = s.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 >= s.size() || s.size() > 40)
    return Status(Errc::kInvalid, "PGID '" + s + "' is not <pool>.<hex seed>");
  char* end = nullptr;
  long long pool = std::strtoll(s.c_str(), &end, 10);
  if (end != s.c_str() + dot || pool < 0) return Status(Errc::kInvalid, "bad pool in PGID '" + s + "'");
  unsigned long seed = std::strtoul(s.c_str() + dot + 1, &end, 16);
  if (*end != '\0' || seed > 0xffffffffu) return Status(Errc::kInvalid, "bad seed in PGID '" + s + "'");
  return crush::PgId{pool, static_cast<uint32_t>(seed)};
}

nlohmann::json to_json(const msg::ScrubOut& s) {
  nlohmann::json inc = nlohmann::json::array();
  for (const auto& o : s.inconsistent)
    inc.push_back({{"object", o.oid.name},
                   {"namespace", o.oid.nspace},
                   {"bad_osds", o.bad_osds},
                   {"errors", o.errors}});
  return {{"objects", s.objects},
          {"deep", s.deep},
          {"repaired", s.repaired},
          {"stamp_ns", s.stamp_ns},
          {"inconsistent", inc}};
}

}  // namespace

bool is_pg_scrub_command(const std::vector<std::string>& w) {
  return w.size() >= 2 && w[0] == "pg" &&
         (w[1] == "scrub" || w[1] == "deep-scrub" || w[1] == "repair" || w[1] == "list-inconsistent");
}

int run_pg_scrub(const std::string& mon_host, const std::vector<std::string>& words, bool json,
                 std::chrono::milliseconds timeout) {
  if (words.size() != 3) return fail(Status(Errc::kInvalid, "usage: pg " + words[1] + " PGID (e.g. 1.1f)"));
  auto cid = parse_pgid(words[2]);
  if (!cid.ok()) return fail(cid.status());
  auto cluster = client::Cluster::connect(client::ClusterOptions::with_timeout(mon_host, timeout));
  if (!cluster.ok()) return fail(cluster.status());
  auto map = (*cluster)->osdmap();
  const crush::PoolInfo* pool = map->pool(cid->pool);
  if (!pool) return fail(Status(Errc::kNotFound, "no pool " + std::to_string(cid->pool)));
  if (cid->seed >= pool->placement.pg_num) return fail(Status(Errc::kNotFound, "no pg " + words[2]));
  auto io = (*cluster)->io_ctx(pool->name);
  if (!io.ok()) return fail(io.status());
  msg::OsdSubOp sub;
  const std::string& what = words[1];
  sub.code = what == "list-inconsistent" ? msg::OsdOpCode::kPgListInconsistent : msg::OsdOpCode::kPgScrub;
  if (what == "deep-scrub" || what == "repair") sub.flags |= msg::kScrubDeep;
  if (what == "repair") sub.flags |= msg::kScrubRepair;
  client::ObjectOperation op;
  op.add(std::move(sub));
  // A deep scrub reads every copy: give it well beyond one op's timeout.
  auto r = io->pg_operate(cid->seed, op, std::chrono::minutes(10));
  int rc = 0;
  if (!r.ok()) {
    rc = fail(r.status());
  } else if (r->result < 0) {
    rc = fail(client::status_from_errno(r->result, "pg " + what + " " + words[2]));
  } else if (auto out = r->scrub(0); !out.ok()) {
    rc = fail(out.status());
  } else if (json) {
    std::printf("%s\n", to_json(*out).dump().c_str());
  } else {
    if (what == "list-inconsistent" && out->stamp_ns == 0)
      std::printf("pg %s has not been scrubbed\n", words[2].c_str());
    std::printf("pg %s: %llu objects, %zu inconsistent%s%s\n", words[2].c_str(),
                static_cast<unsigned long long>(out->objects), out->inconsistent.size(),
                out->deep ? " (deep)" : "", out->repaired ? ", repaired" : "");
    for (const auto& o : out->inconsistent) {
      std::string osds;
      for (int32_t b : o.bad_osds) osds += (osds.empty() ? "osd." : ",osd.") + std::to_string(b);
      std::printf("  %s: %s on %s\n", o.oid.name.c_str(), o.errors.c_str(), osds.c_str());
    }
  }
  (*cluster)->shutdown();
  return rc;
}

}  // namespace cairn::tools
