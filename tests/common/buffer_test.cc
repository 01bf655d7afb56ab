#include "common/buffer.h"

#include <gtest/gtest.h>

#include <cstring>

namespace cairn {
namespace {

TEST(BufferPtr, CreateSliceAligned) {
  auto p = BufferPtr::copy_of("hello world");
  EXPECT_EQ(p.view(), "hello world");
  EXPECT_EQ(p.slice(6, 5).view(), "world");
  EXPECT_EQ(p.slice(6, 100).view(), "world");  // clamped
  EXPECT_TRUE(p.slice(100, 1).empty());
  auto a = BufferPtr::create_aligned(8192);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % kDirectIoAlign, 0u);
  auto z = BufferPtr::zeroed(100);
  for (size_t i = 0; i < 100; ++i) EXPECT_EQ(z.data()[i], 0);
}

TEST(BufferList, ZeroCopyAppendSharesMemory) {
  auto p = BufferPtr::copy_of("abcdef");
  BufferList bl;
  bl.append(p);
  bl.append(p.slice(0, 3));
  EXPECT_EQ(bl.size(), 9u);
  EXPECT_EQ(bl.to_string(), "abcdefabc");
  // Same memory, not a copy.
  EXPECT_EQ(bl.segments()[0].data(), p.data());
}

TEST(BufferList, AdjacentSlicesMerge) {
  auto p = BufferPtr::copy_of("abcdef");
  BufferList bl;
  bl.append(p.slice(0, 2));
  bl.append(p.slice(2, 4));
  EXPECT_EQ(bl.num_segments(), 1u);
  EXPECT_EQ(bl.to_string(), "abcdef");
}

TEST(BufferList, CopyingAppendUsesTailAndNeverOverwrites) {
  BufferList bl;
  bl.append("abc", 3);
  bl.append("def", 3);
  EXPECT_EQ(bl.num_segments(), 1u);
  // Appending a slice of itself, then more bytes, must not clobber earlier bytes.
  bl.append(bl.slice(0, 2));
  bl.append("XYZ", 3);
  EXPECT_EQ(bl.to_string(), "abcdefabXYZ");
  // A copy of the list must not write into the original's tail.
  BufferList copy = bl;
  copy.append("123", 3);
  bl.append("456", 3);
  EXPECT_EQ(copy.to_string(), "abcdefabXYZ123");
  EXPECT_EQ(bl.to_string(), "abcdefabXYZ456");
}

TEST(BufferList, SliceCopyOutTrim) {
  BufferList bl;
  bl.append(BufferPtr::copy_of("0123"));
  bl.append(BufferPtr::copy_of("4567"));
  bl.append(BufferPtr::copy_of("89"));
  EXPECT_EQ(bl.slice(2, 5).to_string(), "23456");
  EXPECT_EQ(bl.slice(8, 50).to_string(), "89");
  EXPECT_TRUE(bl.slice(10, 1).empty());
  char buf[4];
  EXPECT_EQ(bl.copy_out(3, 4, buf), 4u);
  EXPECT_EQ(std::string(buf, 4), "3456");
  bl.trim_front(5);
  EXPECT_EQ(bl.to_string(), "56789");
  EXPECT_EQ(bl.size(), 5u);
}

TEST(BufferList, IovecsAndEquality) {
  BufferList a;
  a.append(BufferPtr::copy_of("ab"));
  a.append(BufferPtr::copy_of("cde"));
  std::vector<iovec> iov;
  a.to_iovecs(iov);
  ASSERT_EQ(iov.size(), 2u);
  EXPECT_EQ(iov[0].iov_len + iov[1].iov_len, 5u);
  BufferList b = BufferList::copy_of("abcde");
  EXPECT_TRUE(a == b);
  EXPECT_TRUE(a == std::string_view("abcde"));
  EXPECT_FALSE(a == std::string_view("abcdf"));
}

TEST(BufferList, RebuildAligned) {
  BufferList bl;
  bl.append(BufferPtr::copy_of(std::string(3000, 'x')));
  bl.append(BufferPtr::copy_of(std::string(1096, 'y')));
  EXPECT_FALSE(bl.is_aligned());
  const BufferPtr& p = bl.rebuild_aligned();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p.data()) % kDirectIoAlign, 0u);
  EXPECT_EQ(bl.size(), 4096u);
  EXPECT_TRUE(bl.is_aligned());
  EXPECT_EQ(bl.to_string(), std::string(3000, 'x') + std::string(1096, 'y'));
}

TEST(BufferList, MoveLeavesSourceEmpty) {
  BufferList a = BufferList::copy_of("abc");
  a.append("d", 1);
  BufferList b = std::move(a);
  EXPECT_EQ(b.to_string(), "abcd");
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): documented state
  a.append("zz", 2);
  EXPECT_EQ(a.to_string(), "zz");
  EXPECT_EQ(b.to_string(), "abcd");
}

}  // namespace
}  // namespace cairn
