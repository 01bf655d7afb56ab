// Framing: round trips and every kind of malformed frame.
#include "msg/frame.h"

#include <gtest/gtest.h>

#include "common/checksum.h"

namespace cairn::msg {
namespace {

BufferList sample_frame(uint32_t front_len = 10, uint32_t data_len = 1000) {
  FrameHeader h;
  h.type = kMsgTestData;
  h.flags = kFlagRequest;
  h.tid = 42;
  h.seq = 7;
  h.ack_seq = 5;
  return encode_frame(h, BufferList::copy_of(std::string(front_len, 'f')),
                      BufferList::copy_of(std::string(data_len, 'd')));
}

TEST(Frame, RoundTrip) {
  std::string bytes = sample_frame().to_string();
  ASSERT_EQ(bytes.size(), kFrameHeaderSize + 10 + 1000);
  size_t used = 0;
  auto f = decode_frame(bytes, FrameLimits{}, &used);
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(used, bytes.size());
  EXPECT_EQ(f->header.type, kMsgTestData);
  EXPECT_EQ(f->header.flags, kFlagRequest);
  EXPECT_EQ(f->header.tid, 42u);
  EXPECT_EQ(f->header.seq, 7u);
  EXPECT_EQ(f->header.ack_seq, 5u);
  EXPECT_EQ(f->front.to_string(), std::string(10, 'f'));
  EXPECT_EQ(f->data.to_string(), std::string(1000, 'd'));
}

TEST(Frame, EmptySegments) {
  std::string bytes = sample_frame(0, 0).to_string();
  auto f = decode_frame(bytes, FrameLimits{}, nullptr);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->front.empty());
  EXPECT_TRUE(f->data.empty());
}

TEST(Frame, DataSegmentIsNotCopiedOnEncode) {
  BufferList data = BufferList::copy_of(std::string(4096, 'x'));
  BufferList frame = encode_frame(FrameHeader{}, BufferList(), data);
  EXPECT_EQ(frame.segments().back().data(), data.segments().front().data());
}

TEST(Frame, TruncatedAtEveryLengthIsAgain) {
  std::string bytes = sample_frame(3, 50).to_string();
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto f = decode_frame(std::string_view(bytes).substr(0, n), FrameLimits{}, nullptr);
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.code(), Errc::kAgain) << n;
  }
}

TEST(Frame, BadMagic) {
  std::string bytes = sample_frame().to_string();
  bytes[0] ^= 1;
  auto f = decode_frame(bytes, FrameLimits{}, nullptr);
  EXPECT_EQ(f.code(), Errc::kCorrupt);
  EXPECT_NE(f.status().message().find("magic"), std::string::npos);
}

TEST(Frame, EveryHeaderBitFlipIsCaught) {
  std::string good = sample_frame().to_string();
  for (size_t bit = 0; bit < kFrameHeaderSize * 8; ++bit) {
    std::string bytes = good;
    bytes[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    auto f = decode_frame(bytes, FrameLimits{}, nullptr);
    EXPECT_FALSE(f.ok()) << "bit " << bit;
  }
}

TEST(Frame, BadSegmentCrcs) {
  std::string bytes = sample_frame().to_string();
  std::string front_bad = bytes, data_bad = bytes;
  front_bad[kFrameHeaderSize] ^= 0x40;
  data_bad[bytes.size() - 1] ^= 0x40;
  auto f1 = decode_frame(front_bad, FrameLimits{}, nullptr);
  auto f2 = decode_frame(data_bad, FrameLimits{}, nullptr);
  EXPECT_EQ(f1.code(), Errc::kCorrupt);
  EXPECT_NE(f1.status().message().find("front crc"), std::string::npos);
  EXPECT_EQ(f2.code(), Errc::kCorrupt);
  EXPECT_NE(f2.status().message().find("data crc"), std::string::npos);
}

// A header with a valid crc but lengths beyond the limits is rejected before any allocation.
TEST(Frame, HugeLengthsRejected) {
  char hdr[kFrameHeaderSize];
  FrameHeader h;
  h.data_len = 0xFFFFFFFF;
  encode_frame_header(h, hdr);
  auto r = decode_frame_header(hdr, FrameLimits{});
  EXPECT_EQ(r.code(), Errc::kCorrupt);
  h.data_len = 0;
  h.front_len = kMaxFrontLength + 1;
  encode_frame_header(h, hdr);
  EXPECT_EQ(decode_frame_header(hdr, FrameLimits{}).code(), Errc::kCorrupt);
  h.front_len = 0;
  h.data_len = 2 << 20;
  encode_frame_header(h, hdr);
  EXPECT_EQ(decode_frame_header(hdr, FrameLimits{.max_front = 1024, .max_data = 1 << 20}).code(),
            Errc::kCorrupt);
  EXPECT_TRUE(decode_frame_header(hdr, FrameLimits{}).ok());
}

TEST(Frame, UnknownFlagsAndVersion) {
  char hdr[kFrameHeaderSize];
  FrameHeader h;
  h.flags = 0x80;
  encode_frame_header(h, hdr);
  EXPECT_EQ(decode_frame_header(hdr, FrameLimits{}).code(), Errc::kCorrupt);
  h.flags = 0;
  encode_frame_header(h, hdr);
  hdr[4] = 9;  // version; recompute the header crc so only the version is wrong
  uint32_t crc = crc32c(0, hdr, kFrameHeaderSize - 4);
  for (int i = 0; i < 4; ++i) hdr[kFrameHeaderSize - 4 + i] = static_cast<char>(crc >> (8 * i));
  auto r = decode_frame_header(hdr, FrameLimits{});
  EXPECT_EQ(r.code(), Errc::kCorrupt);
  EXPECT_NE(r.status().message().find("version"), std::string::npos);
}

}  // namespace
}  // namespace cairn::msg
