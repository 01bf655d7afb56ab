// The fixed-point log behind straw2 draws: accurate, monotone, integer only.
#include "crush/internal/log2.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <random>

#include "crush/internal/hash.h"

namespace cairn::crush::internal {
namespace {

double exact_neg_log2(uint64_t h) {
  return -std::log2(static_cast<long double>(h | 1) / 18446744073709551616.0L);
}

TEST(CrushLog2, TableEndpoints) {
  EXPECT_EQ(kLog2Table[0], 0u);
  EXPECT_EQ(kLog2Table[kLog2TableSize - 1], 1ull << 32);
  EXPECT_EQ(kLog2Table[2048], 2512394810u);  // log2(1.5) * 2^32, rounded
  for (uint32_t i = 1; i < kLog2TableSize; ++i) ASSERT_GT(kLog2Table[i], kLog2Table[i - 1]);
}

TEST(CrushLog2, AccurateToOneHundredMillionth) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    uint64_t h = rng() >> (rng() % 64);
    double got = static_cast<double>(neg_log2_q32(h)) / 4294967296.0;
    ASSERT_NEAR(got, exact_neg_log2(h), 2e-8) << h;
  }
  EXPECT_EQ(neg_log2_q32(0), 64ull << 32);
  EXPECT_GE(neg_log2_q32(~0ull), 1u);
}

TEST(CrushLog2, NonIncreasing) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 200000; ++i) {
    uint64_t a = rng(), b = a + (rng() % 4096);
    if (b < a) continue;
    ASSERT_GE(neg_log2_q32(a), neg_log2_q32(b));
  }
}

TEST(CrushHash, PinnedValues) {
  // Placement must never change under a compiler or platform: pin the hash.
  EXPECT_EQ(mix64(0), 0u);
  EXPECT_EQ(draw_hash(1, 2, 0), mix64((1ull << 32) | 2));
  EXPECT_NE(draw_hash(1, 2, salt_for(1)), draw_hash(1, 2, 0));
}

TEST(CrushHash, Avalanche) {
  // Flipping any one input bit flips each output bit with probability ~1/2.
  std::mt19937_64 rng(13);
  const int kSamples = 4000;
  for (int bit = 0; bit < 64; ++bit) {
    std::array<int, 64> flips{};
    for (int i = 0; i < kSamples; ++i) {
      uint64_t v = rng();
      uint64_t d = mix64(v) ^ mix64(v ^ (1ull << bit));
      for (int o = 0; o < 64; ++o) flips[static_cast<size_t>(o)] += static_cast<int>((d >> o) & 1);
    }
    for (int o = 0; o < 64; ++o) {
      // Binomial(4000, 1/2): sd 31.6; 6 sd = 190.
      ASSERT_NEAR(flips[static_cast<size_t>(o)], kSamples / 2, 190) << "in bit " << bit << " out bit " << o;
    }
  }
}

}  // namespace
}  // namespace cairn::crush::internal
