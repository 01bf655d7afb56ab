#include "osd/store/internal/keys.h"

namespace cairn::store::keys {

namespace {
constexpr size_t kCollLen = 12;

void append_coll(std::string& out, const CollectionId& cid) {
  append_u64_be(out, static_cast<uint64_t>(cid.pool) ^ (1ull << 63));
  append_u32_be(out, cid.seed);
}

void append_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    out.push_back(c);
    if (c == '\0') out.push_back('\xff');
  }
  out.push_back('\0');
  out.push_back('\x01');
}

// Reads an escaped string from the front of `in`, advancing it.
bool read_escaped(std::string_view& in, std::string& out) {
  out.clear();
  size_t i = 0;
  while (i + 1 < in.size()) {
    if (in[i] != '\0') {
      out.push_back(in[i++]);
      continue;
    }
    if (in[i + 1] == '\x01') {
      in.remove_prefix(i + 2);
      return true;
    }
    if (in[i + 1] != '\xff') return false;
    out.push_back('\0');
    i += 2;
  }
  return false;
}
}  // namespace

void append_u64_be(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void append_u32_be(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t read_u64_be(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < in.size(); ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}
uint32_t read_u32_be(std::string_view in) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4 && i < in.size(); ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

std::string coll_key(const CollectionId& cid) {
  std::string k(1, kColl);
  append_coll(k, cid);
  return k;
}
std::string onode_prefix(const CollectionId& cid) {
  std::string k(1, kOnode);
  append_coll(k, cid);
  return k;
}
std::string onode_key(const CollectionId& cid, const ObjectId& oid) {
  std::string k = onode_prefix(cid);
  append_u32_be(k, oid.hash);
  append_escaped(k, oid.nspace);
  append_escaped(k, oid.name);
  append_u64_be(k, oid.snap);
  return k;
}
std::string omap_prefix(uint64_t nid) {
  std::string k(1, kOmap);
  append_u64_be(k, nid);
  return k;
}
std::string omap_key(uint64_t nid, std::string_view user_key) {
  std::string k = omap_prefix(nid);
  k.append(user_key);
  return k;
}
std::string omap_header_key(uint64_t nid) {
  std::string k(1, kOmapHeader);
  append_u64_be(k, nid);
  return k;
}
std::string shard_prefix(uint64_t nid) {
  std::string k(1, kExtentShard);
  append_u64_be(k, nid);
  return k;
}
std::string shard_key(uint64_t nid, uint32_t shard) {
  std::string k = shard_prefix(nid);
  append_u32_be(k, shard);
  return k;
}
std::string bitmap_key(uint64_t group) {
  std::string k(1, kBitmap);
  append_u64_be(k, group);
  return k;
}
std::string deferred_key(uint64_t seq) {
  std::string k(1, kDeferred);
  append_u64_be(k, seq);
  return k;
}

Result<CollectionId> decode_coll(std::string_view in) {
  if (in.size() < kCollLen) return error(Errc::kCorrupt, "collection key too short");
  CollectionId cid;
  cid.pool = static_cast<int64_t>(read_u64_be(in) ^ (1ull << 63));
  cid.seed = read_u32_be(in.substr(8));
  return cid;
}

Status decode_onode_key(std::string_view key, CollectionId& cid, ObjectId& oid) {
  if (key.size() < 1 + kCollLen + 4 || key[0] != kOnode) return error(Errc::kCorrupt, "bad onode key");
  CAIRN_ASSIGN_OR_RETURN(cid, decode_coll(key.substr(1)));
  std::string_view rest = key.substr(1 + kCollLen);
  oid.hash = read_u32_be(rest);
  rest.remove_prefix(4);
  if (!read_escaped(rest, oid.nspace) || !read_escaped(rest, oid.name) || rest.size() != 8) {
    return error(Errc::kCorrupt, "bad onode key");
  }
  oid.snap = read_u64_be(rest);
  return ok_status();
}

}  // namespace cairn::store::keys
