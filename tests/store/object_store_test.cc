// One behavioural suite, run against every ObjectStore (typed tests): MemStore is
// the reference, BlockStore must behave identically.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "osd/store/mem_store.h"
#include "store_factories.h"
#include "store_test_util.h"

namespace cairn::store {
namespace {

using testing::bl;
using testing::oid;
using testing::pattern;

template <typename Factory>
class ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = factory_.open(true);
    ASSERT_NE(store_, nullptr);
    Transaction t;
    t.create_collection(c_);
    ASSERT_TRUE(apply(std::move(t)).ok());
  }
  void TearDown() override { store_.reset(); }

  Status apply(Transaction t) { return apply_transaction(*store_, c_, std::move(t)); }
  Status write(const ObjectId& o, uint64_t off, const std::string& data) {
    Transaction t;
    t.write(c_, o, off, bl(data));
    return apply(std::move(t));
  }
  std::string read_all(const ObjectId& o) {
    auto r = store_->read(c_, o, 0, 0);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? r->to_string() : std::string();
  }
  void remount() {
    if (!Factory::kDurable) return;
    store_.reset();
    store_ = factory_.open(false);
    ASSERT_NE(store_, nullptr);
  }

  Factory factory_;
  std::unique_ptr<ObjectStore> store_;
  CollectionId c_{1, 0x2a};
};

using StoreTypes = ::testing::Types<MemStoreFactory, BlockStoreFactory, BlockStoreDsyncFactory>;
TYPED_TEST_SUITE(ObjectStoreTest, StoreTypes);

TYPED_TEST(ObjectStoreTest, CollectionsCreateListRemove) {
  CollectionId other{2, 7};
  EXPECT_TRUE(this->store_->collection_exists(this->c_));
  EXPECT_FALSE(this->store_->collection_exists(other));
  Transaction t;
  t.create_collection(this->c_);
  EXPECT_EQ(this->apply(std::move(t)).code(), Errc::kExists);
  Transaction t2;
  t2.create_collection(other);
  ASSERT_TRUE(this->apply(std::move(t2)).ok());
  auto list = this->store_->list_collections();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<CollectionId>{this->c_, other}));
  ASSERT_TRUE(this->write(oid("a"), 0, "x").ok());
  Transaction t3;
  t3.remove_collection(this->c_);
  EXPECT_EQ(this->apply(std::move(t3)).code(), Errc::kBusy);
  Transaction t4;
  t4.remove_collection(other);
  ASSERT_TRUE(this->apply(std::move(t4)).ok());
  EXPECT_FALSE(this->store_->collection_exists(other));
  Transaction t5;
  t5.write(other, oid("b"), 0, bl("y"));
  EXPECT_EQ(this->apply(std::move(t5)).code(), Errc::kNotFound);
}

TYPED_TEST(ObjectStoreTest, WriteReadStatUnalignedAndSparse) {
  ObjectId o = oid("obj");
  std::string a = pattern(10000, 'a');
  ASSERT_TRUE(this->write(o, 100, a).ok());
  std::string expect(100, '\0');
  expect += a;
  EXPECT_EQ(this->read_all(o), expect);
  auto st = this->store_->stat(this->c_, o);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 10100u);
  // A hole far away reads as zeros; the tail is written.
  ASSERT_TRUE(this->write(o, 100000, "tail").ok());
  auto hole = this->store_->read(this->c_, o, 20000, 5000);
  ASSERT_TRUE(hole.ok());
  EXPECT_EQ(hole->to_string(), std::string(5000, '\0'));
  auto r = this->store_->read(this->c_, o, 99998, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->to_string(), std::string(2, '\0') + "tail");
  auto past = this->store_->read(this->c_, o, 200000, 10);
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->empty());
  EXPECT_EQ(this->store_->read(this->c_, oid("none"), 0, 0).code(), Errc::kNotFound);
  this->remount();
  auto r2 = this->store_->read(this->c_, o, 100, 10000);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->to_string(), a);
}

TYPED_TEST(ObjectStoreTest, SmallAndLargeOverwrites) {
  ObjectId o = oid("ow");
  std::string base = pattern(64 * 1024, 'b');
  ASSERT_TRUE(this->write(o, 0, base).ok());
  // Small overwrite inside allocated blocks (the deferred path in BlockStore).
  ASSERT_TRUE(this->write(o, 5000, "hello").ok());
  base.replace(5000, 5, "hello");
  // Large overwrite spanning blocks (fresh extents).
  std::string big = pattern(40000, 'z');
  ASSERT_TRUE(this->write(o, 12345, big).ok());
  base.replace(12345, big.size(), big);
  EXPECT_EQ(this->read_all(o), base);
  this->remount();
  EXPECT_EQ(this->read_all(o), base);
  ASSERT_TRUE(this->write(o, 4095, "XY").ok());
  base.replace(4095, 2, "XY");
  EXPECT_EQ(this->read_all(o), base);
}

TYPED_TEST(ObjectStoreTest, ZeroAndTruncate) {
  ObjectId o = oid("zt");
  std::string data = pattern(30000, 'q');
  ASSERT_TRUE(this->write(o, 0, data).ok());
  Transaction t;
  t.zero(this->c_, o, 1000, 12000);
  ASSERT_TRUE(this->apply(std::move(t)).ok());
  std::fill(data.begin() + 1000, data.begin() + 13000, '\0');
  EXPECT_EQ(this->read_all(o), data);
  Transaction t2;
  t2.truncate(this->c_, o, 5000);
  ASSERT_TRUE(this->apply(std::move(t2)).ok());
  Transaction t3;
  t3.truncate(this->c_, o, 9000);  // grows: the bytes after 5000 must read as zero
  ASSERT_TRUE(this->apply(std::move(t3)).ok());
  std::string expect = data.substr(0, 5000) + std::string(4000, '\0');
  EXPECT_EQ(this->read_all(o), expect);
  this->remount();
  EXPECT_EQ(this->read_all(o), expect);
  auto st = this->store_->stat(this->c_, o);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 9000u);
}

TYPED_TEST(ObjectStoreTest, EmptyWritesCreateButDoNotExtend) {
  ObjectId o = oid("empty");
  Transaction t;
  t.write(this->c_, o, 9000, BufferList()).zero(this->c_, o, 20000, 0);
  ASSERT_TRUE(this->apply(std::move(t)).ok());
  auto st = this->store_->stat(this->c_, o);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 0u);
  // A one-byte tail past a hole: the hole reads as zeros.
  ASSERT_TRUE(this->write(o, 8191, "z").ok());
  EXPECT_EQ(this->read_all(o), std::string(8191, '\0') + "z");
}

TYPED_TEST(ObjectStoreTest, RemoveAndTouch) {
  ObjectId o = oid("rm");
  Transaction t;
  t.touch(this->c_, o);
  ASSERT_TRUE(this->apply(std::move(t)).ok());
  auto st = this->store_->stat(this->c_, o);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 0u);
  ASSERT_TRUE(this->write(o, 0, pattern(9000, 'r')).ok());
  Transaction t2;
  t2.remove(this->c_, o);
  ASSERT_TRUE(this->apply(std::move(t2)).ok());
  EXPECT_EQ(this->store_->stat(this->c_, o).code(), Errc::kNotFound);
  Transaction t3;
  t3.remove(this->c_, o);
  EXPECT_EQ(this->apply(std::move(t3)).code(), Errc::kNotFound);
  // Re-creating starts empty: no data, xattrs or omap survive.
  Transaction t4;
  t4.touch(this->c_, o);
  ASSERT_TRUE(this->apply(std::move(t4)).ok());
  EXPECT_EQ(this->read_all(o), "");
}

TYPED_TEST(ObjectStoreTest, Xattrs) {
  ObjectId o = oid("xa");
  Transaction bad;
  bad.setattrs(this->c_, o, {{"k", bl("v")}});
  EXPECT_EQ(this->apply(std::move(bad)).code(), Errc::kNotFound);
  Transaction t;
  t.touch(this->c_, o).setattrs(this->c_, o, {{"a", bl("1")}, {"b", bl("22")}, {"_", bl("")}});
  ASSERT_TRUE(this->apply(std::move(t)).ok());
  auto v = this->store_->getattr(this->c_, o, "b");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->to_string(), "22");
  Transaction t2;
  t2.rmattr(this->c_, o, "a");
  ASSERT_TRUE(this->apply(std::move(t2)).ok());
  EXPECT_EQ(this->store_->getattr(this->c_, o, "a").code(), Errc::kNotFound);
  Transaction t3;
  t3.rmattr(this->c_, o, "zzz");
  EXPECT_EQ(this->apply(std::move(t3)).code(), Errc::kNotFound);
  this->remount();
  auto all = this->store_->getattrs(this->c_, o);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(all->at("b").to_string(), "22");
  EXPECT_EQ(all->at("_").to_string(), "");
}

TYPED_TEST(ObjectStoreTest, OmapKeysRangesHeader) {
  ObjectId o = oid("om");
  Transaction t;
  AttrMap kvs;
  for (int i = 0; i < 20; ++i) kvs["k" + std::to_string(100 + i)] = bl("v" + std::to_string(i));
  t.touch(this->c_, o).omap_setkeys(this->c_, o, kvs).omap_setheader(this->c_, o, bl("hdr"));
  ASSERT_TRUE(this->apply(std::move(t)).ok());
  auto vals = this->store_->omap_get_values(this->c_, o, {"k105", "nope", "k119"});
  ASSERT_TRUE(vals.ok());
  ASSERT_EQ(vals->size(), 2u);
  EXPECT_EQ(vals->at("k105").to_string(), "v5");
  auto page = this->store_->omap_list(this->c_, o, "k110", 4);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries.size(), 4u);
  EXPECT_EQ(page->entries[0].first, "k110");
  EXPECT_EQ(page->entries[3].first, "k113");
  EXPECT_TRUE(page->more);
  Transaction t2;
  t2.omap_rmkeys(this->c_, o, {"k100", "k101"}).omap_rmrange(this->c_, o, "k110", "k118");
  ASSERT_TRUE(this->apply(std::move(t2)).ok());
  this->remount();
  auto rest = this->store_->omap_list(this->c_, o, "", 100);
  ASSERT_TRUE(rest.ok());
  std::vector<std::string> keys;
  for (auto& [k, v] : rest->entries) keys.push_back(k);
  std::vector<std::string> want{"k102", "k103", "k104", "k105", "k106",
                                "k107", "k108", "k109", "k118", "k119"};
  EXPECT_EQ(keys, want);
  EXPECT_FALSE(rest->more);
  auto h = this->store_->omap_get_header(this->c_, o);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->to_string(), "hdr");
  Transaction t3;
  t3.omap_clear(this->c_, o);
  ASSERT_TRUE(this->apply(std::move(t3)).ok());
  auto empty = this->store_->omap_list(this->c_, o, "", 100);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->entries.empty());
  EXPECT_EQ(this->store_->omap_get_header(this->c_, o)->to_string(), "");
}

TYPED_TEST(ObjectStoreTest, CloneIsAnIndependentCopy) {
  ObjectId src = oid("src"), dst = oid("dst");
  std::string data = pattern(20000, 'c');
  Transaction t;
  t.write(this->c_, src, 0, bl(data))
      .setattrs(this->c_, src, {{"x", bl("1")}})
      .omap_setkeys(this->c_, src, {{"ok", bl("ov")}})
      .omap_setheader(this->c_, src, bl("H"));
  ASSERT_TRUE(this->apply(std::move(t)).ok());
  ASSERT_TRUE(this->write(dst, 0, "old contents longer than nothing").ok());
  Transaction t2;
  t2.clone(this->c_, src, dst);
  ASSERT_TRUE(this->apply(std::move(t2)).ok());
  ASSERT_TRUE(this->write(src, 0, "changed").ok());
  EXPECT_EQ(this->read_all(dst), data);
  EXPECT_EQ(this->store_->getattr(this->c_, dst, "x")->to_string(), "1");
  EXPECT_EQ(this->store_->omap_get_values(this->c_, dst, {"ok"})->at("ok").to_string(), "ov");
  EXPECT_EQ(this->store_->omap_get_header(this->c_, dst)->to_string(), "H");
  Transaction t3;
  t3.remove(this->c_, src);
  ASSERT_TRUE(this->apply(std::move(t3)).ok());
  this->remount();
  EXPECT_EQ(this->read_all(dst), data);
  EXPECT_EQ(this->store_->omap_get_values(this->c_, dst, {"ok"})->size(), 1u);
}

TYPED_TEST(ObjectStoreTest, CloneSeesEarlierChangesInTheSameTransaction) {
  ObjectId src = oid("s2"), dst = oid("d2");
  Transaction t;
  t.touch(this->c_, src).omap_setkeys(this->c_, src, {{"a", bl("1")}, {"b", bl("2")}, {"c", bl("3")}});
  ASSERT_TRUE(this->apply(std::move(t)).ok());
  Transaction t2;
  t2.omap_rmrange(this->c_, src, "b", "c")
      .omap_setkeys(this->c_, src, {{"d", bl("4")}})
      .omap_setheader(this->c_, src, bl("h2"))
      .write(this->c_, src, 0, bl("fresh"))
      .clone(this->c_, src, dst)
      .omap_rmkeys(this->c_, src, {"a"});
  ASSERT_TRUE(this->apply(std::move(t2)).ok());
  auto page = this->store_->omap_list(this->c_, dst, "", 10);
  ASSERT_TRUE(page.ok());
  std::vector<std::string> keys;
  for (auto& [k, v] : page->entries) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(this->store_->omap_get_header(this->c_, dst)->to_string(), "h2");
  EXPECT_EQ(this->read_all(dst), "fresh");
  EXPECT_EQ(this->store_->omap_get_values(this->c_, src, {"a"})->size(), 0u);
}

TYPED_TEST(ObjectStoreTest, MoveBetweenCollections) {
  CollectionId child{1, 0x6a};
  ObjectId o = oid("mv", 0x40);
  Transaction t;
  t.create_collection(child)
      .write(this->c_, o, 0, bl("moving data"))
      .setattrs(this->c_, o, {{"a", bl("b")}})
      .omap_setkeys(this->c_, o, {{"k", bl("v")}});
  ASSERT_TRUE(this->apply(std::move(t)).ok());
  ASSERT_TRUE(this->write(oid("blocker"), 0, "b").ok());
  Transaction clash;
  clash.move(this->c_, o, this->c_, oid("blocker"));
  EXPECT_EQ(this->apply(std::move(clash)).code(), Errc::kExists);
  Transaction t2;
  t2.move(this->c_, o, child, o);
  ASSERT_TRUE(this->apply(std::move(t2)).ok());
  EXPECT_EQ(this->store_->stat(this->c_, o).code(), Errc::kNotFound);
  this->remount();
  auto r = this->store_->read(child, o, 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->to_string(), "moving data");
  EXPECT_EQ(this->store_->getattr(child, o, "a")->to_string(), "b");
  EXPECT_EQ(this->store_->omap_get_values(child, o, {"k"})->size(), 1u);
}

TYPED_TEST(ObjectStoreTest, FailedTransactionLeavesNoTrace) {
  ObjectId o = oid("atomic");
  ASSERT_TRUE(this->write(o, 0, "before").ok());
  Transaction t;
  t.write(this->c_, o, 0, bl(pattern(50000, 'n')))
      .setattrs(this->c_, o, {{"a", bl("1")}})
      .create_collection(CollectionId{9, 9})
      .remove(this->c_, oid("missing"));
  EXPECT_EQ(this->apply(std::move(t)).code(), Errc::kNotFound);
  EXPECT_EQ(this->read_all(o), "before");
  EXPECT_EQ(this->store_->getattr(this->c_, o, "a").code(), Errc::kNotFound);
  EXPECT_FALSE(this->store_->collection_exists(CollectionId{9, 9}));
}

TYPED_TEST(ObjectStoreTest, ListingIsSortedByHashThenNameWithCursor) {
  std::vector<ObjectId> all;
  Transaction t;
  for (int i = 0; i < 25; ++i) {
    ObjectId o = oid("n" + std::to_string(i % 5), static_cast<uint32_t>((i * 2654435761u) >> 8));
    o.snap = i % 3 == 0 ? 5 : kHeadSnap;
    o.nspace = i % 4 == 0 ? "ns" : "";
    all.push_back(o);
    t.touch(this->c_, o);
  }
  ASSERT_TRUE(this->apply(std::move(t)).ok());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::vector<ObjectId> seen;
  ObjectId cursor = ObjectId::min();
  for (int pages = 0; pages < 100; ++pages) {
    auto page = this->store_->list_objects(this->c_, cursor, 4);
    ASSERT_TRUE(page.ok());
    EXPECT_LE(page->objects.size(), 4u);
    seen.insert(seen.end(), page->objects.begin(), page->objects.end());
    if (!page->next) break;
    cursor = *page->next;
  }
  EXPECT_EQ(seen, all);
}

TYPED_TEST(ObjectStoreTest, ManyTransactionsInFlightCommitInOrder) {
  constexpr int kCount = 300;
  std::mutex mu;
  std::vector<int> order;
  std::atomic<int> failures{0};
  for (int i = 0; i < kCount; ++i) {
    Transaction t;
    ObjectId o = oid("f" + std::to_string(i % 37));
    t.write(this->c_, o, static_cast<uint64_t>(i % 7) * 3000, bl(pattern(1000 + i * 37 % 9000, char(i))));
    t.omap_setkeys(this->c_, o, {{"last", bl(std::to_string(i))}});
    this->store_->queue_transaction(this->c_, std::move(t), [&, i](Status st) {
      if (!st.ok()) failures++;
      std::lock_guard lock(mu);
      order.push_back(i);
    });
  }
  ASSERT_TRUE(this->store_->flush().ok());
  EXPECT_EQ(failures.load(), 0);
  std::lock_guard lock(mu);
  ASSERT_EQ(order.size(), static_cast<size_t>(kCount));
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  auto v = this->store_->omap_get_values(this->c_, oid("f0"), {"last"});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->at("last").to_string(), std::to_string((kCount - 1) / 37 * 37));
}

TYPED_TEST(ObjectStoreTest, StatfsTracksUsage) {
  auto before = this->store_->statfs();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(this->write(oid("s"), 0, pattern(1 << 20, 's')).ok());
  auto after = this->store_->statfs();
  ASSERT_TRUE(after.ok());
  EXPECT_GE(after->used, before->used + (1 << 20));
  EXPECT_EQ(after->total, before->total);
  Transaction t;
  t.remove(this->c_, oid("s"));
  ASSERT_TRUE(this->apply(std::move(t)).ok());
  ASSERT_TRUE(this->store_->flush().ok());
  auto freed = this->store_->statfs();
  ASSERT_TRUE(freed.ok());
  EXPECT_EQ(freed->used, before->used);
}

}  // namespace
}  // namespace cairn::store
