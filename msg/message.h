// A message: what a dispatcher receives and what a sender hands the messenger.
//
//   type   which schema the front holds (msg/message_types.h)
//   tid    request/response correlation (set by Connection::request / reply)
//   front  an encoded struct (common/encoding.h), small
//   data   raw bytes (object payloads), carried without copying
//
// Thread-safety: a value; one owner at a time (its buffers may be shared, see buffer.h).
#pragma once

#include <cstdint>

#include "common/buffer.h"
#include "common/encoding.h"
#include "msg/frame.h"
#include "msg/message_types.h"

namespace cairn::msg {

struct Message {
  MsgType type = 0;
  uint8_t flags = 0;  // kFlagRequest / kFlagReply, set by the connection
  uint64_t tid = 0;
  BufferList front;
  BufferList data;
  // Set by the messenger on a received request it counts against
  // MessengerOptions::max_client_bytes: released when the last copy is destroyed.
  std::shared_ptr<void> hold;

  // A message whose front is `body` encoded.
  template <typename T>
  static Message make(MsgType type, const T& body, BufferList data = {}) {
    Message m;
    m.type = type;
    m.front = encode_to_buffer(body);
    m.data = std::move(data);
    return m;
  }
  // Decodes the front as a T (kCorrupt if malformed).
  template <typename T>
  Result<T> decode_front() const {
    return decode_from<T>(front);
  }

  bool is_reply() const { return (flags & kFlagReply) != 0; }
  bool is_request() const { return (flags & kFlagRequest) != 0; }
  // Bytes this message occupies on the wire.
  size_t wire_size() const { return kFrameHeaderSize + front.size() + data.size(); }
};

}  // namespace cairn::msg
