#include "common/buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

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

// Payload-sized buffers come back to the next allocation of their size class, up
// to the budget; beyond it they are unmapped, and a budget of 0 keeps none.
TEST(BufferPool, FreedPayloadBuffersAreReusedWithinTheBudget) {
  constexpr size_t kMiB = 1 << 20;
  set_buffer_pool_limit(0);  // start empty, whatever other tests left
  set_buffer_pool_limit(8 * kMiB);
  const char* first = nullptr;
  {
    BufferPtr a = BufferPtr::create(4 * kMiB + 100);  // a 5 MiB mapping
    std::memset(a.data(), 'x', a.size());
    first = a.data();
  }
  BufferPoolStats s0 = buffer_pool_stats();
  EXPECT_EQ(s0.retained_bytes, 5 * kMiB);
  {
    BufferPtr b = BufferPtr::create_aligned(4 * kMiB + 4096);  // same class, and page-aligned
    EXPECT_EQ(b.data(), first);
    EXPECT_TRUE(BufferList(b).is_aligned());
    EXPECT_EQ(buffer_pool_stats().hits, s0.hits + 1);
    EXPECT_EQ(buffer_pool_stats().retained_bytes, 0u);
    BufferPtr z = BufferPtr::zeroed(2 * kMiB);  // another class: mapped fresh, zeroed
    EXPECT_EQ(buffer_pool_stats().misses, s0.misses + 1);
    EXPECT_EQ(std::count(z.data(), z.data() + z.size(), 0), static_cast<long>(z.size()));
  }
  // Both came back: 5 + 2 MiB fit in 8 MiB.
  EXPECT_EQ(buffer_pool_stats().retained_bytes, 7 * kMiB);
  {
    std::vector<BufferPtr> many;
    for (int i = 0; i < 4; ++i) many.push_back(BufferPtr::create(3 * kMiB));
  }
  EXPECT_LE(buffer_pool_stats().retained_bytes, 8 * kMiB);
  // Small allocations never enter the pool.
  { BufferPtr s = BufferPtr::create(64 * 1024); }
  EXPECT_LE(buffer_pool_stats().retained_bytes, 8 * kMiB);
  set_buffer_pool_limit(0);
  EXPECT_EQ(buffer_pool_stats().retained_bytes, 0u);
  { BufferPtr c = BufferPtr::create(4 * kMiB); }
  EXPECT_EQ(buffer_pool_stats().retained_bytes, 0u);
  set_buffer_pool_limit(64 * kMiB);
}

// Retained buffers go back to the system once a whole trim interval passed
// without a payload-sized allocation; an allocation in between keeps them.
TEST(BufferPool, IdleRetainedBuffersAreUnmappedByTheTrim) {
  constexpr size_t kMiB = 1 << 20;
  set_buffer_pool_limit(0);
  set_buffer_pool_limit(16 * kMiB);
  { BufferPtr a = BufferPtr::create(4 * kMiB); }
  ASSERT_EQ(buffer_pool_stats().retained_bytes, 4 * kMiB);
  EXPECT_EQ(trim_idle_buffer_pool(), 0u) << "an allocation since the last trim: kept";
  { BufferPtr b = BufferPtr::create(4 * kMiB); }  // reuses the retained one
  EXPECT_EQ(trim_idle_buffer_pool(), 0u);
  EXPECT_EQ(buffer_pool_stats().retained_bytes, 4 * kMiB);
  { BufferPtr small = BufferPtr::create(64 * 1024); }  // not a pool allocation
  EXPECT_EQ(trim_idle_buffer_pool(), 4 * kMiB) << "idle for a whole interval: unmapped";
  EXPECT_EQ(buffer_pool_stats().retained_bytes, 0u);
  { BufferPtr c = BufferPtr::create(4 * kMiB); }  // the pool works on afterwards
  EXPECT_EQ(buffer_pool_stats().retained_bytes, 4 * kMiB);
  set_buffer_pool_limit(64 * kMiB);
}

}  // namespace
}  // namespace cairn
