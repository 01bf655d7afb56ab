// Wire schemas of the OSD service: client ops (client -> primary), replication
// (primary -> replicas), heartbeats (osd <-> osd) and watch/notify events
// (osd -> client). Message type numbers are in msg/message_types.h.
//
// A client op is compound: a list of sub-ops on one object, executed atomically
// by the primary (guards first: if one fails nothing is applied and the op
// answers ECANCELED). Payloads travel in the message's data segment, not in the
// front: each sub-op records how many bytes of the data segment are its input
// (`indata_len`, in op order), and each result how many bytes of the reply's
// data segment are its output. Slicing them out shares the received buffers.
//
// msg/ knows neither ObjectStore nor PG types: objects and versions appear as
// their plain fields here (hash/nspace/name, epoch/version).
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/buffer.h"
#include "common/encoding.h"
#include "common/status.h"
#include "msg/message_types.h"

namespace cairn::msg {

enum class OsdOpCode : uint16_t {
  // ---- writes ----
  kCreate = 1,          // flags & kCreateExclusive: EEXIST if present
  kWrite = 2,           // off, indata
  kWriteFull = 3,       // indata replaces the whole object
  kAppend = 4,          // indata at the end
  kTruncate = 5,        // off = new size
  kZero = 6,            // off, len
  kRemove = 7,          // ENOENT if absent
  kSetXattr = 8,        // name, indata
  kRmXattr = 9,         // name
  kOmapSetKeys = 10,    // kvs
  kOmapRmKeys = 11,     // keys
  kOmapClear = 12,      //
  kOmapSetHeader = 13,  // indata
  kOmapRmRange = 14,    // name = first, name2 = last (exclusive)
  // ---- guards: the whole op fails with ECANCELED unless they hold ----
  kCmpXattr = 20,       // xattr `name` equals indata (absent compares as empty: flags & kCmpAbsentOk)
  kAssertVersion = 21,  // object version == off
  kAssertExists = 22,   // object exists
  // ---- reads ----
  kRead = 30,           // off, len (0: to the end) -> bytes
  kStat = 31,           // -> StatOut encoded
  kGetXattr = 32,       // name -> value
  kGetXattrs = 33,      // -> map<string, BufferList> encoded
  kOmapGetVals = 34,    // name = start after (exclusive), name2 = prefix, len = max -> OmapOut encoded
  kOmapGetByKeys = 35,  // keys -> map<string, BufferList> encoded
  kOmapGetHeader = 36,  // -> header bytes
  // ---- watch/notify ----
  kWatch = 40,      // off = cookie: this connection watches the object
  kUnwatch = 41,    // off = cookie
  kNotify = 42,     // indata = payload, len = timeout ms -> NotifyOut encoded
  kNotifyAck = 43,  // off = notify id, len = the watch cookie, indata = the reply payload
  // ---- PG-wide ----
  kPgList = 50,   // list the PG's objects: indata = encoded cursor (hash,nspace,name), len = max -> PgListOut
  kPgScrub = 51,  // compare every acting copy (flags kScrubDeep, kScrubRepair) -> ScrubOut
  kPgListInconsistent = 52,  // the last scrub's findings -> ScrubOut
};

inline constexpr uint32_t kScrubDeep = 1;    // also compare data and omap digests
inline constexpr uint32_t kScrubRepair = 2;  // rewrite bad copies from the primary's
// PG-wide ops: no object name; sent to the PG's primary.
bool osd_op_is_pg_wide(OsdOpCode c);

inline constexpr uint32_t kCreateExclusive = 1;
inline constexpr uint32_t kCmpAbsentOk = 2;

const char* osd_op_name(OsdOpCode c);
bool osd_op_is_write(OsdOpCode c);

// Most sub-ops one message may carry, and the largest key/value sets: bounds what a
// malformed or hostile message can make the OSD allocate before it even looks.
inline constexpr size_t kMaxSubOps = 1024;
inline constexpr size_t kMaxObjectNameLength = 4096;

struct OsdSubOp {
  OsdOpCode code = OsdOpCode::kStat;
  uint32_t flags = 0;
  uint64_t off = 0;
  uint64_t len = 0;
  std::string name;
  std::string name2;
  std::vector<std::string> keys;
  std::map<std::string, BufferList> kvs;
  uint32_t indata_len = 0;  // set by OsdOpMsg::add(); bytes of the data segment
  bool operator==(const OsdSubOp&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

inline constexpr uint32_t kOpFlagRead = 1;   // has read sub-ops
inline constexpr uint32_t kOpFlagWrite = 2;  // has write sub-ops (replicated, logged)

// client -> primary: a compound op on one object.
struct OsdOpMsg {
  uint64_t client = 0;  // the client's unique id (with tid: the request id)
  uint64_t tid = 0;
  uint32_t map_epoch = 0;  // the epoch the client placed the op with
  int64_t pool = 0;
  uint32_t pg_seed = 0;
  uint32_t hash = 0;  // object placement hash
  std::string nspace;
  std::string name;
  uint32_t flags = 0;  // kOpFlag*
  uint32_t attempt = 0;
  std::vector<OsdSubOp> ops;
  bool operator==(const OsdOpMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
  // Appends `op`, its input to `data` (the message's data segment).
  void add(OsdSubOp op, BufferList& data, BufferList indata = {});
  // Checks the decoded op is well formed against its data segment size.
  Status validate(size_t data_len) const;
};

// Splits a data segment into per-op pieces (sharing buffers): `lens` in order.
std::vector<BufferList> split_data(const BufferList& data, const std::vector<uint32_t>& lens);
std::vector<uint32_t> indata_lens(const OsdOpMsg& m);

// Results of a compound op. `result` is 0 or a negative errno; kRetry codes
// (ESTALE: the primary has a newer map, refresh to `map_epoch` and resend;
// EAGAIN: the PG is not active yet / blocked, resend later) tell the client
// to resend rather than fail.
struct OsdSubResult {
  int32_t rval = 0;
  uint32_t outdata_len = 0;
  bool operator==(const OsdSubResult&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

struct OsdOpReplyMsg {
  int32_t result = 0;
  uint32_t map_epoch = 0;  // the OSD's epoch
  uint32_t version_epoch = 0;
  uint64_t version = 0;  // object version after the op (writes) or as read
  std::vector<OsdSubResult> results;
  bool operator==(const OsdOpReplyMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// Output encodings of some reads.
struct StatOut {
  uint64_t size = 0;
  uint64_t mtime_ns = 0;
  uint64_t version = 0;
  bool operator==(const StatOut&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

struct OmapOut {
  std::vector<std::pair<std::string, BufferList>> entries;
  bool more = false;
  bool operator==(const OmapOut&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

struct ObjectCursor {
  uint32_t hash = 0;
  std::string nspace;
  std::string name;
  bool operator==(const ObjectCursor&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

struct PgListOut {
  std::vector<ObjectCursor> objects;  // hash, nspace and name of each object
  bool at_end = false;
  ObjectCursor next;  // where the next page starts (when !at_end)
  bool operator==(const PgListOut&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// One object a scrub found different between copies.
struct InconsistentObject {
  ObjectCursor oid;
  std::vector<int32_t> bad_osds;  // copies that differ from the authoritative one (or lack it)
  std::string errors;             // "missing", "size", "version", "attrs", "data_digest", "read_error"...
  bool operator==(const InconsistentObject&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

struct ScrubOut {
  uint64_t objects = 0;  // objects compared
  bool deep = false;
  bool repaired = false;
  uint64_t stamp_ns = 0;  // wall clock when the scrub finished (0: never scrubbed)
  std::vector<InconsistentObject> inconsistent;
  bool operator==(const ScrubOut&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

struct NotifyOut {
  std::vector<std::pair<uint64_t, BufferList>> acks;  // watcher cookie -> reply payload
  std::vector<uint64_t> timed_out;                    // cookies that did not answer in time
  bool operator==(const NotifyOut&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// osd -> watching client: a notify on an object it watches. The client answers
// with an op carrying kNotifyAck (off = notify_id, len = cookie).
struct WatchNotifyMsg {
  uint64_t cookie = 0;
  uint64_t notify_id = 0;
  int64_t pool = 0;
  std::string name;
  bool operator==(const WatchNotifyMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// primary -> replica: apply this transaction at this PG version. The encoded
// ObjectStore transaction (payloads included) is the message's data segment; the
// PG log entry travels in the front. Both are other layers' formats, opaque here.
// A push (recovery: an object copied whole) carries no log entry.
struct RepOpMsg {
  int64_t pool = 0;
  uint32_t pg_seed = 0;
  uint32_t map_epoch = 0;  // the primary's interval: replicas drop ops of an older one
  uint32_t version_epoch = 0;
  uint64_t version = 0;
  uint64_t rep_tid = 0;  // matches the reply to the op
  bool push = false;
  BufferList log_entry;  // encoded pg::LogEntry (empty for a push)
  bool operator==(const RepOpMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

struct RepOpReplyMsg {
  int64_t pool = 0;
  uint32_t pg_seed = 0;
  uint32_t map_epoch = 0;
  uint64_t rep_tid = 0;
  int32_t result = 0;
  int32_t from_osd = -1;
  bool operator==(const RepOpReplyMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// osd <-> osd liveness. A ping carries the sender's epoch; the reply echoes the stamp.
struct OsdPingMsg {
  int32_t from = -1;
  uint32_t map_epoch = 0;
  uint64_t stamp_ns = 0;
  bool reply = false;
  bool operator==(const OsdPingMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// Peering (primary <-> replicas): what a PG copy holds, and copying whole objects.
struct PgInfoMsg {
  int64_t pool = 0;
  uint32_t pg_seed = 0;
  uint32_t map_epoch = 0;
  int32_t from = -1;
  uint32_t last_update_epoch = 0;
  uint64_t last_update = 0;
  uint32_t last_epoch_started = 0;
  uint64_t objects = 0;
  bool query = false;            // true: "tell me yours" (the reply carries the same struct)
  int32_t backfill_target = -1;  // >= 0: primary -> authoritative copy: "bring this OSD up to date"
  bool backfill_done = false;    // source -> primary: the backfill it asked for is complete
  bool activate = false;         // primary -> acting replica: the PG went active in interval map_epoch
  // The oldest entry of the sender's log (zero: empty), and whether its log reaches
  // back to the PG's first write: which copies the log can bring up to date.
  uint32_t log_first_epoch = 0;
  uint64_t log_first = 0;
  bool log_complete = false;
  // v4: the sender's copy may lack objects named in its log after last_complete
  // (it went active while being recovered); `recovered`: primary -> replica, every
  // object is in now.
  bool has_missing = false;
  uint32_t last_complete_epoch = 0;
  uint64_t last_complete = 0;
  bool recovered = false;
  bool operator==(const PgInfoMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// primary -> replica: push me your copy of this object (the primary's copy failed
// its checksums). The answer is a RepOpMsg push with `rep_tid` = `tid`.
struct PgPullMsg {
  int64_t pool = 0;
  uint32_t pg_seed = 0;
  uint32_t map_epoch = 0;
  uint64_t tid = 0;
  ObjectCursor oid;
  bool operator==(const PgPullMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// primary -> replica: list a page of your copy of the PG with object versions
// (for bringing a copy up to date); the reply carries the same struct, filled in.
struct PgScanMsg {
  int64_t pool = 0;
  uint32_t pg_seed = 0;
  uint32_t map_epoch = 0;
  uint64_t scan_tid = 0;
  ObjectCursor start;
  uint32_t max = 0;
  bool reply = false;
  int32_t result = 0;
  std::vector<ObjectCursor> objects;
  std::vector<std::pair<uint32_t, uint64_t>> versions;  // per object: (epoch, version)
  bool at_end = false;
  ObjectCursor next;
  // v2, for scrub: query with `scrub` set asks for these per object too.
  bool scrub = false;
  bool deep = false;
  std::vector<uint64_t> sizes;
  std::vector<uint64_t> attr_digests;
  std::vector<uint64_t> data_digests;  // deep: data and omap; ~0 when the read failed
  // v3: the query starts a background backfill (misplaced copies): a target over
  // its backfillfull ratio refuses it with -ENOSPC.
  bool background = false;
  bool operator==(const PgScanMsg&) const = default;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

}  // namespace cairn::msg
