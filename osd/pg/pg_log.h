// The PG log: the recent history of one placement group, oldest first.
//
// Every write the primary orders gets a version and a log entry, and the entry
// travels with the transaction to every replica, so each OSD's log says which
// object changed to which version. Peering compares logs to decide what each
// replica is missing (and what it has that was never acknowledged: divergent
// entries); resent client ops are recognised by their reqid.
//
// The log holds the entries in (tail, head]. Trimming advances the tail but keeps
// the reqids of trimmed entries in a bounded side list (`dups`), so a client
// resending an old op is still answered, not applied twice.
//
// Thread-safety: owned by the PG (its shard); a value.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "osd/pg/pg_types.h"
#include "osd/store/object_id.h"

namespace cairn::pg {

struct LogEntry {
  enum class Op : uint8_t { kModify = 1, kDelete = 2 };
  Op op = Op::kModify;
  store::ObjectId oid;
  Eversion version;
  Eversion prior_version;  // the object's version before this entry (zero: it did not exist)
  ReqId reqid;
  int32_t result = 0;  // what the client was told (0 or -errno)

  bool is_delete() const { return op == Op::kDelete; }
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// What a replica lacks: object -> the version it needs, and the one it has.
struct MissingItem {
  Eversion need;
  Eversion have;           // zero: no usable copy locally
  bool is_delete = false;  // the authoritative state is "absent"
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

class MissingSet {
 public:
  void add(const store::ObjectId& oid, Eversion need, Eversion have, bool is_delete);
  void remove(const store::ObjectId& oid) { items_.erase(oid); }
  bool is_missing(const store::ObjectId& oid) const { return items_.count(oid) != 0; }
  const MissingItem* find(const store::ObjectId& oid) const;
  const std::map<store::ObjectId, MissingItem>& items() const { return items_; }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  void encode(Encoder& e) const;
  void decode(Decoder& d);

 private:
  std::map<store::ObjectId, MissingItem> items_;
};

class PgLog {
 public:
  // Bounds: entries kept after trimming, and reqids of trimmed entries remembered.
  static constexpr size_t kDefaultMaxEntries = 3000;
  static constexpr size_t kDefaultMaxDups = 3000;

  Eversion head() const { return head_; }
  Eversion tail() const { return tail_; }
  const std::deque<LogEntry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  // Appends an entry newer than head(); kInvalid otherwise (a bug in the caller or
  // a corrupt peer message: nothing is changed).
  Status append(LogEntry e);
  // Drops entries up to and including `to` (clamped to head); their reqids move to dups.
  void trim_to(Eversion to, size_t max_dups = kDefaultMaxDups);
  // Trims so at most `max_entries` remain.
  void trim_to_size(size_t max_entries);

  // The version at which `reqid` was applied, if it is in the log or the dups.
  std::optional<Eversion> find_reqid(const ReqId& reqid) const;
  // The newest entry for `oid` in the log.
  const LogEntry* newest_for(const store::ObjectId& oid) const;
  // Entries with version > `since`, oldest first.
  std::vector<LogEntry> entries_after(Eversion since) const;

  void encode(Encoder& e) const;
  void decode(Decoder& d);

 private:
  Eversion tail_;
  Eversion head_;
  std::deque<LogEntry> entries_;
  std::unordered_map<ReqId, Eversion, ReqIdHash> reqids_;  // reqids in entries_
  std::deque<std::pair<ReqId, Eversion>> dups_;            // reqids of trimmed entries, oldest first
  std::unordered_map<ReqId, Eversion, ReqIdHash> dup_index_;
};

// The result of comparing a replica's log with the authoritative one.
struct LogMerge {
  // The replica's log does not reach the authoritative log's tail: it must be
  // backfilled (scanned object by object) rather than recovered from the log.
  bool needs_backfill = false;
  // Entries the replica has that the authoritative history does not (written by
  // an old primary, never acknowledged): to be rolled back.
  std::vector<LogEntry> divergent;
  // Objects the replica must fetch (or delete) to match the authoritative state.
  MissingSet missing;
  // The replica's log after the merge (= the authoritative log's entries).
  PgLog merged;
};

// Merges `local` (a replica's log) into `auth` (the authoritative log chosen by
// peering). `local_missing` is what the replica was already missing; it carries
// over unless the merge supersedes it.
LogMerge merge_log(const PgLog& local, const MissingSet& local_missing, const PgLog& auth);

}  // namespace cairn::pg
