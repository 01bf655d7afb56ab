#include "mon/monmap.h"

#include <algorithm>

#include "msg/entity.h"

namespace cairn::mon {

namespace {
// More monitors only slow consensus; Ceph deployments use 3 or 5.
constexpr size_t kMaxMons = 9;
constexpr uint32_t kNoId = ~0u;
}  // namespace

void MonInfo::encode(Encoder& e) const {
  auto m = e.begin_struct(2, 1);
  e.put(name);
  e.put(addr);
  e.put(id);
  e.end_struct(m);
}

void MonInfo::decode(Decoder& d) {
  auto s = d.begin_struct(2, "MonInfo");
  d.get(name);
  d.get(addr);
  id = kNoId;
  if (s.version >= 2) d.get(id);
  d.end_struct(s);
}

void MonMap::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(epoch);
  e.put(fsid);
  e.put(mons);
  e.end_struct(m);
}

void MonMap::decode(Decoder& d) {
  auto s = d.begin_struct(1, "MonMap");
  d.get(epoch);
  d.get(fsid);
  d.get(mons);
  if (!d.failed() && (mons.empty() || mons.size() > kMaxMons)) d.fail("MonMap: bad member count");
  if (!d.failed() && !std::is_sorted(mons.begin(), mons.end(),
                                     [](const MonInfo& a, const MonInfo& b) { return a.name < b.name; }))
    d.fail("MonMap: members not sorted");
  for (size_t i = 0; i < mons.size(); ++i)
    if (mons[i].id == kNoId) mons[i].id = static_cast<uint32_t>(i);  // written before ids existed
  d.end_struct(s);
}

std::optional<int> MonMap::rank_of(std::string_view name) const {
  for (size_t i = 0; i < mons.size(); ++i)
    if (mons[i].name == name) return static_cast<int>(i);
  return std::nullopt;
}

Result<MonMap> MonMap::parse(std::string_view members, std::string fsid) {
  MonMap m;
  m.fsid = std::move(fsid);
  while (!members.empty()) {
    size_t comma = members.find(',');
    std::string_view item = members.substr(0, comma);
    members = comma == std::string_view::npos ? std::string_view{} : members.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return Status(Errc::kInvalid, "monitor '" + std::string(item) + "' is not name=host:port");
    MonInfo info{std::string(item.substr(0, eq)), std::string(item.substr(eq + 1))};
    auto addr = msg::EntityAddr::parse(info.addr);
    if (!addr.ok()) return addr.status().with_context("monitor '" + info.name + "'");
    if (addr->port == 0) return Status(Errc::kInvalid, "monitor '" + info.name + "' needs a port");
    if (m.rank_of(info.name)) return Status(Errc::kInvalid, "monitor '" + info.name + "' named twice");
    m.mons.push_back(std::move(info));
  }
  if (m.mons.empty() || m.mons.size() > kMaxMons)
    return Status(Errc::kInvalid, "need 1 to " + std::to_string(kMaxMons) + " monitors");
  std::sort(m.mons.begin(), m.mons.end(), [](const MonInfo& a, const MonInfo& b) { return a.name < b.name; });
  for (size_t i = 0; i < m.mons.size(); ++i) m.mons[i].id = static_cast<uint32_t>(i);
  return m;
}

std::string MonMap::to_string() const {
  std::string s;
  for (const auto& m : mons) s += (s.empty() ? "" : ",") + m.name + "=" + m.addr;
  return s;
}

}  // namespace cairn::mon
