#include "mon/monmap_service.h"

#include <algorithm>

#include "msg/entity.h"

namespace cairn::mon {
namespace {
constexpr char kKey[] = "monmap";
constexpr int kMaxMonitors = 9;
}  // namespace

void MonmapService::refresh(const PaxosStore& store) {
  auto v = store.get(kKey);
  if (!v) return;
  auto m = decode_from<MonMap>(std::string_view(*v));
  if (m.ok() && m->epoch > map_.epoch) map_ = std::move(*m);
}

bool MonmapService::owns(const std::vector<std::string>& args) const {
  return args.size() >= 2 && args[0] == "mon" && (args[1] == "add" || args[1] == "remove" || args[1] == "rm");
}

Result<std::optional<KvTxn>> MonmapService::command(const MonCommand& cmd, MonCommandReply& reply) {
  CommandArgs a(cmd.args, 2);
  MonMap next = map_;
  next.epoch = map_.epoch + 1;
  if (cmd.args[1] == "add") {
    if (a.size() != 2) return Status(Errc::kInvalid, "usage: mon add <name> <host:port>");
    const std::string& name = a.at(0);
    if (name.empty() || name.size() > 32 || !std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c));
        }))
      return Status(Errc::kInvalid, "bad monitor name '" + name + "' (letters and digits)");
    auto addr = msg::EntityAddr::parse(a.at(1));
    if (!addr.ok()) return addr.status().with_context("mon add");
    for (const auto& m : map_.mons) {
      if (m.name == name) return Status(Errc::kExists, "mon." + name + " is already a member");
      if (m.addr == addr->to_string())
        return Status(Errc::kExists, "mon." + m.name + " already has " + m.addr);
    }
    if (map_.size() >= kMaxMonitors) return Status(Errc::kRange, "at most 9 monitors");
    uint32_t id = 0;
    for (const auto& m : map_.mons) id = std::max(id, m.id + 1);
    if (id > 255) return Status(Errc::kRange, "monitor ids exhausted");
    next.mons.push_back(MonInfo{name, addr->to_string(), id});
    std::sort(next.mons.begin(), next.mons.end(),
              [](const MonInfo& x, const MonInfo& y) { return x.name < y.name; });
    reply.out = "added mon." + name + " at " + addr->to_string() + " (monmap e" + std::to_string(next.epoch) +
                "); start it with: cairn-mon --mkfs --id " + name + " --mon-initial-members " +
                next.to_string() + "\n";
  } else {
    if (a.size() != 1) return Status(Errc::kInvalid, "usage: mon remove <name>");
    auto it =
        std::find_if(next.mons.begin(), next.mons.end(), [&](const MonInfo& m) { return m.name == a.at(0); });
    if (it == next.mons.end()) return Status(Errc::kNotFound, "mon." + a.at(0) + " is not a member");
    if (next.mons.size() == 1) return Status(Errc::kBusy, "cannot remove the last monitor");
    next.mons.erase(it);
    reply.out = "removed mon." + a.at(0) + " (monmap e" + std::to_string(next.epoch) + ")\n";
  }
  KvTxn t;
  t.put(kKey, encode_to_buffer(next).to_string());
  return std::optional<KvTxn>(std::move(t));
}

}  // namespace cairn::mon
