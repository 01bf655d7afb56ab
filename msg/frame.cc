#include "msg/frame.h"

#include <string>

#include "common/checksum.h"

namespace cairn::msg {
namespace {

// Offsets of the header fields (docs/wire-format.md).
constexpr size_t kOffMagic = 0, kOffVersion = 4, kOffFlags = 5, kOffType = 6, kOffTid = 8, kOffSeq = 16,
                 kOffAck = 24, kOffFrontLen = 32, kOffDataLen = 36, kOffFrontCrc = 40, kOffDataCrc = 44,
                 kOffReserved = 48, kOffHeaderCrc = 52;
static_assert(kOffHeaderCrc + 4 == kFrameHeaderSize);

template <typename U>
void put(char* p, U v) {
  for (size_t i = 0; i < sizeof(U); ++i) p[i] = static_cast<char>(v >> (8 * i));
}
template <typename U>
U get(const char* p) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i) v |= static_cast<U>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

Status corrupt(std::string why) { return Status(Errc::kCorrupt, "frame: " + why); }

}  // namespace

void encode_frame_header(const FrameHeader& h, char* out) {
  put<uint32_t>(out + kOffMagic, kFrameMagic);
  put<uint8_t>(out + kOffVersion, kFrameVersion);
  put<uint8_t>(out + kOffFlags, h.flags);
  put<uint16_t>(out + kOffType, h.type);
  put<uint64_t>(out + kOffTid, h.tid);
  put<uint64_t>(out + kOffSeq, h.seq);
  put<uint64_t>(out + kOffAck, h.ack_seq);
  put<uint32_t>(out + kOffFrontLen, h.front_len);
  put<uint32_t>(out + kOffDataLen, h.data_len);
  put<uint32_t>(out + kOffFrontCrc, h.front_crc);
  put<uint32_t>(out + kOffDataCrc, h.data_crc);
  put<uint32_t>(out + kOffReserved, 0);
  put<uint32_t>(out + kOffHeaderCrc, crc32c(0, out, kOffHeaderCrc));
}

Result<FrameHeader> decode_frame_header(const char* in, const FrameLimits& limits) {
  if (get<uint32_t>(in + kOffMagic) != kFrameMagic) return corrupt("bad magic");
  if (get<uint32_t>(in + kOffHeaderCrc) != crc32c(0, in, kOffHeaderCrc)) return corrupt("bad header crc");
  uint8_t version = get<uint8_t>(in + kOffVersion);
  if (version != kFrameVersion) return corrupt("unsupported frame version " + std::to_string(version));
  FrameHeader h;
  h.flags = get<uint8_t>(in + kOffFlags);
  h.type = get<uint16_t>(in + kOffType);
  h.tid = get<uint64_t>(in + kOffTid);
  h.seq = get<uint64_t>(in + kOffSeq);
  h.ack_seq = get<uint64_t>(in + kOffAck);
  h.front_len = get<uint32_t>(in + kOffFrontLen);
  h.data_len = get<uint32_t>(in + kOffDataLen);
  h.front_crc = get<uint32_t>(in + kOffFrontCrc);
  h.data_crc = get<uint32_t>(in + kOffDataCrc);
  if (h.flags & ~kKnownFlags) return corrupt("unknown flags " + std::to_string(h.flags));
  if (get<uint32_t>(in + kOffReserved) != 0) return corrupt("reserved field not zero");
  if (h.front_len > limits.max_front || h.front_len > kMaxFrontLength) {
    return corrupt("front length " + std::to_string(h.front_len) + " over limit");
  }
  if (h.data_len > limits.max_data || h.data_len > kMaxDataLength) {
    return corrupt("data length " + std::to_string(h.data_len) + " over limit");
  }
  return h;
}

void seal_frame(FrameHeader& h, const BufferList& front, const BufferList& data) {
  h.front_len = static_cast<uint32_t>(front.size());
  h.data_len = static_cast<uint32_t>(data.size());
  h.front_crc = crc32c(0, front);
  h.data_crc = crc32c(0, data);
}

Status verify_frame_segments(const FrameHeader& h, const BufferList& front, const BufferList& data) {
  if (front.size() != h.front_len || data.size() != h.data_len) return corrupt("segment length mismatch");
  if (crc32c(0, front) != h.front_crc) return corrupt("bad front crc");
  if (crc32c(0, data) != h.data_crc) return corrupt("bad data crc");
  return ok_status();
}

BufferList encode_frame(FrameHeader h, const BufferList& front, const BufferList& data) {
  seal_frame(h, front, data);
  BufferList out;
  encode_frame_header(h, out.append_hole(kFrameHeaderSize));
  out.append(front);
  out.append(data);
  return out;
}

Result<DecodedFrame> decode_frame(std::string_view in, const FrameLimits& limits, size_t* consumed) {
  if (in.size() < kFrameHeaderSize) return Status(Errc::kAgain, "frame: truncated header");
  DecodedFrame f;
  CAIRN_ASSIGN_OR_RETURN(f.header, decode_frame_header(in.data(), limits));
  size_t total = kFrameHeaderSize + size_t{f.header.front_len} + f.header.data_len;
  if (in.size() < total) return Status(Errc::kAgain, "frame: truncated segments");
  f.front = BufferList::copy_of(in.substr(kFrameHeaderSize, f.header.front_len));
  f.data = BufferList::copy_of(in.substr(kFrameHeaderSize + f.header.front_len, f.header.data_len));
  CAIRN_RETURN_IF_ERROR(verify_frame_segments(f.header, f.front, f.data));
  if (consumed) *consumed = total;
  return f;
}

}  // namespace cairn::msg
