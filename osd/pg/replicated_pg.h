// A replicated placement group on one OSD: executes client ops when this OSD is
// the PG's acting primary, replicates each write to the acting replicas and
// answers only once all of them made it durable; applies replicated writes when
// it is a replica; and brings copies into line when the acting set changes.
//
// Per PG on disk (collection <pool>.<seed>):
//   every object     its data, user xattrs under "u.<name>", and "_" = ObjectInfo
//                    (the object's version and mtime), written with each change
//   the meta object  (nspace kMetaNamespace) omap: "info" = PgInfo (written at activation;
//                    last_update is the newest log entry's), and the PG log
//                    entries under "l.<epoch>.<version>" (trimmed to a bound)
//
// Peering (docs/osd.md): on each new interval the primary hears from every acting
// copy and from an up member of each earlier interval that may have written (past
// intervals from the map history, up_thru), takes the newest (last_epoch_started,
// last_update) as authoritative, brings the acting copies level (from the log, or
// by a scan), asks for up_thru and goes active. Copies far behind are filled in
// the background behind a pg_temp while the complete ones serve. Writes block
// (clients retry) while the PG peers or has fewer than min_size acting copies.
//
// Thread-safety: a PG lives on one shard thread; every method runs there.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "crush/osd_map.h"
#include "msg/connection.h"
#include "msg/mon_messages.h"
#include "msg/osd_messages.h"
#include "osd/pg/pg_host.h"
#include "osd/pg/pg_log.h"
#include "osd/store/object_store.h"

namespace cairn::pg {

// Namespace of the PG's meta object: clients may not use namespaces starting with \x01.
inline constexpr char kMetaNamespace[] = "\x01pgmeta";
inline constexpr char kObjectInfoAttr[] = "_";
inline constexpr char kUserAttrPrefix[] = "u.";

// What an object's "_" xattr holds.
struct ObjectInfo {
  Eversion version;
  uint64_t mtime_ns = 0;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

// What a PG copy knows of itself (persisted in the meta object).
struct PgInfo {
  Eversion last_update;             // newest change applied here
  uint32_t last_epoch_started = 0;  // interval in which this copy last went active
  // v2: objects named in the log after last_complete may be missing or stale here
  // (the copy went active as a replica while the primary recovered it).
  bool has_missing = false;
  Eversion last_complete;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

class ReplicatedPg {
 public:
  ReplicatedPg(PgHost& host, crush::PgId id);
  ~ReplicatedPg();

  const crush::PgId& id() const { return id_; }
  const store::CollectionId& cid() const { return cid_; }
  // Creates the collection and meta object (new PG) or loads info and log (existing).
  Status init(bool create);

  // A new osdmap: detects a new interval and (re)starts activation.
  void on_map(const std::shared_ptr<const crush::OsdMap>& map);
  void handle_op(const msg::ConnectionRef& conn, msg::Message m, msg::OsdOpMsg op);
  void handle_rep_op(int32_t from, msg::Message m, msg::RepOpMsg rep);
  void handle_rep_reply(const msg::RepOpReplyMsg& r);
  void handle_info(const msg::PgInfoMsg& info);
  void handle_scan(const msg::PgScanMsg& scan, int32_t from);
  void handle_pull(const msg::PgPullMsg& pull, int32_t from);
  // A client connection closed: forget its watches.
  void connection_closed(const msg::ConnectionRef& conn);

  bool is_primary() const { return primary_ == host_.whoami(); }
  // For the PG summary the OSD sends the monitors (primaries only).
  msg::PgStatEntry stats() const;
  // Admin: object names and versions (for comparing replicas).
  Result<std::string> dump_objects_json(bool with_digest);
  // Tests only: damages this copy of object `name` (its data, or removes it),
  // leaving its version alone, as a bad disk or a lost write would.
  Result<std::string> inject_error(const std::string& name, bool data);

  // Defined in internal/pg_internal.h.
  struct Waiter;
  struct InFlight;
  struct Backfill;
  struct Notify;
  struct Scrub;

 private:
  enum class State { kInitial, kPeering, kBackfilling, kActive, kReplica, kStray };

  // ---- activation (replicated_pg.cc) ----
  void start_interval();
  void query_peers();
  void peering_tick(uint32_t epoch);  // every 2 s while this interval peers
  // Who must be heard from before going active: an up member of every interval since
  // `since` that may have accepted writes; `down` when all of one interval's are down.
  struct Prior {
    std::set<int32_t> probe;
    std::set<int32_t> blocked_by;
    bool down = false;
  };
  std::optional<Prior> build_prior(uint32_t since);  // nullopt: maps still being fetched
  void maybe_activate();
  void activate();
  void persist_info(store::Transaction& t);
  // Writes and replicated writes queued to the store and not yet committed: a
  // copy is read for a backfill (or listed for one) only when none is, so it never
  // mixes an object's state from before a commit with a log from after it.
  void txn_committed();
  void when_quiet(std::function<void()> fn);
  void send_to(int32_t osd, msg::Message m);
  template <typename T>
  void send_msg(int32_t osd, msg::MsgType type, const T& body, BufferList data = {}) {
    send_to(osd, msg::Message::make(type, body, std::move(data)));
  }
  // ---- client ops (pg_ops.cc) ----
  void do_op(const msg::ConnectionRef& conn, msg::Message m, msg::OsdOpMsg op);
  void do_async_read(const msg::ConnectionRef& conn, msg::Message m, const msg::OsdOpMsg& op,
                     const store::ObjectId& oid);
  void requeue_waiters(const std::string& key);
  void reply_error(const msg::ConnectionRef& conn, const msg::Message& m, int err);
  void finish_write(uint64_t rep_tid);
  void do_watch_op(const msg::ConnectionRef& conn, const msg::Message& m, const msg::OsdOpMsg& op,
                   const std::vector<BufferList>& indata);
  void finish_notify(uint64_t notify_id);
  // ---- pulling a copy whose local data fails its checksums (pg_scrub.cc) ----
  // Holds op (already known to be a read of `oid`) until a replica's copy replaced ours.
  void pull_and_retry(const msg::ConnectionRef& conn, msg::Message m, msg::OsdOpMsg op,
                      const store::ObjectId& oid);
  void pull_next(const std::string& key);
  void pull_done(const std::string& key, bool ok);
  // ---- scrub (pg_scrub.cc) ----
  void do_scrub_op(const msg::ConnectionRef& conn, msg::Message m, const msg::OsdSubOp& sub);
  void start_scrub(bool deep, bool repair, const msg::ConnectionRef& conn, msg::Message m);
  void schedule_scrubs();
  void scheduled_scrub(bool deep, uint32_t epoch);
  void scrub_scan_reply(const msg::PgScanMsg& scan, int32_t from);
  void scrub_compare();
  void scrub_finish();
  // ---- backfill (pg_backfill.cc) ----
  // Brings `target` up to date from this copy: from the log when `target_lu` (its
  // last_update) is in it, else by scanning. `background`: the PG stays active.
  void start_backfill(int32_t target, uint32_t epoch, std::optional<Eversion> target_lu = std::nullopt,
                      bool background = false);
  // A background pass over just `objs` (the last one, with writes held, if `final`).
  void start_backfill_list(int32_t target, const std::set<store::ObjectId>& objs, bool final);
  void start_scan(uint32_t max);
  bool plan_from_log(Eversion lu);
  void background_done(const Backfill& b, Status st);
  // ---- recovery while active (pg_recovery.cc) ----
  // Acting replicas the log can bring up to date get the log first (a meta push
  // marking them has_missing) and the PG goes active; their missing objects are
  // then pushed in the background, and a write to one waits for its push.
  // True if it started (the PG activates once the replicas have the log).
  bool start_log_recovery(const std::vector<int32_t>& targets);
  void recover_some();
  void recover_object(const store::ObjectId& oid);
  // A push ack of this recovery? Handles it and returns true.
  bool recovery_ack(const msg::RepOpReplyMsg& r);
  bool recovering() const { return !missing_.empty() || !meta_pending_.empty(); }
  // The objects named in the log after `have` (nullopt: the log does not reach back to it).
  std::optional<std::set<store::ObjectId>> log_objects_since(Eversion have) const;
  // Can this log say everything a copy lacks or has in excess? Its `have` point
  // and its last_update must both be in it (entries past a last_update this log
  // lacks are divergent: only a scan finds what they touched).
  bool log_reaches(const msg::PgInfoMsg& i) const {
    return log_has(have(i)) && log_has(Eversion{i.last_update_epoch, i.last_update});
  }
  // Is `v` an entry of this log (or its head, or zero when the log holds the whole history)?
  bool log_has(Eversion v) const;
  // Up to where a copy is known whole: its last_update, or last_complete while it has missing objects.
  static Eversion have(const msg::PgInfoMsg& i) {
    return i.has_missing ? Eversion{i.last_complete_epoch, i.last_complete}
                         : Eversion{i.last_update_epoch, i.last_update};
  }
  // ---- remapped PGs (pg_temp) ----
  // Up OSDs outside the acting set get background backfills; then, with writes held,
  // a last pass, and the pg_temp is dropped so the next interval uses the up set.
  void check_remapped();
  void remap_tick();
  void release_held_writes();
  void release_reservation();
  // Could a copy described by `copy` be brought up to date from `auth`'s log?
  static bool log_covers(const msg::PgInfoMsg& copy, const msg::PgInfoMsg& auth);
  // The acting set to ask for (pg_temp) so the PG can go active while copies that
  // need a whole backfill get it in the background; nullopt: no such set.
  std::optional<std::vector<int32_t>> temp_for_backfill(int32_t auth);
  msg::PgInfoMsg my_info(uint32_t epoch) const;
  void backfill_scan_reply(const msg::PgScanMsg& scan);
  void backfill_push_all();
  void backfill_done(Status st);
  // Sends `oid` whole to `target`; `bytes` (if set) gets the data size sent.
  Status push_object(int32_t target, const store::ObjectId& oid, uint64_t rep_tid, uint32_t epoch,
                     uint64_t* bytes = nullptr);
  // The transaction that recreates `oid` whole on another copy.
  Status build_push(const store::ObjectId& oid, store::Transaction& t, uint64_t* bytes);

  PgHost& host_;
  crush::PgId id_;
  store::CollectionId cid_;
  store::ObjectId meta_oid_;
  std::shared_ptr<const crush::OsdMap> map_;
  State state_ = State::kInitial;
  std::vector<int32_t> acting_;
  std::vector<int32_t> up_;
  int32_t primary_ = -1;
  uint32_t interval_start_ = 0;    // epoch of the map that began this interval (as this OSD saw it)
  uint32_t primary_interval_ = 0;  // replica: newest interval a primary announced (its PgInfo query)
  uint32_t min_size_ = 1;

  PgInfo info_;
  PgLog log_;
  uint64_t objects_ = 0;  // estimate kept by the primary for stats
  uint64_t bytes_ = 0;

  // Activation: infos heard in this interval; copies still to backfill.
  std::map<int32_t, msg::PgInfoMsg> peer_info_;
  std::set<int32_t> probe_;  // OSDs outside the acting set that peering must hear from
  // Acting sets of the intervals in [rw_since_, rw_until_) that may have accepted writes.
  std::vector<std::vector<int32_t>> rw_intervals_;
  uint32_t rw_since_ = 0, rw_until_ = 0;
  uint32_t uncommitted_ = 0;
  std::vector<std::function<void()>> quiet_waiters_;
  uint32_t ticking_ = 0;  // interval whose peering_tick is scheduled
  // Remapped (pg_temp): targets copied (with what was written since), targets synced
  // with writes held, writes held for the last pass, a backfill reservation held.
  std::map<int32_t, std::set<store::ObjectId>> copied_;
  std::set<int32_t> synced_;
  bool holding_writes_ = false;
  bool reserved_ = false;
  bool remap_ticking_ = false;
  bool backfill_wait_ = false;
  bool toofull_ = false;     // a backfill target is over its backfillfull ratio: waits
  uint32_t temp_asked_ = 0;  // interval in which a pg_temp was last asked for, and when
  uint64_t temp_asked_ns_ = 0;
  bool down_ = false;  // peering waits for a copy of an earlier interval (all down)
  // The newest copy lacks objects no complete copy heard from has: peering waits
  // for a copy that has them (the primary that was recovering it).
  bool incomplete_ = false;
  // Recovery while active: object -> acting replicas lacking it; pushes in flight
  // (tid -> object, target); replicas whose log push is not acked yet; replicas to
  // tell `recovered` at the end.
  std::map<store::ObjectId, std::set<int32_t>> missing_;
  std::map<uint64_t, std::pair<store::ObjectId, int32_t>> recovery_tids_;
  std::set<store::ObjectId> recovering_objs_;
  std::set<uint64_t> meta_pending_;
  std::set<int32_t> recovering_peers_;
  std::map<int32_t, std::set<store::ObjectId>> planned_missing_;  // until the log pushes are acked
  std::unique_ptr<Backfill> backfill_;
  std::unique_ptr<Scrub> scrub_;
  msg::ScrubOut last_scrub_;
  std::vector<int32_t> backfill_queue_;

  // Ops waiting for activation, and for an object's in-flight write.
  std::deque<std::unique_ptr<Waiter>> waiting_active_;
  std::set<std::string> busy_;  // object keys with a write in flight
  std::map<std::string, std::deque<std::unique_ptr<Waiter>>> waiting_object_;
  std::map<uint64_t, std::unique_ptr<InFlight>> in_flight_;  // rep_tid -> write
  uint64_t next_rep_tid_ = 1;

  // Watches: object name -> cookie -> connection; notifies in progress.
  std::map<std::string, std::map<uint64_t, msg::ConnectionRef>> watchers_;
  std::map<uint64_t, std::unique_ptr<Notify>> notifies_;
  struct Pull;
  std::map<std::string, std::unique_ptr<Pull>> pulls_;  // object key -> pull in progress
  std::map<std::string, int> pull_attempts_;            // object key -> pulls since its last write
  uint64_t next_notify_id_ = 1;
};

// Key that orders one object's ops inside a PG.
std::string object_key(const store::ObjectId& oid);

}  // namespace cairn::pg
