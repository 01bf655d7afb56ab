// Binary form of the CRUSH map (common/encoding.h; byte layout in docs/crush.md).
//
// v1 body: u32 choose_total_tries | types | devices | buckets | rules, each a u32
// count followed by the entries. Decoding bounds every count by the bytes left,
// rejects duplicate ids and runs validate(), so a decoded map is always usable.
#include "crush/crush_map.h"

namespace cairn::crush {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kCompat = 1;

void encode_rule(Encoder& e, const Rule& r) {
  e.i32(r.id);
  e.str(r.name);
  e.u8(static_cast<uint8_t>(r.type));
  e.u32(static_cast<uint32_t>(r.steps.size()));
  for (const Step& s : r.steps) {
    e.u8(static_cast<uint8_t>(s.op));
    e.i32(s.item);
    e.str(s.device_class);
    e.u8(static_cast<uint8_t>(s.mode));
    e.i32(s.count);
    e.u32(s.type);
  }
}

Rule decode_rule(Decoder& d) {
  Rule r;
  r.id = d.i32();
  r.name = d.str();
  r.type = static_cast<RuleType>(d.u8());
  uint32_t n = d.count(15);  // smallest step: 1+4+4+1+4+4 bytes
  if (n > kMaxSteps) d.fail("crush rule has too many steps");
  for (uint32_t i = 0; i < n && !d.failed(); ++i) {
    Step s;
    s.op = static_cast<StepOp>(d.u8());
    s.item = d.i32();
    s.device_class = d.str();
    s.mode = static_cast<ChooseMode>(d.u8());
    s.count = d.i32();
    s.type = d.u32();
    r.steps.push_back(std::move(s));
  }
  return r;
}

template <typename M, typename V>
void insert_unique(Decoder& d, M& m, typename M::key_type key, V&& v, const char* what) {
  if (!m.emplace(key, std::forward<V>(v)).second) d.fail(std::string("duplicate ") + what + " id");
}

void decode_items(Decoder& d, CrushMap& m) {
  uint32_t n = d.count(12);
  for (uint32_t i = 0; i < n && !d.failed(); ++i) {
    Device dev;
    dev.id = d.i32();
    dev.name = d.str();
    dev.weight = d.u32();
    dev.device_class = d.str();
    insert_unique(d, m.devices, dev.id, std::move(dev), "device");
  }
  n = d.count(16);
  for (uint32_t i = 0; i < n && !d.failed(); ++i) {
    Bucket b;
    b.id = d.i32();
    b.name = d.str();
    b.type = d.u32();
    uint32_t k = d.count(4);
    for (uint32_t j = 0; j < k && !d.failed(); ++j) b.items.push_back(d.i32());
    insert_unique(d, m.buckets, b.id, std::move(b), "bucket");
  }
}

}  // namespace

void CrushMap::encode(Encoder& e) const {
  auto mark = e.begin_struct(kVersion, kCompat);
  e.u32(tunables.choose_total_tries);
  e.u32(static_cast<uint32_t>(types.size()));
  for (const auto& [id, name] : types) {
    e.u32(id);
    e.str(name);
  }
  e.u32(static_cast<uint32_t>(devices.size()));
  for (const auto& [id, dev] : devices) {
    e.i32(id);
    e.str(dev.name);
    e.u32(dev.weight);
    e.str(dev.device_class);
  }
  e.u32(static_cast<uint32_t>(buckets.size()));
  for (const auto& [id, b] : buckets) {
    e.i32(id);
    e.str(b.name);
    e.u32(b.type);
    e.u32(static_cast<uint32_t>(b.items.size()));
    for (ItemId c : b.items) e.i32(c);
  }
  e.u32(static_cast<uint32_t>(rules.size()));
  for (const auto& [id, r] : rules) encode_rule(e, r);
  e.end_struct(mark);
}

void CrushMap::decode(Decoder& d) {
  *this = CrushMap{};
  types.clear();
  auto scope = d.begin_struct(kVersion, "crush map");
  tunables.choose_total_tries = d.u32();
  uint32_t n = d.count(8);
  for (uint32_t i = 0; i < n && !d.failed(); ++i) {
    uint32_t id = d.u32();
    insert_unique(d, types, id, d.str(), "type");
  }
  decode_items(d, *this);
  n = d.count(13);
  for (uint32_t i = 0; i < n && !d.failed(); ++i) {
    Rule r = decode_rule(d);
    insert_unique(d, rules, r.id, std::move(r), "rule");
  }
  d.end_struct(scope);
  if (d.failed()) return;
  Status st = validate();
  if (!st.ok()) d.fail(st.message());
}

}  // namespace cairn::crush
