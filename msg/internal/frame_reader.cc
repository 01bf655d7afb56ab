#include "msg/internal/frame_reader.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/checksum.h"

namespace cairn::msg::internal {

awaitable<Status> FrameReader::fill(size_t need) {
  if (buffered() >= need) co_return ok_status();
  if (buf_.empty() || buf_.size() - start_ < need) {
    // Not enough room after start_: move the unread bytes to a buffer of our own.
    // The old one is freed when the last message slicing it is.
    BufferPtr fresh = BufferPtr::create(kBufferSize);
    if (buffered()) std::memcpy(fresh.data(), buf_.data() + start_, buffered());
    end_ = buffered();
    start_ = 0;
    buf_ = std::move(fresh);
  }
  while (buffered() < need) {
    auto n = co_await stream_.read_some(buf_.data() + end_, buf_.size() - end_);
    if (!n.ok()) co_return n.status();
    end_ += *n;
    bytes_read_ += *n;
  }
  co_return ok_status();
}

awaitable<Result<BufferList>> FrameReader::segment(size_t len, uint32_t& crc) {
  crc = 0;
  if (len == 0) co_return BufferList();
  if (len <= buffered() || len <= kBufferSize / 2) {
    CAIRN_CO_RETURN_IF_ERROR(co_await fill(len));
    BufferList out(buf_.slice(start_, len));
    start_ += len;
    crc = crc32c(0, out);
    co_return out;
  }
  // Large: one buffer of exactly len bytes (a pooled, page-aligned one).
  BufferPtr big = BufferPtr::create(len);
  size_t have = buffered();
  if (have) std::memcpy(big.data(), buf_.data() + start_, have);
  // The crc of each 4 KiB block as it lands, while it is still in cache; the
  // segment's crc is combined from them, and they stay with the buffer for the
  // store and for forwarding (buffer.h: set_block_crcs).
  std::vector<uint32_t> blocks;
  blocks.reserve(len / kCrcBlock);
  uint32_t part = 0;  // crc of the block being filled
  size_t done = 0;    // bytes already in `blocks` or `part`
  auto absorb = [&](size_t upto) {
    while (done < upto) {
      size_t in_block = done % kCrcBlock;
      size_t n = std::min(upto - done, kCrcBlock - in_block);
      part = crc32c(part, big.data() + done, n);
      done += n;
      if (done % kCrcBlock == 0) {
        blocks.push_back(part);
        part = 0;
      }
    }
  };
  absorb(have);
  // Drop the small buffer rather than rewind it: delivered messages may still
  // hold slices of it (rewinding once corrupted an echoed front in flight).
  buf_ = BufferPtr();
  start_ = end_ = 0;
  while (have < len) {
    auto n = co_await stream_.read_some(big.data() + have, len - have);
    if (!n.ok()) co_return n.status();
    have += *n;
    absorb(have);
    bytes_read_ += *n;
  }
  crc = crc32c_append_blocks(0, blocks.data(), blocks.size());
  if (len % kCrcBlock) crc = crc32c_combine(crc, part, len % kCrcBlock);
  set_block_crcs(big.data(), std::move(blocks));
  co_return BufferList(std::move(big));
}

bool FrameReader::try_next_buffered(Result<ReceivedFrame>& out) {
  if (buffered() < kFrameHeaderSize) return false;
  auto h = decode_frame_header(buf_.data() + start_, limits_);
  if (!h.ok()) {
    out = h.status();
    return true;
  }
  size_t total = kFrameHeaderSize + size_t{h->front_len} + h->data_len;
  if (buffered() < total) return false;
  ReceivedFrame f;
  f.header = *h;
  size_t at = start_ + kFrameHeaderSize;
  if (h->front_len) f.front = BufferList(buf_.slice(at, h->front_len));
  if (h->data_len) f.data = BufferList(buf_.slice(at + h->front_len, h->data_len));
  start_ += total;
  Status st = verify_frame_segments(f.header, f.front, f.data);
  if (st.ok()) {
    out = std::move(f);
  } else {
    out = st;
  }
  return true;
}

awaitable<Result<ReceivedFrame>> FrameReader::next() {
  CAIRN_CO_RETURN_IF_ERROR(co_await fill(kFrameHeaderSize));
  ReceivedFrame f;
  CAIRN_CO_ASSIGN_OR_RETURN(f.header, decode_frame_header(buf_.data() + start_, limits_));
  start_ += kFrameHeaderSize;
  uint32_t front_crc = 0, data_crc = 0;
  CAIRN_CO_ASSIGN_OR_RETURN(f.front, co_await segment(f.header.front_len, front_crc));
  CAIRN_CO_ASSIGN_OR_RETURN(f.data, co_await segment(f.header.data_len, data_crc));
  if (front_crc != f.header.front_crc) co_return Status(Errc::kCorrupt, "frame: bad front crc");
  if (data_crc != f.header.data_crc) co_return Status(Errc::kCorrupt, "frame: bad data crc");
  co_return f;
}

}  // namespace cairn::msg::internal
