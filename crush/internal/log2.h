// Fixed-point -log2 for straw2 draws: no floating point on the mapping path.
//
// neg_log2_q32(h) returns -log2(u) in Q32 (32 fractional bits) for the uniform
// value u = (h | 1) / 2^64 in (0, 1). It reads log2 of the mantissa from a 4097
// entry table (log2(1 + i/4096), built at compile time by exact integer
// squaring) and interpolates linearly with the next 32 mantissa bits: the error
// is below 1.1e-8 (the table's curvature bound h^2/8 * max|f''|), and the result
// is non-increasing in h, so ties are broken consistently (see draw.h).
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace cairn::crush::internal {

inline constexpr int kLog2TableBits = 12;
inline constexpr uint32_t kLog2TableSize = (1u << kLog2TableBits) + 1;

// log2(y) for y in [1, 2) given in Q62, as Q32, by the bit-by-bit squaring method:
// each squaring doubles the logarithm and a carry past 2 is the next bit.
constexpr uint64_t log2_q32_of_q62(uint64_t y) {
  uint64_t result = 0;
  constexpr uint64_t kTwo = 1ull << 63;
  for (int bit = 1; bit <= 34; ++bit) {  // two guard bits, then round
    unsigned __int128 sq = static_cast<unsigned __int128>(y) * y;
    y = static_cast<uint64_t>(sq >> 62);
    result <<= 1;
    if (y >= kTwo) {
      y >>= 1;
      result |= 1;
    }
  }
  return (result + 2) >> 2;
}

constexpr std::array<uint64_t, kLog2TableSize> make_log2_table() {
  std::array<uint64_t, kLog2TableSize> t{};
  for (uint32_t i = 0; i < kLog2TableSize - 1; ++i)
    t[i] = log2_q32_of_q62((1ull << 62) + (static_cast<uint64_t>(i) << (62 - kLog2TableBits)));
  t[kLog2TableSize - 1] = 1ull << 32;
  return t;
}

inline constexpr std::array<uint64_t, kLog2TableSize> kLog2Table = make_log2_table();

// -log2((h | 1) / 2^64) in Q32; in (0, 64 << 32].
inline uint64_t neg_log2_q32(uint64_t h) {
  uint64_t v = h | 1;
  int n = 63 - std::countl_zero(v);      // v = 2^n * m, m in [1, 2)
  uint64_t frac = (v << (63 - n)) << 1;  // the 64 bits of m after the point
  uint32_t idx = static_cast<uint32_t>(frac >> (64 - kLog2TableBits));
  uint64_t rem = (frac << kLog2TableBits) >> 32;  // next 32 bits
  uint64_t lo = kLog2Table[idx];
  uint64_t lg = lo + (((kLog2Table[idx + 1] - lo) * rem) >> 32);
  return (static_cast<uint64_t>(64 - n) << 32) - lg;
}

}  // namespace cairn::crush::internal
