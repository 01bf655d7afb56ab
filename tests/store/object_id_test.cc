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

// A large write's bytes land at a 4 KiB multiple of the encoding: decoded from a
// page-aligned buffer (a received message's data segment) they are shared, aligned,
// and go to O_DIRECT without a copy. Small writes are not padded.
TEST(Transaction, LargeWriteDataIsBlockAlignedInTheEncoding) {
  Transaction t;
  CollectionId c{1, 2};
  std::string big1(256 * 1024, 'a'), big2(100 * 1024 + 3, 'b');
  t.write(c, ObjectId{5, "", "small"}, 0, BufferList::copy_of("tiny"))
      .write(c, ObjectId{5, "", "one"}, 4096, BufferList::copy_of(big1))
      .setattrs(c, ObjectId{5, "", "one"}, {{"_", BufferList::copy_of("info")}})
      .write(c, ObjectId{5, "", "two"}, 0, BufferList::copy_of(big2));
  BufferList enc = encode_to_buffer(t);
  EXPECT_LT(enc.size(), big1.size() + big2.size() + 3 * 4096);
  BufferPtr page = BufferPtr::create_aligned(enc.size());
  enc.copy_out(0, enc.size(), page.data());
  auto d = decode_from<Transaction>(BufferList(page));
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ASSERT_EQ(d->ops().size(), 4u);
  for (size_t i : {size_t{1}, size_t{3}}) {
    const BufferList& data = d->ops()[i].data;
    ASSERT_EQ(data.segments().size(), 1u) << i;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(data.segments()[0].data()) % 4096, 0u) << i;
    EXPECT_GE(data.segments()[0].data(), page.data()) << "shared, not copied";
    EXPECT_LT(data.segments()[0].data(), page.data() + page.size());
  }
  EXPECT_TRUE(d->ops()[1].data == big1);
  EXPECT_TRUE(d->ops()[3].data == big2);
  EXPECT_EQ(d->ops()[0].data.to_string(), "tiny");
  EXPECT_EQ(d->ops()[2].kvs.at("_").to_string(), "info");
  // A padding count of a whole block or more is corrupt, not a reason to skip ahead.
  std::string bad = enc.to_string();
  size_t at = bad.find(std::string(64, 'a'));
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(at % 4096, 0u);
  // Layout: u16 n, n zero bytes, u32 length, data. Find the n that says so.
  size_t pad_at = 0;
  // (Downwards: the zero padding itself reads as a count of 0.)
  for (size_t n = 4095; n + 1 > 0 && pad_at == 0; --n) {
    size_t p = at - 4 - n - 2;
    if (static_cast<size_t>(static_cast<uint8_t>(bad[p]) | static_cast<uint8_t>(bad[p + 1]) << 8) == n)
      pad_at = p;
  }
  ASSERT_NE(pad_at, 0u);
  bad[pad_at] = '\xff';
  bad[pad_at + 1] = '\xff';
  EXPECT_FALSE(decode_from<Transaction>(bad).ok());
}

}  // namespace
}  // namespace cairn::store
