// The frame: how one message travels on a byte stream (docs/wire-format.md).
//
//   header (kFrameHeaderSize bytes, fixed) | front (front_len) | data (data_len)
//
// The header carries its own crc32c and the crc32c of the front and of the data,
// so a sender computes the segment crcs once and writes header, front and data
// with one gather write (the data segment is never copied). A receiver checks the
// header first (magic, version, crc, lengths against named limits) before it
// allocates anything for the segments.
//
// Thread-safety: pure functions and values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/buffer.h"
#include "common/status.h"
#include "msg/message_types.h"

namespace cairn::msg {

// "CRNF" read as a little-endian u32: bytes 'C' 'R' 'N' 'F' on the wire.
inline constexpr uint32_t kFrameMagic = 0x464E5243;
inline constexpr uint8_t kFrameVersion = 1;
inline constexpr size_t kFrameHeaderSize = 56;

// Hard limits no configuration can raise: a length above them is corruption.
// Front: an encoded struct decoded in one piece; 16 MiB is far above any map or op.
inline constexpr uint32_t kMaxFrontLength = 16u << 20;
// Data: object payloads; 256 MiB bounds a single message (objects are striped far below it).
inline constexpr uint32_t kMaxDataLength = 256u << 20;

// Header flags.
inline constexpr uint8_t kFlagRequest = 0x01;  // the sender waits for a reply with this tid
inline constexpr uint8_t kFlagReply = 0x02;    // answers the request with this tid
inline constexpr uint8_t kKnownFlags = kFlagRequest | kFlagReply;

struct FrameHeader {
  MsgType type = 0;
  uint8_t flags = 0;
  uint64_t tid = 0;      // request/response correlation; 0 for one-way messages
  uint64_t seq = 0;      // lossless: per-session sequence number (0: unsequenced)
  uint64_t ack_seq = 0;  // lossless: the sender has received every seq <= ack_seq
  uint32_t front_len = 0;
  uint32_t data_len = 0;
  uint32_t front_crc = 0;
  uint32_t data_crc = 0;
};

// Limits a receiver enforces (at most the hard limits above).
struct FrameLimits {
  uint32_t max_front = kMaxFrontLength;
  uint32_t max_data = kMaxDataLength;
};

// Writes the header (computing the header crc) into out[0, kFrameHeaderSize).
void encode_frame_header(const FrameHeader& h, char* out);
// Parses and checks a header: magic, version, unknown flags, header crc, lengths
// against `limits`. kCorrupt with the reason on any failure.
Result<FrameHeader> decode_frame_header(const char* in, const FrameLimits& limits);

// Fills lengths and crcs of `h` from the segments.
void seal_frame(FrameHeader& h, const BufferList& front, const BufferList& data);
// Checks the segments against the header's lengths and crcs.
Status verify_frame_segments(const FrameHeader& h, const BufferList& front, const BufferList& data);

// A whole frame in memory (tests, fuzzing, tools).
struct DecodedFrame {
  FrameHeader header;
  BufferList front;
  BufferList data;
};
// Header + front + data as one buffer list (the segments are shared, not copied).
BufferList encode_frame(FrameHeader h, const BufferList& front, const BufferList& data);
// Decodes the frame at the start of `in`. kAgain if `in` holds only part of a
// frame (a truncated stream), kCorrupt if it is malformed. `consumed` gets the
// frame's size on success.
Result<DecodedFrame> decode_frame(std::string_view in, const FrameLimits& limits, size_t* consumed);

}  // namespace cairn::msg
