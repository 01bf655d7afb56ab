#include "common/checksum.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// crc(A + B) from crc(A), crc(B) and |B| alone, for lengths around the edges.
TEST(Checksum, Crc32cCombinesWithoutTheBytes) {
  std::string s;
  for (int i = 0; i < 3 * 4096 + 77; ++i) s.push_back(static_cast<char>(i * 131 + (i >> 7)));
  for (size_t cut : {size_t{0}, size_t{1}, size_t{7}, size_t{4095}, size_t{4096}, size_t{9000}, s.size()}) {
    std::string_view a(s.data(), cut), b(s.data() + cut, s.size() - cut);
    EXPECT_EQ(crc32c_combine(crc32c(a), crc32c(b), b.size()), crc32c(s)) << cut;
  }
  uint32_t blocks[3];
  for (int i = 0; i < 3; ++i) blocks[i] = crc32c(0, s.data() + i * 4096, 4096);
  EXPECT_EQ(crc32c_append_blocks(0, blocks, 3), crc32c(std::string_view(s.data(), 3 * 4096)));
  EXPECT_EQ(crc32c_append_blocks(crc32c("head"), blocks, 2), crc32c("head" + s.substr(0, 2 * 4096)));
}

// A BufferList's crc over a pooled segment with remembered block crcs combines
// them (and so trusts them: a buffer is immutable once its crcs are set); other
// segments are read.
TEST(Checksum, Crc32cOfAListUsesRememberedBlockCrcs) {
  constexpr size_t kLen = (1u << 20) + 8192;
  BufferPtr big = BufferPtr::create(kLen);
  for (size_t i = 0; i < kLen; ++i) big.data()[i] = static_cast<char>(i * 7 + (i >> 12));
  std::string copy(big.data(), kLen);
  BufferList bl;
  bl.append(BufferPtr::copy_of("head"));
  bl.append(big.slice(8192, kLen - 8192));
  uint32_t truth = crc32c("head" + copy.substr(8192));
  EXPECT_EQ(crc32c(0, bl), truth);
  std::vector<uint32_t> crcs(kLen / 4096);
  for (size_t i = 0; i < crcs.size(); ++i) crcs[i] = crc32c(0, big.data() + i * 4096, 4096);
  set_block_crcs(big.data(), crcs);
  EXPECT_EQ(crc32c(0, bl), truth);
  crcs[5] ^= 1;  // wrong on purpose: shows the remembered values are what is used
  set_block_crcs(big.data(), crcs);
  EXPECT_NE(crc32c(0, bl), truth);
  // Not a pooled buffer's start: ignored.
  BufferPtr small = BufferPtr::create(8192);
  set_block_crcs(small.data(), {1, 2});
  std::vector<uint32_t> out;
  EXPECT_FALSE(get_block_crcs(small.data(), 1, out));
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
