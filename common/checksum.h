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
uint32_t crc32c(uint32_t crc, const BufferList& bl);

// XXH3, 64-bit.
uint64_t xxh3_64(const void* data, size_t len, uint64_t seed = 0);
inline uint64_t xxh3_64(std::string_view s, uint64_t seed = 0) { return xxh3_64(s.data(), s.size(), seed); }

enum class ChecksumType : uint8_t { kNone = 0, kCrc32c = 1, kXxh3 = 2 };

// One entry point for code that stores the checksum type next to the value.
uint64_t checksum(ChecksumType type, const void* data, size_t len);

}  // namespace cairn
