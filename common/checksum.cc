#include "common/checksum.h"

#include <isa-l/crc.h>
#include <xxhash.h>

#include <vector>

#include "common/buffer.h"

namespace cairn {

uint32_t crc32c(uint32_t crc, const void* data, size_t len) {
  // ISA-L's crc32_iscsi applies no pre/post inversion; do it here so the value is
  // the standard one (and chaining works by passing the previous result).
  return ~crc32_iscsi(static_cast<unsigned char*>(const_cast<void*>(data)), static_cast<int>(len), ~crc);
}

namespace {

// Arithmetic on polynomials over GF(2) modulo the CRC-32C polynomial, in the
// reflected bit order the crc uses (bit 31 is x^0).
constexpr uint32_t kPolyReflected = 0x82F63B78u;

uint32_t mul_mod_p(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
    if (a & m) {
      product ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    b = (b & 1) ? (b >> 1) ^ kPolyReflected : b >> 1;
  }
  return product;
}

// x^(2^k) mod p for k = 0..63 (the powers cycle well before 64).
struct PowersOfX {
  uint32_t v[64];
  PowersOfX() {
    uint32_t p = 1u << 30;  // x^1
    for (auto& e : v) {
      e = p;
      p = mul_mod_p(p, p);
    }
  }
};

// x^(8 n) mod p: the operator that moves a crc past n zero bytes.
uint32_t x_pow_8n(uint64_t n) {
  static const PowersOfX powers;
  uint32_t r = 1u << 31;  // x^0
  for (unsigned k = 3; n != 0; n >>= 1, ++k) {
    if (n & 1) r = mul_mod_p(powers.v[k & 63], r);
  }
  return r;
}

}  // namespace

uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b) {
  return mul_mod_p(x_pow_8n(len_b), crc_a) ^ crc_b;
}

uint32_t crc32c_append_blocks(uint32_t crc, const uint32_t* block_crcs, size_t n) {
  static const uint32_t op = x_pow_8n(kCrcBlock);
  for (size_t i = 0; i < n; ++i) crc = mul_mod_p(op, crc) ^ block_crcs[i];
  return crc;
}

uint32_t crc32c(uint32_t crc, const BufferList& bl) {
  // Only payload-sized segments can carry remembered crcs: small ones skip the pool's lock.
  std::vector<uint32_t> known;
  for (const auto& seg : bl.segments()) {
    size_t n = seg.size() / kCrcBlock;
    if (seg.size() >= kPayloadMinBytes && seg.size() % kCrcBlock == 0 &&
        get_block_crcs(seg.data(), n, known)) {
      crc = crc32c_append_blocks(crc, known.data(), n);
    } else {
      crc = crc32c(crc, seg.data(), seg.size());
    }
  }
  return crc;
}

uint64_t xxh3_64(const void* data, size_t len, uint64_t seed) {
  return XXH3_64bits_withSeed(data, len, seed);
}

uint64_t checksum(ChecksumType type, const void* data, size_t len) {
  switch (type) {
    case ChecksumType::kCrc32c: return crc32c(0, data, len);
    case ChecksumType::kXxh3: return xxh3_64(data, len);
    case ChecksumType::kNone: return 0;
  }
  return 0;
}

}  // namespace cairn
