// cairn-objectstore-tool end to end: mkfs, fsck, list, dump-object, export/import.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "osd/store/block_store.h"
#include "store_test_util.h"

namespace cairn::store {
namespace {

struct ToolRun {
  int code;
  std::string out;
};

ToolRun tool(const std::string& args) {
  std::string cmd = std::string(CAIRN_OBJECTSTORE_TOOL) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ToolRun r{-1, ""};
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST(ObjectStoreTool, MkfsFsckListDumpExportImport) {
  testing::TempDir a, b;
  ASSERT_EQ(tool("--data " + a.path() + " mkfs --size 33554432").code, 0);
  ASSERT_EQ(tool("--data " + b.path() + " mkfs --size 33554432").code, 0);
  CollectionId c{4, 0x1f};
  {
    BlockStoreOptions o;
    o.path = a.path();
    auto s = BlockStore::open(o);
    ASSERT_TRUE(s.ok());
    Transaction t;
    t.create_collection(c);
    for (int i = 0; i < 5; ++i) {
      ObjectId oid = testing::oid("obj" + std::to_string(i), static_cast<uint32_t>(i * 1000));
      t.write(c, oid, 0, testing::bl(testing::pattern(5000 * (i + 1), 'a')));
      t.setattrs(c, oid, {{"_", testing::bl("attr")}});
      t.omap_setkeys(c, oid, {{"k" + std::to_string(i), testing::bl("v")}});
    }
    t.omap_setheader(c, testing::oid("obj2", 2000), testing::bl("hdr"));
    ASSERT_TRUE(apply_transaction(**s, c, std::move(t)).ok());
  }
  ToolRun fsck = tool("--data " + a.path() + " fsck --deep");
  EXPECT_EQ(fsck.code, 0) << fsck.out;
  EXPECT_NE(fsck.out.find("objects 5"), std::string::npos) << fsck.out;
  ToolRun colls = tool("--data " + a.path() + " list");
  EXPECT_EQ(colls.out, "4.1f\n");
  ToolRun objs = tool("--data " + a.path() + " list 4.1f");
  EXPECT_EQ(objs.out.find("00000000:obj0\n000003e8:obj1\n"), 0u) << objs.out;
  ToolRun dump = tool("--data " + a.path() + " dump-object 4.1f 000007d0:obj2");
  EXPECT_EQ(dump.code, 0) << dump.out;
  EXPECT_NE(dump.out.find("size 15000"), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("checksums ok"), std::string::npos) << dump.out;
  std::string file = b.path() + "/export.bin";
  ASSERT_EQ(tool("--data " + a.path() + " export 4.1f " + file).code, 0);
  ToolRun imp = tool("--data " + b.path() + " import " + file);
  ASSERT_EQ(imp.code, 0) << imp.out;
  EXPECT_EQ(tool("--data " + b.path() + " list 4.1f").out, objs.out);
  EXPECT_EQ(tool("--data " + b.path() + " fsck --deep").code, 0);
  BlockStoreOptions o;
  o.path = b.path();
  auto s = BlockStore::open(o);
  ASSERT_TRUE(s.ok());
  auto h = (*s)->omap_get_header(c, testing::oid("obj2", 2000));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->to_string(), "hdr");
  auto d = (*s)->read(c, testing::oid("obj4", 4000), 0, 0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->to_string(), testing::pattern(25000, 'a'));
  EXPECT_EQ(tool("--data " + b.path() + " import " + file).code, 2);  // the collection exists now
}

}  // namespace
}  // namespace cairn::store
