#include "commands.h"

#include <charconv>
#include <cstdio>

namespace cairn::tool {

using store::BlockStore;
using store::CollectionId;
using store::ObjectId;

namespace {
int fail(const Status& st) {
  std::fprintf(stderr, "error: %s\n", st.to_string().c_str());
  return 2;
}
}  // namespace

Result<ObjectId> parse_object_id(const std::string& text) {
  ObjectId o;
  size_t colon = text.find(':');
  if (colon != 8) return error(Errc::kInvalid, "object id needs <hash hex8>:<name>");
  auto [p, ec] = std::from_chars(text.data(), text.data() + 8, o.hash, 16);
  if (ec != std::errc() || p != text.data() + 8) return error(Errc::kInvalid, "bad object hash");
  std::string rest = text.substr(9);
  size_t at = rest.rfind('@');
  if (at != std::string::npos) {
    auto [q, ec2] = std::from_chars(rest.data() + at + 1, rest.data() + rest.size(), o.snap);
    if (ec2 != std::errc() || q != rest.data() + rest.size()) return error(Errc::kInvalid, "bad snap");
    rest.resize(at);
  }
  size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    o.nspace = rest.substr(0, slash);
    rest = rest.substr(slash + 1);
  }
  o.name = rest;
  return o;
}

int cmd_mkfs(const store::BlockStoreOptions& opts) {
  Status st = BlockStore::mkfs(opts);
  if (!st.ok()) return fail(st);
  std::printf("formatted %s\n", opts.path.c_str());
  return 0;
}

int cmd_fsck(const store::BlockStoreOptions& opts, bool deep) {
  auto r = BlockStore::fsck(opts, deep);
  if (!r.ok()) return fail(r.status());
  std::printf(
      "collections %llu objects %llu used_blocks %llu mapped_blocks %llu\n"
      "leaked %llu double_mapped %llu mapped_but_free %llu bad_onodes %llu bad_checksums %llu%s\n",
      (unsigned long long)r->collections, (unsigned long long)r->objects, (unsigned long long)r->used_blocks,
      (unsigned long long)r->mapped_blocks, (unsigned long long)r->leaked_blocks,
      (unsigned long long)r->double_mapped, (unsigned long long)r->unallocated_mapped,
      (unsigned long long)r->bad_onodes, (unsigned long long)r->bad_checksums, deep ? "" : " (not checked)");
  for (const auto& e : r->errors) std::printf("  %s\n", e.c_str());
  std::printf("%s\n", r->clean() ? "clean" : "ERRORS");
  return r->clean() ? 0 : 1;
}

int cmd_list(const store::BlockStoreOptions& opts, const std::vector<std::string>& args) {
  auto s = BlockStore::open(opts);
  if (!s.ok()) return fail(s.status());
  if (args.empty()) {
    auto colls = (*s)->list_collections();
    if (!colls.ok()) return fail(colls.status());
    for (const auto& c : *colls) std::printf("%s\n", c.to_string().c_str());
    return 0;
  }
  auto cid = CollectionId::parse(args[0]);
  if (!cid.ok()) return fail(cid.status());
  ObjectId cursor = ObjectId::min();
  for (;;) {
    auto page = (*s)->list_objects(*cid, cursor, 1000);
    if (!page.ok()) return fail(page.status());
    for (const auto& o : page->objects) std::printf("%s\n", o.to_string().c_str());
    if (!page->next) return 0;
    cursor = *page->next;
  }
}

int cmd_dump_object(const store::BlockStoreOptions& opts, const std::vector<std::string>& args) {
  if (args.size() != 2) return fail(error(Errc::kInvalid, "dump-object COLL OBJECT"));
  auto cid = CollectionId::parse(args[0]);
  if (!cid.ok()) return fail(cid.status());
  auto oid = parse_object_id(args[1]);
  if (!oid.ok()) return fail(oid.status());
  auto s = BlockStore::open(opts);
  if (!s.ok()) return fail(s.status());
  auto desc = (*s)->describe_object(*cid, *oid);
  if (!desc.ok()) return fail(desc.status());
  std::printf("%s", desc->c_str());
  auto attrs = (*s)->getattrs(*cid, *oid);
  if (attrs.ok()) {
    for (const auto& [k, v] : *attrs) std::printf("  xattr %s (%zu bytes)\n", k.c_str(), v.size());
  }
  auto omap = (*s)->omap_list(*cid, *oid, "", 1000);
  if (omap.ok()) {
    for (const auto& [k, v] : omap->entries) std::printf("  omap %s (%zu bytes)\n", k.c_str(), v.size());
    if (omap->more) std::printf("  omap ... (more)\n");
  }
  auto data = (*s)->read(*cid, *oid, 0, 0);
  std::printf("  data %s\n", data.ok() ? "readable, checksums ok" : data.status().to_string().c_str());
  return data.ok() ? 0 : 1;
}

}  // namespace cairn::tool
