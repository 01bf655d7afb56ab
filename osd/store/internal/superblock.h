// The BlockStore superblock: device block 0 (4 KiB), also copied into RocksDB
// under key 'S' so that mount refuses a device and a database that belong to
// different stores.
//
// Layout of block 0 (little-endian):
//   0   8  magic "CAIRNBS\0"
//   8   4  u32 length L of the encoded body
//   12  4  u32 crc32c of the body
//   16  L  body: versioned struct v1 { u32 format_version | u64 uuid_hi | u64 uuid_lo |
//                 u64 device_bytes | u32 block_size | u64 data_start_block | u64 created_ns }
//   ..     zero up to 4096
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/encoding.h"
#include "common/status.h"

namespace cairn::store {

inline constexpr uint32_t kFormatVersion = 1;
// Blocks 0..15 (64 KiB) are reserved: the superblock and room for a label later.
inline constexpr uint64_t kDataStartBlock = 16;

struct Superblock {
  uint32_t format_version = kFormatVersion;
  uint64_t uuid_hi = 0;
  uint64_t uuid_lo = 0;
  uint64_t device_bytes = 0;
  uint32_t block_size = 4096;
  uint64_t data_start_block = kDataStartBlock;
  uint64_t created_ns = 0;

  uint64_t total_blocks() const { return device_bytes / block_size; }
  std::string uuid_string() const;

  void encode(Encoder& e) const;
  void decode(Decoder& d);
  // The 4 KiB image of device block 0.
  std::string to_block() const;
  // Parses and checks device block 0 (magic, crc, version, geometry).
  static Result<Superblock> from_block(std::string_view block);

  bool same_identity(const Superblock& o) const {
    return uuid_hi == o.uuid_hi && uuid_lo == o.uuid_lo && device_bytes == o.device_bytes;
  }
};

}  // namespace cairn::store
