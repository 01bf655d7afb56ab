#include "crush/builder.h"

namespace cairn::crush {
namespace {

Rule simple_rule(int32_t id, std::string name, RuleType type, ItemId root, StepOp op, ChooseMode mode,
                 uint32_t domain_type) {
  Rule r;
  r.id = id;
  r.name = std::move(name);
  r.type = type;
  r.steps.push_back(Step{StepOp::kTake, root, "", ChooseMode::kFirstn, 0, 0});
  r.steps.push_back(Step{op, 0, "", mode, 0, domain_type});
  r.steps.push_back(Step{StepOp::kEmit, 0, "", ChooseMode::kFirstn, 0, 0});
  return r;
}

}  // namespace

Result<CrushMap> build_map(const BuildSpec& spec) {
  if (spec.hosts == 0 || spec.osds_per_host == 0) return Status(Errc::kInvalid, "empty map");
  if (static_cast<uint64_t>(spec.hosts) * spec.osds_per_host > kMaxDevices)
    return Status(Errc::kInvalid, "too many devices");
  CrushMap m;
  m.types = CrushMap::default_types();
  const ItemId root = -1;
  m.buckets[root] = Bucket{root, "default", 6, {}};
  for (uint32_t h = 0; h < spec.hosts; ++h) {
    ItemId hid = -2 - static_cast<ItemId>(h);
    Bucket host{hid, "host" + std::to_string(h), 1, {}};
    for (uint32_t o = 0; o < spec.osds_per_host; ++o) {
      ItemId id = static_cast<ItemId>(h * spec.osds_per_host + o);
      m.devices[id] = Device{id, "osd." + std::to_string(id), spec.osd_weight, spec.device_class};
      host.items.push_back(id);
    }
    m.buckets[hid] = std::move(host);
    m.buckets[root].items.push_back(hid);
  }
  m.rules[kRuleReplicatedHost] = simple_rule(kRuleReplicatedHost, "replicated_host", RuleType::kReplicated,
                                             root, StepOp::kChooseLeaf, ChooseMode::kFirstn, 1);
  m.rules[kRuleReplicatedOsd] = simple_rule(kRuleReplicatedOsd, "replicated_osd", RuleType::kReplicated, root,
                                            StepOp::kChooseLeaf, ChooseMode::kFirstn, kDeviceType);
  m.rules[kRuleErasureHost] = simple_rule(kRuleErasureHost, "erasure_host", RuleType::kErasure, root,
                                          StepOp::kChooseLeaf, ChooseMode::kIndep, 1);
  m.rules[kRuleErasureOsd] = simple_rule(kRuleErasureOsd, "erasure_osd", RuleType::kErasure, root,
                                         StepOp::kChoose, ChooseMode::kIndep, kDeviceType);
  CAIRN_RETURN_IF_ERROR(m.validate());
  return m;
}

Status add_osd(CrushMap& map, ItemId id, const std::string& host, Weight weight,
               const std::string& device_class) {
  auto parent = map.find_item(host);
  if (!parent || *parent >= 0) return error(Errc::kNotFound, "no bucket named " + host);
  return map.add_device(id, "osd." + std::to_string(id), weight, device_class, *parent);
}

}  // namespace cairn::crush
