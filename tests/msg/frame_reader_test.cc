// FrameReader over an in-memory Stream that hands out bytes in random chunk
// sizes: frames of every size come out whole, and messages already delivered
// keep their bytes while later frames are read (their buffers are shared).
#include "msg/internal/frame_reader.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/checksum.h"
#include "common/env.h"

namespace cairn::msg::internal {
namespace {

class MemoryStream final : public Stream {
 public:
  MemoryStream(std::string bytes, uint64_t seed) : bytes_(std::move(bytes)), rng_(seed) {}
  awaitable<Result<size_t>> read_some(void* buf, size_t len) override {
    if (pos_ == bytes_.size()) co_return Status(Errc::kConnReset, "end of stream");
    size_t n = std::min({len, bytes_.size() - pos_, 1 + static_cast<size_t>(rng_.uniform(200000))});
    std::memcpy(buf, bytes_.data() + pos_, n);
    pos_ += n;
    co_return n;
  }
  awaitable<Status> read_exact(void* buf, size_t len) override {
    if (bytes_.size() - pos_ < len) co_return Status(Errc::kConnReset, "end of stream");
    std::memcpy(buf, bytes_.data() + pos_, len);
    pos_ += len;
    co_return ok_status();
  }
  awaitable<Status> write_all(std::span<const iovec>) override {
    co_return Status(Errc::kNotSupported, "ro");
  }
  void close() override {}
  std::string remote() const override { return "memory"; }

 private:
  std::string bytes_;
  size_t pos_ = 0;
  SeededRandom rng_;
};

std::string payload(size_t n, int salt) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 + static_cast<size_t>(salt));
  return s;
}

awaitable<void> read_all(FrameReader& r, std::vector<ReceivedFrame>& out, Status& end) {
  Result<ReceivedFrame> f(Status(Errc::kInternal, "unset"));
  for (;;) {
    // Both paths, as the session's read loop uses them.
    if (!r.try_next_buffered(f)) f = co_await r.next();
    if (!f.ok()) {
      end = f.status();
      co_return;
    }
    out.push_back(std::move(*f));
  }
}

TEST(FrameReader, MixedSizesKeepDeliveredBytes) {
  const std::vector<size_t> sizes = {0,        10, 4096,  300000, 5,   70000,
                                     1u << 20, 3,  65536, 65537,  100, (2u << 20) + 1001};
  std::string wire;
  for (size_t i = 0; i < sizes.size(); ++i) {
    FrameHeader h;
    h.type = kMsgTestData;
    h.tid = i;
    wire += encode_frame(h, BufferList::copy_of("front" + std::to_string(i)),
                         BufferList::copy_of(payload(sizes[i], static_cast<int>(i))))
                .to_string();
  }
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    asio::io_context io;
    MemoryStream s(wire, seed);
    FrameReader reader(s, FrameLimits{});
    std::vector<ReceivedFrame> frames;
    Status end;
    asio::co_spawn(io, read_all(reader, frames, end), asio::detached);
    io.run();
    EXPECT_EQ(end.code(), Errc::kConnReset);
    ASSERT_EQ(frames.size(), sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) {  // checked after all reads: nothing was overwritten
      EXPECT_EQ(frames[i].header.tid, i);
      EXPECT_EQ(frames[i].front.to_string(), "front" + std::to_string(i))
          << "seed " << seed << " frame " << i;
      EXPECT_TRUE(frames[i].data == payload(sizes[i], static_cast<int>(i)))
          << "seed " << seed << " frame " << i;
      // A payload-sized segment keeps the crc of each whole 4 KiB block it holds
      // (for the store and for forwarding), and they are the blocks' true crcs.
      if (sizes[i] >= (1u << 20)) {
        const BufferPtr& seg = frames[i].data.segments()[0];
        size_t n = sizes[i] / 4096;
        std::vector<uint32_t> crcs;
        ASSERT_TRUE(get_block_crcs(seg.data(), n, crcs)) << i;
        for (size_t k = 0; k < n; k += 97) EXPECT_EQ(crcs[k], crc32c(0, seg.data() + k * 4096, 4096)) << k;
        EXPECT_FALSE(get_block_crcs(seg.data(), n + 1, crcs)) << "the partial last block has none";
        EXPECT_FALSE(get_block_crcs(seg.data() + 100, 1, crcs)) << "not on a block boundary";
      }
    }
    EXPECT_EQ(reader.bytes_read(), wire.size());
  }
}

class CorruptFrame : public ::testing::TestWithParam<size_t> {};

// Small frames take the buffered path, large ones the streaming path (crc as the bytes arrive).
TEST_P(CorruptFrame, IsAnError) {
  std::string wire =
      encode_frame(FrameHeader{}, BufferList::copy_of("x"), BufferList::copy_of(payload(GetParam(), 1)))
          .to_string();
  wire[wire.size() - 1] ^= 1;
  asio::io_context io;
  MemoryStream s(wire, 1);
  FrameReader reader(s, FrameLimits{});
  std::vector<ReceivedFrame> frames;
  Status end;
  asio::co_spawn(io, read_all(reader, frames, end), asio::detached);
  io.run();
  EXPECT_TRUE(frames.empty());
  EXPECT_EQ(end.code(), Errc::kCorrupt);
}
INSTANTIATE_TEST_SUITE_P(Sizes, CorruptFrame, ::testing::Values(1, 4096, 1u << 20, (1u << 20) + 1001));

}  // namespace
}  // namespace cairn::msg::internal
