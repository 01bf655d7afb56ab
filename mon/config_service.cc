#include "mon/config_service.h"

#include <nlohmann/json.hpp>

namespace cairn::mon {
namespace {

constexpr char kPrefix[] = "config/";
// Names and values are user input stored in the replicated log: bound them.
constexpr size_t kMaxNameLen = 128;
constexpr size_t kMaxValueLen = 4096;

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > kMaxNameLen) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

}  // namespace

bool valid_config_who(const std::string& who) {
  static const char* kTypes[] = {"global", "mon", "osd", "mds", "client", "gw", "blockd"};
  size_t dot = who.find('.');
  std::string type = who.substr(0, dot);
  bool known = false;
  for (const char* t : kTypes) known |= type == t;
  if (!known) return false;
  if (dot == std::string::npos) return true;
  return type != "global" && valid_name(who.substr(dot + 1));
}

void ConfigService::refresh(const PaxosStore& store) {
  entries_.clear();
  for (const auto& [k, v] : store.scan(kPrefix)) {
    std::string rest = k.substr(sizeof(kPrefix) - 1);
    size_t slash = rest.find('/');
    if (slash == std::string::npos) continue;
    entries_[rest.substr(0, slash)][rest.substr(slash + 1)] = v;
  }
}

bool ConfigService::owns(const std::vector<std::string>& args) const {
  return !args.empty() && args[0] == "config";
}

std::map<std::string, std::string> ConfigService::effective(const std::string& who) const {
  std::map<std::string, std::string> out;
  auto layer = [&](const std::string& w) {
    auto it = entries_.find(w);
    if (it != entries_.end())
      for (const auto& [k, v] : it->second) out[k] = v;
  };
  layer("global");
  layer(who.substr(0, who.find('.')));
  if (who.find('.') != std::string::npos) layer(who);
  return out;
}

Result<std::optional<KvTxn>> ConfigService::command(const MonCommand& cmd, MonCommandReply& reply) {
  CommandArgs a(cmd.args, 2);
  const std::string sub = cmd.args.size() > 1 ? cmd.args[1] : "";
  if (sub == "set" || sub == "rm") {
    size_t need = sub == "set" ? 3 : 2;
    if (a.size() != need)
      return Status(Errc::kInvalid,
                    "usage: config " + sub + " <who> <option>" + (sub == "set" ? " <value>" : ""));
    if (!valid_config_who(a.at(0))) return Status(Errc::kInvalid, "bad <who> '" + a.at(0) + "'");
    if (!valid_name(a.at(1))) return Status(Errc::kInvalid, "bad option name '" + a.at(1) + "'");
    KvTxn t;
    std::string key = kPrefix + a.at(0) + "/" + a.at(1);
    if (sub == "set") {
      if (a.at(2).size() > kMaxValueLen) return Status(Errc::kInvalid, "value too long");
      t.put(key, a.at(2));
    } else {
      auto it = entries_.find(a.at(0));
      if (it == entries_.end() || !it->second.count(a.at(1)))
        return Status(Errc::kNotFound, "no such config entry");
      t.erase(key);
    }
    return std::optional<KvTxn>(std::move(t));
  }
  if (sub == "get") {
    if (a.size() < 1 || a.size() > 2) return Status(Errc::kInvalid, "usage: config get <who> [<option>]");
    if (!valid_config_who(a.at(0))) return Status(Errc::kInvalid, "bad <who> '" + a.at(0) + "'");
    auto eff = effective(a.at(0));
    if (a.size() == 2) {
      auto it = eff.find(a.at(1));
      if (it == eff.end())
        return Status(Errc::kNotFound, "option '" + a.at(1) + "' is not set for " + a.at(0));
      reply.out = cmd.json ? nlohmann::json(it->second).dump() : it->second + "\n";
      return std::optional<KvTxn>();
    }
    if (cmd.json) {
      reply.out = nlohmann::json(eff).dump();
    } else {
      for (const auto& [k, v] : eff) reply.out += k + " = " + v + "\n";
    }
    return std::optional<KvTxn>();
  }
  if (sub == "dump") {
    if (cmd.json) {
      reply.out = nlohmann::json(entries_).dump();
    } else {
      char line[512];
      std::snprintf(line, sizeof line, "%-16s %-32s %s\n", "WHO", "OPTION", "VALUE");
      reply.out = line;
      for (const auto& [who, opts] : entries_) {
        for (const auto& [k, v] : opts) {
          std::snprintf(line, sizeof line, "%-16s %-32s %s\n", who.c_str(), k.c_str(), v.c_str());
          reply.out += line;
        }
      }
    }
    return std::optional<KvTxn>();
  }
  return Status(Errc::kInvalid, "unknown command 'config " + sub + "' (set, get, rm, dump)");
}

}  // namespace cairn::mon
