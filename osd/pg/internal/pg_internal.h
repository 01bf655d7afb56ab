// Internals shared by the ReplicatedPg source files (not for use outside osd/pg).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "osd/pg/replicated_pg.h"

namespace cairn::pg {

namespace internal {
// What a scrub compares of one object copy.
struct CopyDigest {
  bool exists = false;
  Eversion version;
  uint64_t size = 0;
  uint64_t attrs = 0;  // xxh3 over the xattrs (names and values)
  uint64_t data = 0;   // deep: xxh3 over data, omap header and omap; kReadError if unreadable
};
inline constexpr uint64_t kReadError = ~0ull;
CopyDigest digest_copy(store::ObjectStore& st, const store::CollectionId& cid, const store::ObjectId& oid,
                       bool deep);
}  // namespace internal

// A client op held until the PG is active or its object is free.
struct ReplicatedPg::Waiter {
  msg::ConnectionRef conn;
  msg::Message req;
  msg::OsdOpMsg op;
};

// A write the primary sent to its replicas: answered when `waiting` empties.
struct ReplicatedPg::InFlight {
  msg::ConnectionRef conn;
  msg::Message req;
  std::string key;  // object key (busy_)
  store::ObjectId oid;
  std::set<int32_t> waiting;  // OSDs (this one included) not yet durable
  int32_t result = 0;
  msg::OsdOpReplyMsg reply;
  BufferList outdata;
};

// A backfill this copy runs towards `target`.
struct ReplicatedPg::Backfill {
  int32_t target = -1;
  uint32_t epoch = 0;  // the interval it serves (the asking primary's)
  uint64_t scan_tid = 0;
  std::map<store::ObjectId, Eversion> remote;  // the target's objects and versions
  std::vector<store::ObjectId> to_push;        // objects to copy, in order
  std::vector<store::ObjectId> to_remove;      // objects only the target has
  size_t next_push = 0;
  std::set<uint64_t> pending;  // push rep_tids not yet acked
  bool scanned = false;
  bool meta_sent = false;
  bool log_based = false;  // the plan came from the log, not a scan
  // Background backfill: the PG is active (pg_temp keeps complete copies acting)
  // and the target is an up OSD outside the acting set.
  bool background = false;
  bool skip_meta = false;  // not the last pass: the target's info and log stay as they are
  bool final = false;      // the last pass, with writes held
  int passes = 0;
  std::set<store::ObjectId> dirty;  // written while this pass ran
  Status error;
};

// A scrub the primary runs: every acting replica's listing, then a comparison.
struct ReplicatedPg::Scrub {
  bool deep = false;
  bool repair = false;
  uint64_t scan_tid = 0;
  uint32_t epoch = 0;
  std::map<int32_t, std::map<store::ObjectId, internal::CopyDigest>> remote;  // replica -> its copies
  std::set<int32_t> scanning;                                        // replicas whose listing is not complete
  std::set<uint64_t> repair_tids;                                    // pushes not yet acked
  std::vector<std::pair<msg::ConnectionRef, msg::Message>> waiters;  // ops answered at the end
  msg::ScrubOut out;
};

// A copy being fetched from replicas after a checksum error here.
struct ReplicatedPg::Pull {
  store::ObjectId oid;
  uint64_t tid = 0;
  size_t next_replica = 0;  // index into acting_ of the next replica to ask
  std::vector<std::unique_ptr<ReplicatedPg::Waiter>> waiters;
};

// A notify waiting for its watchers' acks.
struct ReplicatedPg::Notify {
  msg::ConnectionRef conn;
  msg::Message req;
  std::set<uint64_t> waiting;                       // cookies
  std::map<uint64_t, msg::ConnectionRef> watchers;  // cookie -> the watcher's connection
  msg::NotifyOut out;
};

std::string log_key(const Eversion& v);

namespace internal {

// Objects and bytes of a collection (the meta object excluded).
void count_objects(store::ObjectStore& st, const store::CollectionId& cid, uint64_t& objects,
                   uint64_t& bytes);
// Adds removal of log entries beyond the bound to `t` and trims `log` to match.
void trim_log(store::Transaction& t, PgLog& log, const store::CollectionId& cid, const store::ObjectId& meta);
// Does `t` write `oid`?
bool touches(const store::Transaction& t, const store::ObjectId& oid);
// A push ack for this backfill? Records it (and its error) and returns true.
bool backfill_ack(ReplicatedPg::Backfill& b, const msg::RepOpReplyMsg& r);
bool is_meta(const store::ObjectId& oid);
// The object's version from its "_" xattr (zero when absent or unreadable).
Eversion object_version(store::ObjectStore& st, const store::CollectionId& cid, const store::ObjectId& oid);

}  // namespace internal
}  // namespace cairn::pg
