#include "common/checksum.h"

#include <gtest/gtest.h>

#include "common/buffer.h"

namespace cairn {
namespace {

TEST(Checksum, Crc32cCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Checksum, Crc32cChains) {
  std::string a = "hello ", b = "world";
  EXPECT_EQ(crc32c(crc32c(0, a.data(), a.size()), b.data(), b.size()), crc32c(a + b));
  BufferList bl;
  bl.append(BufferPtr::copy_of(a));
  bl.append(BufferPtr::copy_of(b));
  EXPECT_EQ(crc32c(0, bl), crc32c(a + b));
}

TEST(Checksum, Crc32cDetectsSingleBitFlips) {
  std::string s(4096, 'q');
  uint32_t good = crc32c(s);
  for (size_t bit = 0; bit < s.size() * 8; bit += 97) {
    std::string t = s;
    t[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    EXPECT_NE(crc32c(t), good);
  }
}

TEST(Checksum, Xxh3KnownValuesAndSeed) {
  // XXH3_64bits of the empty input is a published constant.
  EXPECT_EQ(xxh3_64("", 0), 0x2D06800538D394C2ull);
  EXPECT_NE(xxh3_64("abc", 0), xxh3_64("abc", 1));
  EXPECT_EQ(checksum(ChecksumType::kXxh3, "abc", 3), xxh3_64("abc"));
  EXPECT_EQ(checksum(ChecksumType::kCrc32c, "123456789", 9), 0xE3069283u);
}

}  // namespace
}  // namespace cairn
