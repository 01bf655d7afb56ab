#include "osd/store/object_id.h"

#include <charconv>
#include <cstdio>

namespace cairn::store {

std::string CollectionId::to_string() const {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%lld.%x", static_cast<long long>(pool), seed);
  return buf;
}

Result<CollectionId> CollectionId::parse(std::string_view text) {
  size_t dot = text.find('.');
  if (dot == std::string_view::npos) return error(Errc::kInvalid, "collection id needs <pool>.<hex seed>");
  CollectionId c;
  auto [p1, e1] = std::from_chars(text.data(), text.data() + dot, c.pool);
  auto [p2, e2] = std::from_chars(text.data() + dot + 1, text.data() + text.size(), c.seed, 16);
  if (e1 != std::errc() || e2 != std::errc() || p1 != text.data() + dot || p2 != text.data() + text.size()) {
    return error(Errc::kInvalid, "bad collection id '" + std::string(text) + "'");
  }
  return c;
}

void CollectionId::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.i64(pool);
  e.u32(seed);
  e.end_struct(m);
}

void CollectionId::decode(Decoder& d) {
  auto s = d.begin_struct(1, "CollectionId");
  pool = d.i64();
  seed = d.u32();
  d.end_struct(s);
}

std::string ObjectId::to_string() const {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%08x:", hash);
  std::string out = buf;
  if (!nspace.empty()) out += nspace + "/";
  out += name;
  if (snap != kHeadSnap) out += "@" + std::to_string(snap);
  return out;
}

void ObjectId::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.u32(hash);
  e.str(nspace);
  e.str(name);
  e.u64(snap);
  e.end_struct(m);
}

void ObjectId::decode(Decoder& d) {
  auto s = d.begin_struct(1, "ObjectId");
  hash = d.u32();
  nspace = d.str();
  name = d.str();
  snap = d.u64();
  d.end_struct(s);
}

}  // namespace cairn::store
