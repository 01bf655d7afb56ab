// Paxos values and messages of the monitors.
//
// A committed value is a batch of key/value transactions over the monitor store
// (every map service is a state machine over these keys). Messages are encoded
// with common/encoding.h and carried by the messenger between monitors only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/encoding.h"

namespace cairn::mon {

// One change to the monitor's key/value state.
struct KvOp {
  enum Kind : uint8_t { kPut = 1, kErase = 2 };
  uint8_t kind = kPut;
  std::string key;
  std::string value;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// The unit services propose: applied atomically, all or nothing.
struct KvTxn {
  std::vector<KvOp> ops;
  void put(std::string k, std::string v) { ops.push_back({KvOp::kPut, std::move(k), std::move(v)}); }
  void erase(std::string k) { ops.push_back({KvOp::kErase, std::move(k), {}}); }
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// What one Paxos instance decides: several service transactions batched together.
struct PaxosValue {
  std::vector<KvTxn> txns;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// A committed log entry.
struct LogEntry {
  uint64_t version = 0;
  std::string value;  // encoded PaxosValue
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// The whole service state at a version, for peers too far behind for log replay.
struct Snapshot {
  uint64_t last_committed = 0;
  std::map<std::string, std::string> kv;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

struct Uncommitted {
  uint64_t pn = 0;
  uint64_t version = 0;
  std::string value;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

enum class PaxosOp : uint8_t {
  kPrepare = 1,   // candidate -> all: collect (phase 1a)
  kPromise = 2,   // -> candidate: promise + uncommitted + entries it lacks (1b)
  kReject = 3,    // pn too low; carries the promised pn
  kAccept = 4,    // leader -> all: begin (2a)
  kAccepted = 5,  // -> leader (2b)
  kCommit = 6,    // leader -> all: decided value(s)
  kLease = 7,     // leader -> all: heartbeat + lease
  kLeaseAck = 8,  // -> leader
  kLagging = 9,   // follower -> leader: send me what follows `last_committed`
};

struct PaxosMsg {
  PaxosOp op = PaxosOp::kPrepare;
  uint64_t pn = 0;
  uint64_t version = 0;         // accept/accepted: the instance
  uint64_t last_committed = 0;  // sender's
  uint64_t lease_seq = 0;       // lease/lease_ack round
  uint32_t lease_ms = 0;
  // lease: the leader's wall clock; lease_ack: the follower's clock minus the
  // leader's as it saw it (the clock-skew health check). v2 fields.
  uint64_t wall_ns = 0;
  int64_t skew_ns = 0;
  std::string value;                       // accept: encoded PaxosValue
  std::optional<Uncommitted> uncommitted;  // promise
  std::vector<LogEntry> entries;           // promise/commit: committed entries the peer lacks
  std::optional<Snapshot> snapshot;        // promise/commit: when the log no longer reaches back
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

}  // namespace cairn::mon
