// Reads frames off a Stream with as few system calls as it can.
//
// Small frames are read in bulk into a 128 KiB buffer and handed out as slices
// of it (no copy); a segment larger than what is buffered is read into one
// buffer of exactly its size (the bytes already buffered are copied in, the rest
// is read straight into place). Every header is checked before anything is
// allocated for its segments, and segment crcs are checked before a frame is
// returned.
//
// Thread-safety: owned by the connection's read loop (the messenger's executor).
#pragma once

#include "common/asio.h"
#include "common/buffer.h"
#include "msg/frame.h"
#include "msg/transport.h"

namespace cairn::msg::internal {

struct ReceivedFrame {
  FrameHeader header;
  BufferList front;
  BufferList data;
};

class FrameReader {
 public:
  // Bytes read per system call when frames are small.
  static constexpr size_t kBufferSize = 128 * 1024;

  FrameReader(Stream& stream, FrameLimits limits) : stream_(stream), limits_(limits) {}

  // The next whole, checked frame. kCorrupt (with the reason) for a malformed
  // frame; the stream's error when it fails or ends.
  awaitable<Result<ReceivedFrame>> next();
  // The hot path without a coroutine: if a whole frame is already buffered,
  // returns it (or its error) in `out` and true; false if I/O is needed.
  bool try_next_buffered(Result<ReceivedFrame>& out);
  // True if a whole frame header is already buffered (more frames are ready).
  bool has_buffered_header() const { return end_ - start_ >= kFrameHeaderSize; }
  // Bytes read from the stream so far: progress inside a large frame counts as
  // liveness for the keepalive (a 64 MiB frame may take longer than its timeout).
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  size_t buffered() const { return end_ - start_; }
  // Makes at least `need` (<= kBufferSize) bytes available at start_.
  awaitable<Status> fill(size_t need);
  // The next `len` bytes and their crc32c (computed as they arrive for large segments).
  awaitable<Result<BufferList>> segment(size_t len, uint32_t& crc);

  Stream& stream_;
  FrameLimits limits_;
  BufferPtr buf_;  // slices of it live on in delivered messages: bytes before end_ are never rewritten
  size_t start_ = 0;
  size_t end_ = 0;
  uint64_t bytes_read_ = 0;
};

}  // namespace cairn::msg::internal
