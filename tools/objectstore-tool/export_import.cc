// export / import of one collection. File format (versioned, common/encoding.h):
//   "CAIRNEXP" | u32 version (1) | CollectionId | then per object:
//   u8 1 | Transaction (touch, write of all data, setattrs, omap keys, omap header)
//   and a final u8 0.
// Each object's transaction is applied on import as it is read, so memory holds
// one object at a time.
#include <cstdio>
#include <cstring>
#include <fstream>

#include "commands.h"

namespace cairn::tool {

using store::BlockStore;
using store::CollectionId;
using store::ObjectId;
using store::Transaction;

namespace {
constexpr char kMagic[8] = {'C', 'A', 'I', 'R', 'N', 'E', 'X', 'P'};
// Omap entries fetched per round trip while exporting.
constexpr size_t kOmapPage = 1024;

int fail(const Status& st) {
  std::fprintf(stderr, "error: %s\n", st.to_string().c_str());
  return 2;
}

Result<Transaction> object_txn(store::ObjectStore& s, const CollectionId& cid, const ObjectId& o) {
  Transaction t;
  t.touch(cid, o);
  CAIRN_ASSIGN_OR_RETURN(BufferList data, s.read(cid, o, 0, 0));
  if (!data.empty()) t.write(cid, o, 0, std::move(data));
  CAIRN_ASSIGN_OR_RETURN(store::AttrMap attrs, s.getattrs(cid, o));
  if (!attrs.empty()) t.setattrs(cid, o, std::move(attrs));
  std::string start;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(store::OmapPage page, s.omap_list(cid, o, start, kOmapPage));
    store::AttrMap kvs;
    for (auto& [k, v] : page.entries) kvs[k] = v;
    if (!page.entries.empty()) start = page.entries.back().first + std::string(1, '\0');
    if (!kvs.empty()) t.omap_setkeys(cid, o, std::move(kvs));
    if (!page.more) break;
  }
  CAIRN_ASSIGN_OR_RETURN(BufferList header, s.omap_get_header(cid, o));
  if (!header.empty()) t.omap_setheader(cid, o, std::move(header));
  return t;
}

void write_blob(std::ofstream& out, const BufferList& bl) {
  for (const auto& seg : bl.segments()) out.write(seg.data(), static_cast<std::streamsize>(seg.size()));
}
}  // namespace

int cmd_export(const store::BlockStoreOptions& opts, const std::vector<std::string>& args) {
  if (args.size() != 2) return fail(error(Errc::kInvalid, "export COLL FILE"));
  auto cid = CollectionId::parse(args[0]);
  if (!cid.ok()) return fail(cid.status());
  auto s = BlockStore::open(opts);
  if (!s.ok()) return fail(s.status());
  std::ofstream out(args[1], std::ios::binary | std::ios::trunc);
  if (!out) return fail(error(Errc::kIo, "cannot write " + args[1]));
  BufferList head;
  Encoder e(head);
  e.raw(kMagic, 8);
  e.u32(1);
  e.put(*cid);
  write_blob(out, head);
  ObjectId cursor = ObjectId::min();
  size_t objects = 0;
  for (;;) {
    auto page = (*s)->list_objects(*cid, cursor, 256);
    if (!page.ok()) return fail(page.status());
    for (const auto& o : page->objects) {
      auto t = object_txn(**s, *cid, o);
      if (!t.ok()) return fail(t.status().with_context(o.to_string()));
      BufferList rec;
      Encoder re(rec);
      re.u8(1);
      re.put(*t);
      write_blob(out, rec);
      ++objects;
    }
    if (!page->next) break;
    cursor = *page->next;
  }
  char end = 0;
  out.write(&end, 1);
  out.close();
  if (!out) return fail(error(Errc::kIo, "write " + args[1]));
  std::printf("exported %zu objects of %s\n", objects, cid->to_string().c_str());
  return 0;
}

int cmd_import(const store::BlockStoreOptions& opts, const std::vector<std::string>& args) {
  if (args.size() != 1) return fail(error(Errc::kInvalid, "import FILE"));
  std::ifstream in(args[0], std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Decoder d(file);
  std::string_view magic = d.raw(8);
  if (d.failed() || std::memcmp(magic.data(), kMagic, 8) != 0)
    return fail(error(Errc::kCorrupt, "not an export"));
  if (d.u32() != 1) return fail(error(Errc::kNotSupported, "export version"));
  CollectionId cid;
  d.get(cid);
  if (d.failed()) return fail(d.status());
  auto s = BlockStore::open(opts);
  if (!s.ok()) return fail(s.status());
  Transaction create;
  create.create_collection(cid);
  Status st = apply_transaction(**s, cid, std::move(create));
  if (!st.ok()) return fail(st.with_context("create " + cid.to_string()));
  size_t objects = 0;
  while (d.u8() == 1) {
    Transaction t;
    d.get(t);
    if (d.failed()) return fail(d.status());
    for (const auto& op : t.ops()) {
      if (op.cid != cid || op.type > Transaction::OpType::kOmapSetHeader) {
        return fail(error(Errc::kCorrupt, "export holds an op outside its collection"));
      }
    }
    st = apply_transaction(**s, cid, std::move(t));
    if (!st.ok()) return fail(st);
    ++objects;
  }
  if (d.failed()) return fail(d.status());
  std::printf("imported %zu objects into %s\n", objects, cid.to_string().c_str());
  return 0;
}

}  // namespace cairn::tool
