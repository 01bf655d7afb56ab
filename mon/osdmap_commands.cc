// `cairn osd ...`, `cairn osd pool ...` and `cairn pg ...` on the OSD map service.
#include <nlohmann/json.hpp>

#include "common/config.h"
#include "crush/builder.h"
#include "mon/osdmap_service.h"

namespace cairn::mon {

using crush::OsdMap;
using crush::OsdMapIncremental;

namespace {

// A pool name is user input that ends up in every map: keep it simple and short.
bool valid_pool_name(const std::string& n) {
  if (n.empty() || n.size() > 128) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

Result<int32_t> parse_osd_id(const std::string& s) {
  std::string t = s.rfind("osd.", 0) == 0 ? s.substr(4) : s;
  auto v = parse_int(t);
  if (!v.ok() || *v < 0 || *v >= static_cast<int64_t>(crush::kMaxDevices))
    return Status(Errc::kInvalid, "bad osd id '" + s + "'");
  return static_cast<int32_t>(*v);
}

Result<crush::Weight> parse_weight(const std::string& s, double max) {
  char* end = nullptr;
  double w = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(w >= 0) || w > max)
    return Status(Errc::kInvalid, "bad weight '" + s + "'");
  return static_cast<crush::Weight>(w * crush::kWeightOne + 0.5);
}

void reply_now(Service::ReplyFn& done, Result<std::string> out) {
  MonCommandReply r;
  if (out.ok())
    r.out = std::move(*out);
  else
    r.fail(out.status());
  done(std::move(r));
}

// Ids named on the command line, each checked against the map.
Result<std::vector<int32_t>> osd_ids(const CommandArgs& a, const OsdMap& m) {
  if (a.size() == 0) return Status(Errc::kInvalid, "name at least one osd id");
  std::vector<int32_t> ids;
  for (size_t i = 0; i < a.size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN(int32_t id, parse_osd_id(a.at(i)));
    if (!m.exists(id)) return Status(Errc::kNotFound, "osd." + std::to_string(id) + " does not exist");
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

bool OsdMapService::owns(const std::vector<std::string>& args) const {
  return !args.empty() && (args[0] == "osd" || args[0] == "pg");
}

Result<std::optional<KvTxn>> OsdMapService::command(const MonCommand&, MonCommandReply&) {
  return Status(Errc::kInternal, "osdmap commands run through command_async");
}

bool OsdMapService::command_async(const MonCommand& cmd, ReplyFn& done) {
  ReplyFn d = std::move(done);
  if (map_.epoch == 0) {
    reply_now(d, Status(Errc::kAgain, "the cluster has no osdmap yet"));
  } else if (cmd.args[0] == "pg") {
    reply_now(d, pg_command(cmd));
  } else if (cmd.args.size() > 1 && cmd.args[1] == "pool") {
    pool_command(cmd, std::move(d));
  } else if (cmd.args.size() > 1 && cmd.args[1] == "crush") {
    osd_crush_command(cmd, std::move(d));
  } else {
    osd_command(cmd, std::move(d));
  }
  return true;
}

void OsdMapService::reply_after(const Edit& edit, std::string text, ReplyFn done) {
  auto shared = std::make_shared<ReplyFn>(std::move(done));
  Status st = change(edit, [shared, text](Status s) {
    MonCommandReply r;
    if (s.ok())
      r.out = text;
    else
      r.fail(s);
    (*shared)(std::move(r));
  });
  if (!st.ok()) reply_now(*shared, st);
}

void OsdMapService::osd_command(const MonCommand& cmd, ReplyFn done) {
  const std::string sub = cmd.args.size() > 1 ? cmd.args[1] : "";
  CommandArgs a(cmd.args, 2);
  if (sub == "tree") return reply_now(done, tree(cmd.json));
  if (sub == "dump") return reply_now(done, dump(cmd.json));
  if (sub == "stat") return reply_now(done, status(cmd.json));
  if (sub == "create") {
    int32_t id = 0;
    if (a.size() > 0) {
      auto r = parse_osd_id(a.at(0));
      if (!r.ok()) return reply_now(done, r.status());
      id = *r;
      if (projected().exists(id)) return reply_now(done, std::to_string(id) + "\n");  // idempotent
    } else {
      while (projected().exists(id)) ++id;
    }
    return reply_after(
        [id](const OsdMap&, OsdMapIncremental& inc) -> Status {
          inc.new_osds[id] = crush::OsdInfo{};
          return {};
        },
        std::to_string(id) + "\n", std::move(done));
  }
  if (sub == "out" || sub == "in" || sub == "down" || sub == "rm") {
    auto ids = osd_ids(a, projected());
    if (!ids.ok()) return reply_now(done, ids.status());
    return reply_after(
        [sub, ids = *ids](const OsdMap& m, OsdMapIncremental& inc) -> Status {
          for (int32_t id : ids) {
            crush::OsdInfo info = *m.osd(id);
            if (sub == "out") info.in_weight = 0;
            if (sub == "in") info.in_weight = crush::kWeightOne;
            if (sub == "down") {
              if (!info.up) continue;
              info.up = false;
              info.down_at = inc.epoch;
            }
            if (sub == "rm") {
              if (info.up || info.in_weight > 0)
                return error(Errc::kBusy,
                             "osd." + std::to_string(id) + " must be down and out to be removed");
              inc.new_osds.erase(id);
              inc.removed_osds.push_back(id);
              crush::CrushMap c = inc.new_crush ? *inc.new_crush : m.crush;
              if (c.device(id)) CAIRN_RETURN_IF_ERROR(c.remove_device(id));
              inc.new_crush = std::move(c);
              continue;
            }
            inc.new_osds[id] = info;
          }
          return {};
        },
        "", std::move(done));
  }
  if (sub == "reweight") {
    if (a.size() != 2) return reply_now(done, Status(Errc::kInvalid, "usage: osd reweight <id> <0..1>"));
    auto id = parse_osd_id(a.at(0));
    auto w = parse_weight(a.at(1), 1.0);
    if (!id.ok() || !w.ok()) return reply_now(done, !id.ok() ? id.status() : w.status());
    if (!projected().exists(*id)) return reply_now(done, Status(Errc::kNotFound, "no such osd"));
    return reply_after(
        [id = *id, w = *w](const OsdMap& m, OsdMapIncremental& inc) -> Status {
          crush::OsdInfo info = *m.osd(id);
          info.in_weight = w;
          inc.new_osds[id] = info;
          return {};
        },
        "", std::move(done));
  }
  if (sub == "set-nearfull-ratio" || sub == "set-backfillfull-ratio" || sub == "set-full-ratio") {
    char* end = nullptr;
    double r = a.size() == 1 ? std::strtod(a.at(0).c_str(), &end) : -1;
    if (a.size() != 1 || end == a.at(0).c_str() || *end != '\0' || !(r >= 0 && r <= 1))
      return reply_now(done, Status(Errc::kInvalid, "usage: osd " + sub + " <0..1>"));
    auto permille = static_cast<uint32_t>(r * 1000 + 0.5);
    return reply_after(
        [sub, permille](const OsdMap&, OsdMapIncremental& inc) -> Status {
          if (sub == "set-nearfull-ratio") inc.new_nearfull_permille = permille;
          if (sub == "set-backfillfull-ratio") inc.new_backfillfull_permille = permille;
          if (sub == "set-full-ratio") inc.new_full_permille = permille;
          return {};
        },
        "", std::move(done));
  }
  if (sub == "set" || sub == "unset") {
    if (a.size() != 1)
      return reply_now(done, Status(Errc::kInvalid, "usage: osd " + sub + " noup|nodown|noout|full"));
    auto f = crush::parse_map_flag(a.at(0));
    if (!f) return reply_now(done, Status(Errc::kInvalid, "unknown flag '" + a.at(0) + "'"));
    return reply_after(
        [set = sub == "set", f = *f](const OsdMap& m, OsdMapIncremental& inc) -> Status {
          uint32_t flags = inc.new_flags ? *inc.new_flags : m.flags;
          inc.new_flags = set ? (flags | f) : (flags & ~static_cast<uint32_t>(f));
          return {};
        },
        "", std::move(done));
  }
  reply_now(done, Status(Errc::kInvalid, "unknown command 'osd " + sub +
                                             "' (tree, dump, stat, create, rm, out, in, down, reweight, set, "
                                             "unset, set-{nearfull,backfillfull,full}-ratio, crush, pool)"));
}

void OsdMapService::osd_crush_command(const MonCommand& cmd, ReplyFn done) {
  const std::string sub = cmd.args.size() > 2 ? cmd.args[2] : "";
  CommandArgs a(cmd.args, 3);
  if (sub == "add-bucket") {
    if (a.size() != 2)
      return reply_now(done, Status(Errc::kInvalid, "usage: osd crush add-bucket <name> <type>"));
    std::string name = a.at(0), type = a.at(1);
    return reply_after(
        [name, type](const OsdMap& m, OsdMapIncremental& inc) -> Status {
          crush::CrushMap c = inc.new_crush ? *inc.new_crush : m.crush;
          auto t = c.find_type(type);
          if (!t || *t == crush::kDeviceType)
            return error(Errc::kInvalid, "unknown bucket type '" + type + "'");
          CAIRN_RETURN_IF_ERROR(c.add_bucket(c.next_bucket_id(), name, *t, std::nullopt));
          inc.new_crush = std::move(c);
          return {};
        },
        "", std::move(done));
  }
  if (sub == "move") {
    // osd crush move <item> <type>=<bucket>: re-parent an item under a bucket.
    if (a.size() != 2 || a.at(1).find('=') == std::string::npos)
      return reply_now(done, Status(Errc::kInvalid, "usage: osd crush move <item> <type>=<bucket>"));
    std::string item = a.at(0), dest = a.at(1).substr(a.at(1).find('=') + 1);
    return reply_after(
        [item, dest](const OsdMap& m, OsdMapIncremental& inc) -> Status {
          crush::CrushMap c = inc.new_crush ? *inc.new_crush : m.crush;
          auto id = c.find_item(item);
          auto to = c.find_item(dest);
          if (!id || !to || !c.bucket(*to)) return error(Errc::kNotFound, "no such item or bucket");
          if (auto p = c.parent(*id)) {
            auto& items = c.buckets[*p].items;
            items.erase(std::remove(items.begin(), items.end(), *id), items.end());
          }
          c.buckets[*to].items.push_back(*id);
          CAIRN_RETURN_IF_ERROR(c.validate());
          inc.new_crush = std::move(c);
          return {};
        },
        "", std::move(done));
  }
  if (sub == "reweight") {
    if (a.size() != 2)
      return reply_now(done, Status(Errc::kInvalid, "usage: osd crush reweight osd.<id> <weight>"));
    auto id = parse_osd_id(a.at(0));
    auto w = parse_weight(a.at(1), 65535);
    if (!id.ok() || !w.ok()) return reply_now(done, !id.ok() ? id.status() : w.status());
    return reply_after(
        [id = *id, w = *w](const OsdMap& m, OsdMapIncremental& inc) -> Status {
          crush::CrushMap c = inc.new_crush ? *inc.new_crush : m.crush;
          CAIRN_RETURN_IF_ERROR(c.set_weight(id, w));
          inc.new_crush = std::move(c);
          return {};
        },
        "", std::move(done));
  }
  if (sub == "add") {
    // osd crush add osd.<id> <weight> <type>=<bucket>: places an OSD (Ceph's spelling).
    if (a.size() != 3 || a.at(2).find('=') == std::string::npos)
      return reply_now(done,
                       Status(Errc::kInvalid, "usage: osd crush add osd.<id> <weight> <type>=<bucket>"));
    auto id = parse_osd_id(a.at(0));
    auto w = parse_weight(a.at(1), 65535);
    if (!id.ok() || !w.ok()) return reply_now(done, !id.ok() ? id.status() : w.status());
    if (!projected().exists(*id))
      return reply_now(done, Status(Errc::kNotFound, "no such osd (osd create first)"));
    std::string dest = a.at(2).substr(a.at(2).find('=') + 1);
    return reply_after(
        [id = *id, w = *w, dest](const OsdMap& m, OsdMapIncremental& inc) -> Status {
          crush::CrushMap c = inc.new_crush ? *inc.new_crush : m.crush;
          if (c.device(id))
            return error(Errc::kExists, "osd." + std::to_string(id) + " is placed already (use move)");
          CAIRN_RETURN_IF_ERROR(crush::add_osd(c, id, dest, w));
          inc.new_crush = std::move(c);
          return {};
        },
        "", std::move(done));
  }
  if (sub == "rm") {
    // osd crush rm <item>: a device leaves placement (its data moves elsewhere); a bucket must be empty.
    if (a.size() != 1) return reply_now(done, Status(Errc::kInvalid, "usage: osd crush rm <item>"));
    std::string item = a.at(0);
    return reply_after(
        [item](const OsdMap& m, OsdMapIncremental& inc) -> Status {
          crush::CrushMap c = inc.new_crush ? *inc.new_crush : m.crush;
          auto id = c.find_item(item);
          if (!id) return error(Errc::kNotFound, "no crush item '" + item + "'");
          CAIRN_RETURN_IF_ERROR(c.bucket(*id) ? c.remove_bucket(*id) : c.remove_device(*id));
          CAIRN_RETURN_IF_ERROR(c.validate());
          inc.new_crush = std::move(c);
          return {};
        },
        "", std::move(done));
  }
  reply_now(done, Status(Errc::kInvalid,
                         "unknown command 'osd crush " + sub + "' (add, add-bucket, move, reweight, rm)"));
}

void OsdMapService::pool_command(const MonCommand& cmd, ReplyFn done) {
  const std::string sub = cmd.args.size() > 2 ? cmd.args[2] : "";
  CommandArgs a(cmd.args, 3);
  const OsdMap& m = projected();
  if (sub == "ls") {
    std::string out;
    nlohmann::json j = nlohmann::json::array();
    for (const auto& [id, p] : m.pools) {
      out += p.name + "\n";
      j.push_back(p.name);
    }
    return reply_now(done, cmd.json ? j.dump() : out);
  }
  if (sub == "create") {
    if (a.size() < 1 || a.size() > 2)
      return reply_now(
          done, Status(Errc::kInvalid, "usage: osd pool create <name> [pg_num] [--size N] [--min-size N]"));
    std::string name = a.at(0);
    if (!valid_pool_name(name))
      return reply_now(done, Status(Errc::kInvalid, "bad pool name '" + name + "'"));
    auto pg_num = a.size() > 1 ? a.int_at(1, "pg_num", 1, crush::kMaxPgNum)
                               : Result<int64_t>(static_cast<int64_t>(cfg_.default_pg_num));
    auto size = a.int_flag("size", cfg_.default_pool_size, 1, 10);
    if (!pg_num.ok() || !size.ok()) return reply_now(done, !pg_num.ok() ? pg_num.status() : size.status());
    auto min_size = a.int_flag("min-size", std::min<int64_t>(cfg_.default_pool_min_size, *size), 1, *size);
    if (!min_size.ok()) return reply_now(done, min_size.status());
    const crush::Rule* rule = m.crush.find_rule(a.flag("rule", cfg_.default_rule));
    if (!rule)
      return reply_now(done,
                       Status(Errc::kNotFound, "no crush rule '" + a.flag("rule", cfg_.default_rule) + "'"));
    // Idempotent, as in Ceph: a retried create (after a timeout) must not fail.
    if (m.pool_by_name(name)) return reply_now(done, "pool '" + name + "' already exists\n");
    crush::PoolInfo p;
    p.placement = crush::Pool{0, static_cast<uint32_t>(*pg_num), static_cast<uint32_t>(*size), rule->id,
                              rule->type == crush::RuleType::kErasure};
    p.name = name;
    p.min_size = static_cast<uint32_t>(*min_size);
    return reply_after(
        [p](const OsdMap& cur, OsdMapIncremental& inc) mutable -> Status {
          if (cur.pool_by_name(p.name)) return error(Errc::kExists, "pool '" + p.name + "' already exists");
          int64_t id = (inc.new_pool_max ? *inc.new_pool_max : cur.pool_max) + 1;
          p.placement.id = id;
          p.created = inc.epoch;
          inc.new_pool_max = id;
          inc.new_pools[id] = p;
          return {};
        },
        "pool '" + name + "' created\n", std::move(done));
  }
  const crush::PoolInfo* p = a.size() > 0 ? m.pool_by_name(a.at(0)) : nullptr;
  if ((sub == "get" || sub == "set" || sub == "rm") && !p)
    return reply_now(done, Status(a.size() ? Errc::kNotFound : Errc::kInvalid,
                                  a.size() ? "no pool '" + a.at(0) + "'" : "name a pool"));
  if (sub == "get") {
    nlohmann::json j = {
        {"pool", p->name},
        {"id", p->placement.id},
        {"size", p->placement.size},
        {"min_size", p->min_size},
        {"pg_num", p->placement.pg_num},
        {"crush_rule", m.crush.rule(p->placement.rule) ? m.crush.rule(p->placement.rule)->name : ""},
        {"type", p->placement.erasure ? "erasure" : "replicated"}};
    if (a.size() > 1) {
      if (!j.contains(a.at(1)))
        return reply_now(done, Status(Errc::kInvalid, "unknown pool field '" + a.at(1) + "'"));
      return reply_now(done, cmd.json ? j[a.at(1)].dump() : a.at(1) + ": " + j[a.at(1)].dump() + "\n");
    }
    std::string out;
    for (auto& [k, v] : j.items()) out += k + ": " + (v.is_string() ? v.get<std::string>() : v.dump()) + "\n";
    return reply_now(done, cmd.json ? j.dump() : out);
  }
  if (sub == "set") {
    if (a.size() != 3)
      return reply_now(done,
                       Status(Errc::kInvalid, "usage: osd pool set <pool> size|min_size|pg_num <value>"));
    std::string field = a.at(1);
    auto v = a.int_at(2, field.c_str(), 1, field == "pg_num" ? crush::kMaxPgNum : 10);
    if (!v.ok()) return reply_now(done, v.status());
    crush::PoolInfo np = *p;
    if (field == "size") {
      np.placement.size = static_cast<uint32_t>(*v);
      np.min_size = std::min(np.min_size, np.placement.size);
    } else if (field == "min_size") {
      if (*v > p->placement.size)
        return reply_now(done, Status(Errc::kInvalid, "min_size cannot exceed size"));
      np.min_size = static_cast<uint32_t>(*v);
    } else if (field == "pg_num") {
      if (*v < p->placement.pg_num)
        return reply_now(done, Status(Errc::kNotSupported, "pg_num can only grow"));
      np.placement.pg_num = static_cast<uint32_t>(*v);
    } else {
      return reply_now(done, Status(Errc::kInvalid, "unknown pool field '" + field + "'"));
    }
    return reply_after(
        [np](const OsdMap&, OsdMapIncremental& inc) -> Status {
          inc.new_pools[np.placement.id] = np;
          return {};
        },
        "", std::move(done));
  }
  if (sub == "rm") {
    if (a.size() != 2 || a.at(1) != a.at(0) || !a.has_flag("yes-i-really-really-mean-it"))
      return reply_now(done, Status(Errc::kPermission,
                                    "removing a pool destroys its data: repeat the name and add "
                                    "--yes-i-really-really-mean-it"));
    int64_t id = p->placement.id;
    return reply_after(
        [id](const OsdMap&, OsdMapIncremental& inc) -> Status {
          inc.new_pools.erase(id);
          inc.removed_pools.push_back(id);
          return {};
        },
        "pool '" + p->name + "' removed\n", std::move(done));
  }
  reply_now(done,
            Status(Errc::kInvalid, "unknown command 'osd pool " + sub + "' (create, ls, get, set, rm)"));
}

Result<std::string> OsdMapService::pg_command(const MonCommand& cmd) const {
  const std::string sub = cmd.args.size() > 1 ? cmd.args[1] : "";
  CommandArgs a(cmd.args, 2);
  if (sub == "map") {
    if (a.size() != 2) return Status(Errc::kInvalid, "usage: pg map <pool> <object>");
    const crush::PoolInfo* p = map_.pool_by_name(a.at(0));
    if (!p) return Status(Errc::kNotFound, "no pool '" + a.at(0) + "'");
    crush::PgId pg = map_.object_to_pg(p->placement.id, a.at(1));
    CAIRN_ASSIGN_OR_RETURN(auto mp, map_.map_pg(pg));
    char pgid[32];
    std::snprintf(pgid, sizeof pgid, "%lld.%x", static_cast<long long>(pg.pool), pg.seed);
    nlohmann::json j = {{"epoch", map_.epoch}, {"pool", p->name},
                        {"object", a.at(1)},   {"pgid", pgid},
                        {"up", mp.up},         {"up_primary", mp.up_primary},
                        {"acting", mp.acting}, {"acting_primary", mp.acting_primary}};
    if (cmd.json) return j.dump();
    return "osdmap e" + std::to_string(map_.epoch) + " pool '" + p->name + "' (" +
           std::to_string(p->placement.id) + ") object '" + a.at(1) + "' -> pg " + pgid + " -> up " +
           j["up"].dump() + " acting " + j["acting"].dump() + "\n";
  }
  if (sub == "dump" || sub == "ls") return pg_dump(cmd.json);
  if (sub == "stat") return pg_stat(cmd.json);
  return Status(Errc::kInvalid, "unknown command 'pg " + sub + "' (map, dump, stat)");
}

}  // namespace cairn::mon
