#include "osd/store/object_id.h"

#include <gtest/gtest.h>

#include "osd/store/transaction.h"

namespace cairn::store {
namespace {

TEST(CollectionId, PrintsAndParses) {
  CollectionId c{3, 0x1f};
  EXPECT_EQ(c.to_string(), "3.1f");
  auto p = CollectionId::parse("3.1f");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, c);
  EXPECT_FALSE(CollectionId::parse("3").ok());
  EXPECT_FALSE(CollectionId::parse("x.1").ok());
  EXPECT_FALSE(CollectionId::parse("3.1g").ok());
}

TEST(ObjectId, SortsByHashThenNamespaceNameSnap) {
  ObjectId a{1, "", "zzz", kHeadSnap}, b{2, "", "aaa", kHeadSnap}, c{2, "", "aaa", 3}, d{2, "x", "a", 0};
  EXPECT_LT(a, b);
  EXPECT_LT(c, b);
  EXPECT_LT(b, d);
  EXPECT_LE(ObjectId::min(), a);
}

TEST(Transaction, EncodesAndDecodes) {
  Transaction t;
  CollectionId c{1, 2};
  t.create_collection(c).write(c, ObjectId{5, "n", "o", 7}, 10, BufferList::copy_of("data"));
  t.omap_setkeys(c, ObjectId{}, {{"k", BufferList::copy_of("v")}})
      .move(c, ObjectId{}, c, ObjectId{1, "", "x"});
  BufferList enc = encode_to_buffer(t);
  auto d = decode_from<Transaction>(enc);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->ops().size(), 4u);
  EXPECT_EQ(d->ops()[1].data.to_string(), "data");
  EXPECT_EQ(d->ops()[1].oid.snap, 7u);
  EXPECT_EQ(d->ops()[3].dst_oid.name, "x");
  EXPECT_EQ(d->data_bytes(), t.data_bytes());
  std::string bad = enc.to_string();
  bad[bad.size() / 2] ^= 0x55;
  bad.resize(bad.size() - 3);
  EXPECT_FALSE(decode_from<Transaction>(bad).ok());
}

}  // namespace
}  // namespace cairn::store
