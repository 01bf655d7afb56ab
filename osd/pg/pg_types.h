// Versions and request ids of a placement group's history.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

#include "common/encoding.h"

namespace cairn::pg {

// A point in a PG's history: the map epoch of the primary that wrote it and a
// sequence number that never goes backwards within the PG (across epochs too).
struct Eversion {
  uint32_t epoch = 0;
  uint64_t version = 0;
  auto operator<=>(const Eversion&) const = default;
  bool is_zero() const { return epoch == 0 && version == 0; }
  std::string to_string() const { return std::to_string(epoch) + "'" + std::to_string(version); }
  void encode(Encoder& e) const {
    e.u32(epoch);
    e.u64(version);
  }
  void decode(Decoder& d) {
    epoch = d.u32();
    version = d.u64();
  }
};

// Who asked for a change: the client's unique id and its transaction id. A resent
// op with a reqid already in the log is answered from the log, not re-applied.
struct ReqId {
  uint64_t client = 0;
  uint64_t tid = 0;
  auto operator<=>(const ReqId&) const = default;
  bool is_zero() const { return client == 0 && tid == 0; }
  void encode(Encoder& e) const {
    e.u64(client);
    e.u64(tid);
  }
  void decode(Decoder& d) {
    client = d.u64();
    tid = d.u64();
  }
};

struct ReqIdHash {
  size_t operator()(const ReqId& r) const {
    return std::hash<uint64_t>()(r.client * 0x9e3779b97f4a7c15ull ^ r.tid);
  }
};

}  // namespace cairn::pg
