#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <cstdlib>
#include <fstream>

#include "mon/paxos_store.h"

namespace cairn::mon {
namespace {

std::string value_putting(const std::string& k, const std::string& v) {
  PaxosValue pv;
  KvTxn t;
  t.put(k, v);
  pv.txns.push_back(t);
  return encode_to_buffer(pv).to_string();
}

class RocksStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn-monstore-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0); }
  std::string dir_;
};

TEST_F(RocksStoreTest, SurvivesReopen) {
  {
    auto s = open_rocks_paxos_store(dir_);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    auto& st = **s;
    ASSERT_TRUE(st.set_promised_pn(0x305).ok());
    ASSERT_TRUE(st.commit(1, value_putting("a", "1")).ok());
    ASSERT_TRUE(st.commit(2, value_putting("b", "2")).ok());
    EXPECT_EQ(st.commit(4, value_putting("c", "3")).code(), Errc::kInvalid);  // gap
    ASSERT_TRUE(st.set_uncommitted(Uncommitted{0x305, 3, value_putting("c", "3")}).ok());
  }
  auto s = open_rocks_paxos_store(dir_);
  ASSERT_TRUE(s.ok());
  auto& st = **s;
  EXPECT_EQ(st.promised_pn(), 0x305u);
  EXPECT_EQ(st.first_committed(), 1u);
  EXPECT_EQ(st.last_committed(), 2u);
  EXPECT_EQ(*st.get("a"), "1");
  ASSERT_TRUE(st.uncommitted().has_value());
  EXPECT_EQ(st.uncommitted()->version, 3u);
  EXPECT_EQ(*st.entry(2), value_putting("b", "2"));
}

TEST_F(RocksStoreTest, TrimSnapshotInstall) {
  auto s = open_rocks_paxos_store(dir_);
  ASSERT_TRUE(s.ok());
  auto& st = **s;
  for (uint64_t v = 1; v <= 10; ++v)
    ASSERT_TRUE(st.commit(v, value_putting("k" + std::to_string(v), "x")).ok());
  ASSERT_TRUE(st.trim(8).ok());
  EXPECT_EQ(st.first_committed(), 8u);
  EXPECT_EQ(st.entry(7).code(), Errc::kNotFound);
  EXPECT_TRUE(st.entry(8).ok());
  EXPECT_EQ(st.scan("k").size(), 10u);
  Snapshot snap{50, {{"only", "this"}}};
  ASSERT_TRUE(st.install_snapshot(snap).ok());
  EXPECT_EQ(st.last_committed(), 50u);
  EXPECT_FALSE(st.get("k1").has_value());
  EXPECT_EQ(*st.get("only"), "this");
  EXPECT_TRUE(st.commit(51, value_putting("after", "1")).ok());
}

TEST_F(RocksStoreTest, RejectsUndecodableValue) {
  auto s = open_rocks_paxos_store(dir_);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE((*s)->commit(1, "garbage").ok());
  EXPECT_EQ((*s)->last_committed(), 0u);
}

TEST_F(RocksStoreTest, CorruptManifestFailsToOpenWithClearError) {
  {
    auto s = open_rocks_paxos_store(dir_);
    ASSERT_TRUE(s.ok());
    for (uint64_t v = 1; v <= 50; ++v)
      ASSERT_TRUE((*s)->commit(v, value_putting("k", std::string(100, 'x'))).ok());
  }
  // Garbage over the middle of the MANIFEST: RocksDB's checksums must refuse it.
  ASSERT_EQ(std::system(("f=$(ls " + dir_ +
                         "/MANIFEST-* | head -1); sz=$(stat -c %s $f); "
                         "dd if=/dev/zero of=$f bs=1 seek=$((sz/3)) count=$((sz/3)) conv=notrunc status=none")
                            .c_str()),
            0);
  auto s = open_rocks_paxos_store(dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("open monitor store"), std::string::npos) << s.status().to_string();
}

TEST_F(RocksStoreTest, CorruptMetadataValueFailsToOpen) {
  {
    auto s = open_rocks_paxos_store(dir_);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->commit(1, value_putting("k", "v")).ok());
  }
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_, &raw).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), "p:last", "abc").ok());  // 3 bytes, not a u64
    delete raw;
  }
  auto s = open_rocks_paxos_store(dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Errc::kCorrupt);
  EXPECT_NE(s.status().message().find("monitor store corrupt"), std::string::npos) << s.status().to_string();
}

}  // namespace
}  // namespace cairn::mon
