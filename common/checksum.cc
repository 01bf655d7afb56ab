#include "common/checksum.h"

#include <isa-l/crc.h>
#include <xxhash.h>

#include "common/buffer.h"

namespace cairn {

uint32_t crc32c(uint32_t crc, const void* data, size_t len) {
  // ISA-L's crc32_iscsi applies no pre/post inversion; do it here so the value is
  // the standard one (and chaining works by passing the previous result).
  return ~crc32_iscsi(static_cast<unsigned char*>(const_cast<void*>(data)), static_cast<int>(len), ~crc);
}

uint32_t crc32c(uint32_t crc, const BufferList& bl) {
  for (const auto& seg : bl.segments()) crc = crc32c(crc, seg.data(), seg.size());
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
