// decompile(): the canonical text form (crush/text.h).
#include <functional>
#include <set>

#include "crush/text.h"

namespace cairn::crush {
namespace {

const char* mode_name(ChooseMode m) { return m == ChooseMode::kIndep ? "indep" : "firstn"; }

std::string type_name(const CrushMap& m, uint32_t t) {
  auto it = m.types.find(t);
  return it == m.types.end() ? std::to_string(t) : it->second;
}

void print_bucket(const CrushMap& m, const Bucket& b, std::string& out) {
  out += type_name(m, b.type) + " " + b.name + " {\n";
  out += "  id " + std::to_string(b.id) + "\n";
  out += "  # weight " + format_weight(m.weight(b.id)) + "\n";
  out += "  alg straw2\n";
  for (ItemId c : b.items) out += "  item " + m.item_name(c) + "\n";
  out += "}\n";
}

// Children before parents, so the text reads bottom-up like Ceph's.
void print_buckets(const CrushMap& m, std::string& out) {
  std::set<ItemId> done;
  std::function<void(ItemId, uint32_t)> visit = [&](ItemId id, uint32_t depth) {
    const Bucket* b = m.bucket(id);
    if (!b || done.contains(id) || depth > kMaxDepth) return;
    done.insert(id);
    for (ItemId c : b->items) visit(c, depth + 1);
    print_bucket(m, *b, out);
  };
  for (auto it = m.buckets.rbegin(); it != m.buckets.rend(); ++it)
    if (!m.parent(it->first)) visit(it->first, 0);
  for (auto it = m.buckets.rbegin(); it != m.buckets.rend(); ++it) visit(it->first, 0);
}

void print_rule(const CrushMap& m, const Rule& r, std::string& out) {
  out += "rule " + r.name + " {\n";
  out += "  id " + std::to_string(r.id) + "\n";
  out += std::string("  type ") + (r.type == RuleType::kErasure ? "erasure" : "replicated") + "\n";
  for (const Step& s : r.steps) {
    switch (s.op) {
      case StepOp::kTake:
        out += "  step take " + m.item_name(s.item);
        if (!s.device_class.empty()) out += " class " + s.device_class;
        out += "\n";
        break;
      case StepOp::kChoose:
      case StepOp::kChooseLeaf:
        out += std::string("  step ") + (s.op == StepOp::kChoose ? "choose " : "chooseleaf ") +
               mode_name(s.mode) + " " + std::to_string(s.count) + " type " + type_name(m, s.type) + "\n";
        break;
      case StepOp::kEmit: out += "  step emit\n"; break;
    }
  }
  out += "}\n";
}

}  // namespace

std::string format_weight(Weight w) {
  uint64_t frac = ((static_cast<uint64_t>(w & 0xffff) * 100000) + 0x8000) >> 16;  // at most 99999
  std::string f = std::to_string(frac);
  return std::to_string(w >> 16) + "." + std::string(5 - f.size(), '0') + f;
}

std::string decompile(const CrushMap& m) {
  std::string out = "# cairn crush map\n";
  out += "tunable choose_total_tries " + std::to_string(m.tunables.choose_total_tries) + "\n\n# types\n";
  for (const auto& [id, name] : m.types) out += "type " + std::to_string(id) + " " + name + "\n";
  out += "\n# devices\n";
  for (const auto& [id, d] : m.devices) {
    out += "device " + std::to_string(id) + " " + d.name + " weight " + format_weight(d.weight);
    if (!d.device_class.empty()) out += " class " + d.device_class;
    out += "\n";
  }
  out += "\n# buckets\n";
  print_buckets(m, out);
  out += "\n# rules\n";
  for (const auto& [id, r] : m.rules) print_rule(m, r, out);
  return out;
}

}  // namespace cairn::crush
