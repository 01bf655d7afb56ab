// The handshake frame (type kMsgHello): the first frame in each direction.
//
// The connecting side sends its Hello; the accepting side answers with its own.
// For lossless sessions the pair tells each side where to resume:
//   in_seq    every message with seq <= in_seq has been received from the peer
//   out_base  every message this side sent with seq <= out_base was acked once
//   fresh     (reply only) the acceptor made a new session: the connector
//             restarts its receive count at the reply's out_base
// A lossless acceptor that makes a new session starts its receive count at the
// connector's out_base, so a restarted acceptor does not see a sequence gap.
//
// Thread-safety: a value.
#pragma once

#include <cstdint>

#include "common/encoding.h"
#include "msg/entity.h"
#include "msg/policy.h"

namespace cairn::msg::internal {

struct Hello {
  EntityName name;
  EntityAddr addr;  // where the sender listens (empty for a client that does not)
  Policy policy = Policy::kLossy;
  uint64_t session_id = 0;  // chosen by the connector, unique per session
  uint64_t in_seq = 0;
  uint64_t out_base = 0;
  bool fresh = false;

  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

}  // namespace cairn::msg::internal
