#include "crush/crush_map.h"

namespace cairn::crush {

std::map<uint32_t, std::string> CrushMap::default_types() {
  return {{0, "osd"}, {1, "host"}, {2, "chassis"}, {3, "rack"}, {4, "row"}, {5, "datacenter"}, {6, "root"}};
}

const Device* CrushMap::device(ItemId id) const {
  auto it = devices.find(id);
  return it == devices.end() ? nullptr : &it->second;
}

const Bucket* CrushMap::bucket(ItemId id) const {
  auto it = buckets.find(id);
  return it == buckets.end() ? nullptr : &it->second;
}

std::optional<ItemId> CrushMap::find_item(std::string_view name) const {
  for (const auto& [id, d] : devices)
    if (d.name == name) return id;
  for (const auto& [id, b] : buckets)
    if (b.name == name) return id;
  return std::nullopt;
}

std::optional<uint32_t> CrushMap::find_type(std::string_view name) const {
  for (const auto& [id, n] : types)
    if (n == name) return id;
  return std::nullopt;
}

const Rule* CrushMap::find_rule(std::string_view name) const {
  for (const auto& [id, r] : rules)
    if (r.name == name) return &r;
  return nullptr;
}

const Rule* CrushMap::rule(int32_t id) const {
  auto it = rules.find(id);
  return it == rules.end() ? nullptr : &it->second;
}

std::string CrushMap::item_name(ItemId id) const {
  if (const Device* d = device(id)) return d->name;
  if (const Bucket* b = bucket(id)) return b->name;
  return {};
}

std::optional<uint32_t> CrushMap::item_type(ItemId id) const {
  if (device(id)) return kDeviceType;
  if (const Bucket* b = bucket(id)) return b->type;
  return std::nullopt;
}

std::optional<ItemId> CrushMap::parent(ItemId id) const {
  for (const auto& [bid, b] : buckets)
    for (ItemId c : b.items)
      if (c == id) return bid;
  return std::nullopt;
}

Weight CrushMap::weight(ItemId id) const {
  if (const Device* d = device(id)) return d->weight;
  const Bucket* b = bucket(id);
  if (!b) return 0;
  uint64_t sum = 0;
  for (ItemId c : b->items) sum += weight(c);  // depth bounded by validate()
  return sum > 0xffffffffull ? 0xffffffffu : static_cast<Weight>(sum);
}

std::optional<ItemId> CrushMap::ancestor_of_type(ItemId id, uint32_t type) const {
  for (uint32_t depth = 0; depth <= kMaxDepth; ++depth) {
    auto t = item_type(id);
    if (!t) return std::nullopt;
    if (*t == type) return id;
    auto p = parent(id);
    if (!p) return std::nullopt;
    id = *p;
  }
  return std::nullopt;
}

ItemId CrushMap::next_device_id() const { return devices.empty() ? 0 : devices.rbegin()->first + 1; }

ItemId CrushMap::next_bucket_id() const { return buckets.empty() ? -1 : buckets.begin()->first - 1; }

Status CrushMap::add_bucket(ItemId id, std::string name, uint32_t type, std::optional<ItemId> parent_id) {
  if (exists(id)) return error(Errc::kExists, "item " + std::to_string(id) + " exists");
  CrushMap next = *this;
  next.buckets[id] = Bucket{id, std::move(name), type, {}};
  if (parent_id) {
    auto it = next.buckets.find(*parent_id);
    if (it == next.buckets.end())
      return error(Errc::kNotFound, "no parent bucket " + std::to_string(*parent_id));
    it->second.items.push_back(id);
  }
  CAIRN_RETURN_IF_ERROR(next.validate());
  *this = std::move(next);
  return ok_status();
}

Status CrushMap::add_device(ItemId id, std::string name, Weight w, std::string device_class,
                            std::optional<ItemId> parent_id) {
  if (exists(id)) return error(Errc::kExists, "item " + std::to_string(id) + " exists");
  CrushMap next = *this;
  next.devices[id] = Device{id, std::move(name), w, std::move(device_class)};
  if (parent_id) {
    auto it = next.buckets.find(*parent_id);
    if (it == next.buckets.end())
      return error(Errc::kNotFound, "no parent bucket " + std::to_string(*parent_id));
    it->second.items.push_back(id);
  }
  CAIRN_RETURN_IF_ERROR(next.validate());
  *this = std::move(next);
  return ok_status();
}

Status CrushMap::remove_device(ItemId id) {
  if (!device(id)) return error(Errc::kNotFound, "no device " + std::to_string(id));
  for (const auto& [rid, r] : rules)
    for (const Step& s : r.steps)
      if (s.op == StepOp::kTake && s.item == id)
        return error(Errc::kBusy, "device " + std::to_string(id) + " is taken by rule " + r.name);
  devices.erase(id);
  for (auto& [bid, b] : buckets) std::erase(b.items, id);
  return ok_status();
}

Status CrushMap::remove_bucket(ItemId id) {
  auto it = buckets.find(id);
  if (it == buckets.end()) return error(Errc::kNotFound, "no bucket " + std::to_string(id));
  if (!it->second.items.empty()) return error(Errc::kBusy, "bucket " + it->second.name + " is not empty");
  for (const auto& [rid, r] : rules)
    for (const Step& s : r.steps)
      if (s.op == StepOp::kTake && s.item == id)
        return error(Errc::kBusy, "bucket " + it->second.name + " is taken by rule " + r.name);
  buckets.erase(it);
  for (auto& [bid, b] : buckets) std::erase(b.items, id);
  return ok_status();
}

Status CrushMap::set_weight(ItemId id, Weight w) {
  auto it = devices.find(id);
  if (it == devices.end()) return error(Errc::kNotFound, "no device " + std::to_string(id));
  it->second.weight = w;
  return ok_status();
}

}  // namespace cairn::crush
