// Wire schemas of the monitor service: what clients and OSDs send the monitors
// and what comes back. Message type numbers are in msg/message_types.h (mon range).
//
// Maps travel as encoded bytes (the receiver decodes them with crush/osd_map.h),
// so msg/ does not depend on crush/.
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/buffer.h"
#include "common/encoding.h"
#include "msg/entity.h"
#include "msg/message_types.h"

namespace cairn::msg {

// client -> mon: an admin command (`cairn osd tree`); mon -> client: the reply.
struct MonCommandMsg {
  std::vector<std::string> args;
  bool json = false;
  bool operator==(const MonCommandMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

struct MonCommandReplyMsg {
  int32_t code = 0;  // 0 or an errno value
  std::string out;
  std::string err;
  std::string leader_addr;  // set with EAGAIN: where the leader is, if known
  bool operator==(const MonCommandReplyMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// client/osd -> mon: send me osdmap epochs from `osdmap_from` on, now and as they
// commit (unless `onetime`).
struct MonSubscribeMsg {
  uint32_t osdmap_from = 0;
  bool onetime = false;
  bool operator==(const MonSubscribeMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// osd -> any mon (request): the maps of epochs [from, to], for working out a PG's
// past intervals. The reply is an OsdMapMsg with the full map of the first epoch
// the monitor still has at or after `from` and incrementals after it (at most a
// bounded number: ask again from the last one received).
struct MonGetOsdMapsMsg {
  uint32_t from = 0;
  uint32_t to = 0;
  bool operator==(const MonGetOsdMapsMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// mon -> subscriber: consecutive osdmap epochs, as incrementals where the
// subscriber's epoch allows and a full map otherwise.
struct OsdMapMsg {
  std::string fsid;
  std::map<uint32_t, BufferList> full;         // epoch -> encoded crush::OsdMap
  std::map<uint32_t, BufferList> incremental;  // epoch -> encoded crush::OsdMapIncremental
  bool operator==(const OsdMapMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// osd -> mon: I am up at `addr`.
struct OsdBootMsg {
  int32_t osd = -1;
  EntityAddr addr;
  uint64_t instance = 0;  // random per process start
  std::string host;       // CRUSH host bucket for a first boot
  uint32_t weight = 0;    // 16.16 CRUSH weight for a first boot (capacity in TiB)
  bool operator==(const OsdBootMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// mon -> osd: the outcome of a boot, an up_thru request or a pg_temp request.
struct OsdAckMsg {
  int32_t code = 0;
  std::string err;
  uint32_t epoch = 0;       // the epoch that carries the change
  std::string leader_addr;  // with EAGAIN: where the leader is, if known
  bool operator==(const OsdAckMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// osd -> mon: a heartbeat peer failed (or, still_alive, has come back).
struct OsdFailureMsg {
  int32_t target = -1;
  int32_t reporter = -1;
  uint64_t failed_for_ms = 0;
  bool still_alive = false;
  bool operator==(const OsdFailureMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// osd -> mon, every few seconds: I am alive at this epoch.
struct OsdBeaconMsg {
  int32_t osd = -1;
  uint32_t epoch = 0;
  bool operator==(const OsdBeaconMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// osd -> mon: record up_thru >= want before I activate PGs as primary.
struct OsdAliveMsg {
  int32_t osd = -1;
  uint32_t want_up_thru = 0;
  bool operator==(const OsdAliveMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// osd -> mon (request, reply OsdAckMsg): make `acting` the PG's acting set until
// further notice (pg_temp), or drop the override when `acting` is empty. A primary
// keeps complete copies acting this way while it backfills new ones.
struct OsdPgTempMsg {
  int32_t osd = -1;
  int64_t pool = 0;
  uint32_t seed = 0;
  std::vector<int32_t> acting;
  bool operator==(const OsdPgTempMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// PG states as OSDs report them: a bitmask, printed "active+clean" (Ceph's names).
enum PgStateBit : uint32_t {
  kPgActive = 1u << 0,
  kPgClean = 1u << 1,
  kPgPeering = 1u << 2,
  kPgDegraded = 1u << 3,
  kPgRecovering = 1u << 4,
  kPgBackfilling = 1u << 5,
  kPgBackfillWait = 1u << 6,
  kPgRemapped = 1u << 7,
  kPgDown = 1u << 8,
  kPgIncomplete = 1u << 9,
  kPgInconsistent = 1u << 10,
  kPgUndersized = 1u << 11,
  kPgBackfillToofull = 1u << 12,  // a backfill target is over the backfillfull ratio
};
// "active+clean"; "unknown" for 0.
std::string pg_state_string(uint32_t bits);

struct PgStatEntry {
  int64_t pool = 0;
  uint32_t seed = 0;
  uint32_t state = 0;  // PgStateBit
  uint64_t objects = 0;
  uint64_t bytes = 0;
  uint64_t degraded_objects = 0;   // copies missing on some acting OSD
  uint64_t misplaced_objects = 0;  // copies on OSDs that are not in the up set
  uint64_t log_head = 0;
  uint32_t last_epoch_started = 0;  // v2: the primary's; the monitors keep maps back to it
  bool operator==(const PgStatEntry&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// osd -> mon, every few seconds: usage and the PGs it is primary of.
struct OsdStatsMsg {
  int32_t osd = -1;
  uint32_t epoch = 0;
  uint64_t used_bytes = 0;
  uint64_t total_bytes = 0;
  std::vector<PgStatEntry> pgs;
  bool operator==(const OsdStatsMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

}  // namespace cairn::msg
