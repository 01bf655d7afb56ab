#include "osd/store/internal/superblock.h"

#include <cstdio>
#include <cstring>

#include "common/checksum.h"

namespace cairn::store {

namespace {
constexpr char kMagic[8] = {'C', 'A', 'I', 'R', 'N', 'B', 'S', '\0'};
constexpr size_t kHeader = 16;

void put_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
}  // namespace

std::string Superblock::uuid_string() const {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(uuid_hi),
                static_cast<unsigned long long>(uuid_lo));
  return buf;
}

void Superblock::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.u32(format_version);
  e.u64(uuid_hi);
  e.u64(uuid_lo);
  e.u64(device_bytes);
  e.u32(block_size);
  e.u64(data_start_block);
  e.u64(created_ns);
  e.end_struct(m);
}

void Superblock::decode(Decoder& d) {
  auto s = d.begin_struct(1, "Superblock");
  format_version = d.u32();
  uuid_hi = d.u64();
  uuid_lo = d.u64();
  device_bytes = d.u64();
  block_size = d.u32();
  data_start_block = d.u64();
  created_ns = d.u64();
  d.end_struct(s);
}

std::string Superblock::to_block() const {
  std::string body = encode_to_buffer(*this).to_string();
  std::string block(4096, '\0');
  std::memcpy(block.data(), kMagic, 8);
  put_u32(block.data() + 8, static_cast<uint32_t>(body.size()));
  put_u32(block.data() + 12, crc32c(body));
  std::memcpy(block.data() + kHeader, body.data(), body.size());
  return block;
}

Result<Superblock> Superblock::from_block(std::string_view block) {
  if (block.size() < kHeader || std::memcmp(block.data(), kMagic, 8) != 0) {
    return error(Errc::kCorrupt, "no Cairn BlockStore superblock (bad magic)");
  }
  uint32_t len = get_u32(block.data() + 8);
  if (len > block.size() - kHeader) return error(Errc::kCorrupt, "superblock length out of range");
  std::string_view body = block.substr(kHeader, len);
  if (crc32c(body) != get_u32(block.data() + 12))
    return error(Errc::kCorrupt, "superblock checksum mismatch");
  auto sb = decode_from<Superblock>(body);
  if (!sb.ok()) return sb.status().with_context("superblock");
  if (sb->format_version != kFormatVersion) {
    return error(Errc::kNotSupported, "superblock format version " + std::to_string(sb->format_version));
  }
  if (sb->block_size != 4096 || sb->data_start_block >= sb->total_blocks()) {
    return error(Errc::kCorrupt, "superblock geometry is invalid");
  }
  return sb;
}

}  // namespace cairn::store
