// CrushMap::validate(): the structural rules every compiled or decoded map obeys.
#include <set>
#include <unordered_map>

#include "crush/crush_map.h"
#include "crush/internal/names.h"

namespace cairn::crush {
namespace {

Status bad(std::string msg) { return error(Errc::kInvalid, "crush map: " + std::move(msg)); }

Status check_types(const CrushMap& m) {
  if (m.types.size() > kMaxTypes) return bad("too many types");
  if (!m.types.contains(kDeviceType)) return bad("type 0 (the device type) is missing");
  std::set<std::string_view> names;
  for (const auto& [id, name] : m.types) {
    if (id >= kMaxTypes) return bad("type id " + std::to_string(id) + " out of range");
    if (!internal::valid_name(name)) return bad("bad type name '" + name + "'");
    // A bucket line starts with its type name: keywords would be ambiguous in text.
    if (name == "tunable" || name == "type" || name == "device" || name == "rule")
      return bad("type name '" + name + "' is reserved");
    if (!names.insert(name).second) return bad("duplicate type name " + name);
  }
  return ok_status();
}

Status check_items(const CrushMap& m) {
  if (m.devices.size() > kMaxDevices) return bad("too many devices");
  if (m.buckets.size() > kMaxBuckets) return bad("too many buckets");
  std::set<std::string_view> names;
  for (const auto& [id, d] : m.devices) {
    if (id < 0 || d.id != id) return bad("bad device id " + std::to_string(id));
    if (!internal::valid_name(d.name)) return bad("bad device name '" + d.name + "'");
    if (!d.device_class.empty() && !internal::valid_name(d.device_class))
      return bad("bad class name on " + d.name);
    if (!names.insert(d.name).second) return bad("duplicate item name " + d.name);
  }
  for (const auto& [id, b] : m.buckets) {
    if (id >= 0 || id == kNoItem || b.id != id) return bad("bad bucket id " + std::to_string(id));
    if (!internal::valid_name(b.name)) return bad("bad bucket name '" + b.name + "'");
    if (!names.insert(b.name).second) return bad("duplicate item name " + b.name);
    if (b.type == kDeviceType || !m.types.contains(b.type))
      return bad("bucket " + b.name + " has a bad type");
  }
  return ok_status();
}

// Each item has at most one parent, children exist, and no chain of parents is
// longer than kMaxDepth (which also rules out cycles).
Status check_tree(const CrushMap& m) {
  std::unordered_map<ItemId, ItemId> parent;
  for (const auto& [id, b] : m.buckets) {
    for (ItemId c : b.items) {
      if (!m.exists(c)) return bad("bucket " + b.name + " holds missing item " + std::to_string(c));
      if (!parent.emplace(c, id).second) return bad("item " + m.item_name(c) + " has two parents");
    }
  }
  for (const auto& [id, b] : m.buckets) {
    ItemId at = id;
    for (uint32_t depth = 0;; ++depth) {
      auto it = parent.find(at);
      if (it == parent.end()) break;
      if (depth >= kMaxDepth) return bad("bucket " + b.name + " is too deep or in a cycle");
      at = it->second;
    }
  }
  return ok_status();
}

Status check_rule(const CrushMap& m, const Rule& r) {
  if (r.steps.empty() || r.steps.size() > kMaxSteps) return bad("rule " + r.name + " has a bad step count");
  bool have_working = false;
  for (const Step& s : r.steps) {
    switch (s.op) {
      case StepOp::kTake:
        if (!m.exists(s.item)) return bad("rule " + r.name + " takes a missing item");
        if (!s.device_class.empty() && !internal::valid_name(s.device_class))
          return bad("rule " + r.name + " has a bad class name");
        have_working = true;
        break;
      case StepOp::kChoose:
      case StepOp::kChooseLeaf:
        if (!have_working) return bad("rule " + r.name + " chooses before take");
        if (!m.types.contains(s.type)) return bad("rule " + r.name + " chooses a missing type");
        if (s.mode != ChooseMode::kFirstn && s.mode != ChooseMode::kIndep)
          return bad("rule " + r.name + " has a bad choose mode");
        if (s.count > static_cast<int32_t>(kMaxReplicas) || s.count < -static_cast<int32_t>(kMaxReplicas))
          return bad("rule " + r.name + " has a bad count");
        break;
      case StepOp::kEmit:
        if (!have_working) return bad("rule " + r.name + " emits nothing");
        have_working = false;
        break;
      default: return bad("rule " + r.name + " has an unknown step");
    }
  }
  if (r.steps.back().op != StepOp::kEmit) return bad("rule " + r.name + " does not end with emit");
  return ok_status();
}

Status check_rules(const CrushMap& m) {
  if (m.rules.size() > kMaxRules) return bad("too many rules");
  std::set<std::string_view> names;
  for (const auto& [id, r] : m.rules) {
    if (id < 0 || r.id != id) return bad("bad rule id " + std::to_string(id));
    if (!internal::valid_name(r.name)) return bad("bad rule name '" + r.name + "'");
    if (!names.insert(r.name).second) return bad("duplicate rule name " + r.name);
    if (r.type != RuleType::kReplicated && r.type != RuleType::kErasure)
      return bad("rule " + r.name + " bad type");
    CAIRN_RETURN_IF_ERROR(check_rule(m, r));
  }
  return ok_status();
}

}  // namespace

Status CrushMap::validate() const {
  CAIRN_RETURN_IF_ERROR(check_types(*this));
  CAIRN_RETURN_IF_ERROR(check_items(*this));
  CAIRN_RETURN_IF_ERROR(check_tree(*this));
  CAIRN_RETURN_IF_ERROR(check_rules(*this));
  if (tunables.choose_total_tries == 0 || tunables.choose_total_tries > 1000)
    return bad("choose_total_tries must be 1..1000");
  return ok_status();
}

}  // namespace cairn::crush
