// Checksums behind one small interface: crc32c (ISA-L) for data integrity on disk
// and on the wire, xxh3 (xxHash) for fast hashing of names and digests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cairn {

class BufferList;

// Standard CRC-32C (Castagnoli; check value 0xE3069283 for "123456789").
// Chainable: crc32c(crc32c(0, a), b) == crc32c(0, a + b).
uint32_t crc32c(uint32_t crc, const void* data, size_t len);
inline uint32_t crc32c(std::string_view s) { return crc32c(0, s.data(), s.size()); }
// The crc32c of a BufferList. A segment lying on 4 KiB blocks of a payload buffer
// whose block crcs are known (buffer.h: set_block_crcs) costs a combine per block,
// not a pass over its bytes.
uint32_t crc32c(uint32_t crc, const BufferList& bl);

// crc32c(0, A + B) from crc_a = crc32c(0, A), crc_b = crc32c(0, B) and B's length,
// without the bytes: crc_a is multiplied by x^(8 len_b) modulo the polynomial.
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b);
// The same for many blocks of kCrcBlock bytes (one precomputed operator).
inline constexpr size_t kCrcBlock = 4096;
uint32_t crc32c_append_blocks(uint32_t crc, const uint32_t* block_crcs, size_t n);

// XXH3, 64-bit.
uint64_t xxh3_64(const void* data, size_t len, uint64_t seed = 0);
inline uint64_t xxh3_64(std::string_view s, uint64_t seed = 0) { return xxh3_64(s.data(), s.size(), seed); }

enum class ChecksumType : uint8_t { kNone = 0, kCrc32c = 1, kXxh3 = 2 };

// One entry point for code that stores the checksum type next to the value.
uint64_t checksum(ChecksumType type, const void* data, size_t len);

}  // namespace cairn
