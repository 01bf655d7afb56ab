// ReplicatedPg: bringing a whole PG copy up to date (backfill), and helpers.
//
// The source scans the target's copy (object ids and versions, in pages), then
// pushes every object whose version differs or that the target lacks, removes
// what only the target has, and finally pushes its meta object (info and log),
// a few pushes in flight at a time. A push is a RepOpMsg with `push` set whose
// transaction recreates the object whole (data, xattrs, omap header and keys).
#include <algorithm>

#include "common/checksum.h"
#include "common/log.h"
#include "osd/pg/internal/pg_internal.h"

namespace cairn::pg {

namespace {
constexpr uint32_t kScanPage = 512;
constexpr size_t kMaxPushesInFlight = 8;
}  // namespace

namespace internal {

bool is_meta(const store::ObjectId& oid) { return oid.nspace == kMetaNamespace; }

void count_objects(store::ObjectStore& st, const store::CollectionId& cid, uint64_t& objects,
                   uint64_t& bytes) {
  objects = bytes = 0;
  store::ObjectId cur = store::ObjectId::min();
  for (;;) {
    auto page = st.list_objects(cid, cur, 1024);
    if (!page.ok()) return;
    for (const auto& o : page->objects) {
      if (is_meta(o)) continue;
      ++objects;
      if (auto s = st.stat(cid, o); s.ok()) bytes += s->size;
    }
    if (!page->next) return;
    cur = *page->next;
  }
}

void trim_log(store::Transaction& t, PgLog& log, const store::CollectionId& cid,
              const store::ObjectId& meta) {
  if (log.entries().size() <= PgLog::kDefaultMaxEntries + 64) return;
  Eversion to = log.entries()[log.entries().size() - PgLog::kDefaultMaxEntries - 1].version;
  t.omap_rmrange(cid, meta, "l.", log_key(to) + '\0');
  log.trim_to(to);
}

bool touches(const store::Transaction& t, const store::ObjectId& oid) {
  return std::any_of(t.ops().begin(), t.ops().end(), [&](const auto& op) { return op.oid == oid; });
}

bool backfill_ack(ReplicatedPg::Backfill& b, const msg::RepOpReplyMsg& r) {
  if (!b.pending.erase(r.rep_tid)) return false;
  if (r.result != 0 && b.error.ok())
    b.error = Status(static_cast<Errc>(-r.result), "push failed on osd." + std::to_string(r.from_osd));
  return true;
}

Eversion object_version(store::ObjectStore& st, const store::CollectionId& cid, const store::ObjectId& oid) {
  auto a = st.getattr(cid, oid, kObjectInfoAttr);
  if (!a.ok()) return {};
  auto oi = decode_from<ObjectInfo>(*a);
  return oi.ok() ? oi->version : Eversion{};
}

}  // namespace internal

msg::PgInfoMsg ReplicatedPg::my_info(uint32_t epoch) const {
  msg::PgInfoMsg m;
  m.pool = id_.pool;
  m.pg_seed = id_.seed;
  m.map_epoch = epoch;
  m.from = host_.whoami();
  m.last_update_epoch = info_.last_update.epoch;
  m.last_update = info_.last_update.version;
  m.last_epoch_started = info_.last_epoch_started;
  m.objects = objects_;
  if (!log_.empty()) {
    m.log_first_epoch = log_.entries().front().version.epoch;
    m.log_first = log_.entries().front().version.version;
  }
  // Versions count from 1: a log whose oldest entry is the first write holds all history.
  m.log_complete = log_.empty() ? info_.last_update.is_zero() : log_.entries().front().version.version == 1;
  m.has_missing = info_.has_missing;
  m.last_complete_epoch = info_.last_complete.epoch;
  m.last_complete = info_.last_complete.version;
  return m;
}

bool ReplicatedPg::log_covers(const msg::PgInfoMsg& copy, const msg::PgInfoMsg& auth) {
  Eversion have = ReplicatedPg::have(copy);
  Eversion head{auth.last_update_epoch, auth.last_update};
  if (have == head) return true;
  if (have > head) return false;  // divergent beyond the head: only a scan sorts it out
  if (have.is_zero()) return auth.log_complete;
  return Eversion{auth.log_first_epoch, auth.log_first} <= have;
}

bool ReplicatedPg::log_has(Eversion lu) const {
  if (lu > log_.head()) return false;
  if (lu == log_.head()) return true;
  const auto& es = log_.entries();
  if (lu.is_zero() && !es.empty() && es.front().version.version == 1) return true;  // the whole history
  auto it = std::lower_bound(es.begin(), es.end(), lu,
                             [](const LogEntry& e, const Eversion& v) { return e.version < v; });
  return it != es.end() && it->version == lu;
}

std::optional<std::set<store::ObjectId>> ReplicatedPg::log_objects_since(Eversion lu) const {
  // The target's newest entry must be in this log (else it has entries this
  // history lacks: divergent, rolled back only by a scan).
  if (!log_has(lu)) return std::nullopt;
  std::set<store::ObjectId> objs;
  for (const auto& e : log_.entries_after(lu)) objs.insert(e.oid);
  return objs;
}

bool ReplicatedPg::plan_from_log(Eversion lu) {
  Backfill& b = *backfill_;
  auto objs = log_objects_since(lu);
  if (!objs) return false;
  for (const auto& o : *objs) (host_.store().stat(cid_, o).ok() ? b.to_push : b.to_remove).push_back(o);
  return true;
}

void ReplicatedPg::start_backfill(int32_t target, uint32_t epoch, std::optional<Eversion> target_lu,
                                  bool background) {
  if (!background && uncommitted_ > 0) {
    // Writes of the interval that just ended may still be committing here: copy
    // only once they are in, so the objects and the log pushed agree. (Background
    // copies run beside writes and catch up on what was written meanwhile.)
    when_quiet([this, target, epoch, target_lu] {
      bool still = !backfill_ && (is_primary() ? epoch == interval_start_ && state_ == State::kBackfilling
                                               : epoch == primary_interval_);
      if (still) start_backfill(target, epoch, target_lu, false);
    });
    return;
  }
  backfill_ = std::make_unique<Backfill>();
  backfill_->target = target;
  backfill_->epoch = epoch;
  backfill_->scan_tid = next_rep_tid_++;
  backfill_->background = background;
  backfill_->skip_meta = background;  // a background copy gets info and log in its last pass
  // Writes in flight may commit after this pass reads their objects: go over them again.
  if (background)
    for (const auto& [tid, w] : in_flight_) backfill_->dirty.insert(w->oid);
  if (target_lu && plan_from_log(*target_lu)) {
    // Recovery: only what the log says changed since the target's last_update.
    backfill_->log_based = true;
    CAIRN_LOG(kInfo, kOsd) << "pg recovery from the log" << log::kv("pg", cid_.to_string())
                           << log::kv("target", target) << log::kv("since", target_lu->to_string())
                           << log::kv("push", backfill_->to_push.size())
                           << log::kv("remove", backfill_->to_remove.size());
    // A background copy asks the target first (a one-object scan): it refuses when
    // it is over its backfillfull ratio.
    if (background) return start_scan(1);
    backfill_->scanned = true;
    backfill_push_all();
    return;
  }
  start_scan(kScanPage);
}

void ReplicatedPg::start_backfill_list(int32_t target, const std::set<store::ObjectId>& objs, bool final) {
  backfill_ = std::make_unique<Backfill>();
  backfill_->target = target;
  backfill_->epoch = interval_start_;
  backfill_->background = true;
  backfill_->scan_tid = next_rep_tid_++;  // names this pass
  backfill_->final = final;
  backfill_->skip_meta = !final;
  backfill_->scanned = true;
  for (const auto& [tid, w] : in_flight_) backfill_->dirty.insert(w->oid);
  for (const auto& o : objs)
    (host_.store().stat(cid_, o).ok() ? backfill_->to_push : backfill_->to_remove).push_back(o);
  backfill_push_all();
}

void ReplicatedPg::start_scan(uint32_t max) {
  int32_t target = backfill_->target;
  uint32_t epoch = backfill_->epoch;
  if (!backfill_->log_based)
    CAIRN_LOG(kInfo, kOsd) << "pg backfill start" << log::kv("pg", cid_.to_string())
                           << log::kv("target", target);
  msg::PgScanMsg q;
  q.pool = id_.pool;
  q.pg_seed = id_.seed;
  q.map_epoch = epoch;
  q.scan_tid = backfill_->scan_tid;
  q.max = max;
  q.result = host_.whoami();  // a query carries the asking OSD's id here
  q.background = backfill_->background;
  send_msg(target, msg::kMsgPgScan, q);
}

void ReplicatedPg::handle_scan(const msg::PgScanMsg& in, int32_t from) {
  if (in.reply) return in.scrub ? scrub_scan_reply(in, from) : backfill_scan_reply(in);
  if (uncommitted_ > 0 && !in.scrub) {
    // List this copy once what is queued to the store is in (see start_backfill).
    return when_quiet([this, in, from] { handle_scan(in, from); });
  }
  // A source asks for a page of this copy.
  msg::PgScanMsg r = in;
  r.reply = true;
  r.result = 0;
  r.objects.clear();
  r.versions.clear();
  if (in.background && map_ && host_.store_full(map_->backfillfull_permille)) {
    // Misplaced copies wait while this OSD is over its backfillfull ratio (the
    // monitors' flag may lag its usage); degraded ones are never refused here.
    r.result = -ENOSPC;
    r.at_end = true;
    return send_msg(in.result, msg::kMsgPgScan, r);
  }
  store::ObjectId start{in.start.hash, in.start.nspace, in.start.name, 0};
  auto page = host_.store().list_objects(cid_, start, std::clamp<uint32_t>(in.max, 1, 4096));
  if (!page.ok()) {
    r.result = -page.status().err();
  } else {
    for (const auto& o : page->objects) {
      if (internal::is_meta(o)) continue;
      Eversion v = internal::object_version(host_.store(), cid_, o);
      r.objects.push_back({o.hash, o.nspace, o.name});
      r.versions.emplace_back(v.epoch, v.version);
      if (in.scrub) {
        internal::CopyDigest d = internal::digest_copy(host_.store(), cid_, o, in.deep);
        r.sizes.push_back(d.size);
        r.attr_digests.push_back(d.attrs);
        r.data_digests.push_back(d.data);
      }
    }
    r.at_end = !page->next;
    if (page->next) r.next = {page->next->hash, page->next->nspace, page->next->name};
  }
  send_msg(in.result, msg::kMsgPgScan, r);  // a query's `result` is the asking OSD
}

void ReplicatedPg::backfill_scan_reply(const msg::PgScanMsg& r) {
  if (!backfill_ || r.scan_tid != backfill_->scan_tid || backfill_->scanned) return;
  Backfill& b = *backfill_;
  if (r.result == -ENOSPC)
    return backfill_done(
        Status(Errc::kNoSpace, "osd." + std::to_string(b.target) + " is too full to backfill"));
  if (r.result != 0)
    return backfill_done(Status(Errc::kIo, "scan failed on osd." + std::to_string(b.target)));
  if (b.background) toofull_ = false;  // the target took it
  if (b.log_based) {                   // the target agreed to a copy planned from the log
    b.scanned = true;
    return backfill_push_all();
  }
  for (size_t i = 0; i < r.objects.size() && i < r.versions.size(); ++i) {
    const auto& c = r.objects[i];
    b.remote[store::ObjectId{c.hash, c.nspace, c.name, store::kHeadSnap}] =
        Eversion{r.versions[i].first, r.versions[i].second};
  }
  if (!r.at_end) {
    msg::PgScanMsg q;
    q.pool = id_.pool;
    q.pg_seed = id_.seed;
    q.map_epoch = b.epoch;
    q.scan_tid = b.scan_tid;
    q.max = kScanPage;
    q.start = r.next;
    q.result = host_.whoami();
    send_msg(b.target, msg::kMsgPgScan, q);
    return;
  }
  // Compare with this copy.
  b.scanned = true;
  auto& st = host_.store();
  std::set<store::ObjectId> mine;
  store::ObjectId cur = store::ObjectId::min();
  for (;;) {
    auto page = st.list_objects(cid_, cur, 1024);
    if (!page.ok()) return backfill_done(page.status());
    for (const auto& o : page->objects) {
      if (internal::is_meta(o)) continue;
      mine.insert(o);
      auto it = b.remote.find(o);
      if (it == b.remote.end() || it->second != internal::object_version(st, cid_, o)) b.to_push.push_back(o);
    }
    if (!page->next) break;
    cur = *page->next;
  }
  for (const auto& [o, v] : b.remote)
    if (!mine.count(o)) b.to_remove.push_back(o);
  b.remote.clear();
  CAIRN_LOG(kInfo, kOsd) << "pg backfill plan" << log::kv("pg", cid_.to_string())
                         << log::kv("target", b.target) << log::kv("push", b.to_push.size())
                         << log::kv("remove", b.to_remove.size());
  backfill_push_all();
}

Status ReplicatedPg::push_object(int32_t target, const store::ObjectId& oid, uint64_t rep_tid, uint32_t epoch,
                                 uint64_t* bytes) {
  store::Transaction t;
  CAIRN_RETURN_IF_ERROR(build_push(oid, t, bytes));
  msg::RepOpMsg rep{id_.pool, id_.seed, epoch, 0, 0, rep_tid, true, {}};
  send_msg(target, msg::kMsgRepOp, rep, encode_to_buffer(t));
  return {};
}

Status ReplicatedPg::build_push(const store::ObjectId& oid, store::Transaction& t, uint64_t* bytes) {
  auto& st = host_.store();
  // Recreate the object whole: touch so the remove always finds it.
  t.touch(cid_, oid);
  t.remove(cid_, oid);
  t.touch(cid_, oid);
  CAIRN_ASSIGN_OR_RETURN(auto data, st.read(cid_, oid, 0, 0));
  if (bytes) *bytes = data.size();
  if (!data.empty()) t.write(cid_, oid, 0, std::move(data));
  CAIRN_ASSIGN_OR_RETURN(auto attrs, st.getattrs(cid_, oid));
  if (!attrs.empty()) t.setattrs(cid_, oid, std::move(attrs));
  if (auto h = st.omap_get_header(cid_, oid); h.ok() && !h->empty()) t.omap_setheader(cid_, oid, *h);
  std::string start;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(auto page, st.omap_list(cid_, oid, start, 4096));
    if (!page.entries.empty()) {
      start = page.entries.back().first + '\0';
      store::AttrMap kv(std::make_move_iterator(page.entries.begin()),
                        std::make_move_iterator(page.entries.end()));
      t.omap_setkeys(cid_, oid, std::move(kv));
    }
    if (!page.more || page.entries.empty()) break;
  }
  return {};
}

void ReplicatedPg::backfill_push_all() {
  if (!backfill_ || !backfill_->scanned) return;
  Backfill& b = *backfill_;
  if (!b.error.ok()) return backfill_done(b.error);
  // Removals first (one transaction), then objects, then the meta object.
  if (!b.to_remove.empty()) {
    store::Transaction t;
    for (const auto& o : b.to_remove) {
      t.touch(cid_, o);  // it may not be there (created and removed since the target's last_update)
      t.remove(cid_, o);
    }
    b.to_remove.clear();
    uint64_t tid = next_rep_tid_++;
    b.pending.insert(tid);
    msg::RepOpMsg rep{id_.pool, id_.seed, b.epoch, 0, 0, tid, true, {}};
    send_msg(b.target, msg::kMsgRepOp, rep, encode_to_buffer(t));
  }
  // Background copies (misplaced, not degraded) yield to clients: fewer in flight.
  size_t window = b.background ? std::max<size_t>(1, host_.recovery_max_active()) : kMaxPushesInFlight;
  while (b.next_push < b.to_push.size() && b.pending.size() < window) {
    uint64_t tid = next_rep_tid_++, bytes = 0;
    Status st = push_object(b.target, b.to_push[b.next_push++], tid, b.epoch, &bytes);
    if (!st.ok()) return backfill_done(st);
    if (b.background) (void)host_.recovery_charge(bytes);  // osd_recovery_max_bytes
    b.pending.insert(tid);
  }
  if (b.next_push < b.to_push.size() || !b.pending.empty()) return;
  if (!b.meta_sent && !b.skip_meta) {
    b.meta_sent = true;
    uint64_t tid = next_rep_tid_++;
    Status st = push_object(b.target, meta_oid_, tid, b.epoch);
    if (!st.ok()) return backfill_done(st);
    b.pending.insert(tid);
    return;
  }
  backfill_done(Status());
}

void ReplicatedPg::backfill_done(Status st) {
  if (!backfill_) return;
  std::unique_ptr<Backfill> b = std::move(backfill_);
  int32_t target = b->target;
  uint32_t bepoch = b->epoch;
  if (b->background) return background_done(*b, st);
  if (!st.ok()) {
    CAIRN_LOG(kWarn, kOsd) << "pg backfill failed" << log::kv("pg", cid_.to_string())
                           << log::kv("target", target) << log::kv("error", st.to_string());
    // Try again a little later (a new interval resets it anyway).
    host_.run_after(std::chrono::seconds(1), [this, target, bepoch] {
      if (bepoch >= interval_start_ && !backfill_ && (state_ == State::kBackfilling || !is_primary()))
        start_backfill(target, bepoch);
    });
    return;
  }
  CAIRN_LOG(kInfo, kOsd) << "pg backfill done" << log::kv("pg", cid_.to_string()) << log::kv("target", target)
                         << log::kv("log_based", b->log_based);
  if (!is_primary()) {
    // This copy backfilled the primary at its request: tell it.
    msg::PgInfoMsg done = my_info(bepoch);
    done.backfill_done = true;
    send_msg(target, msg::kMsgPgInfo, done);
    return;
  }
  auto it = peer_info_.find(target);
  if (it != peer_info_.end()) {
    it->second.last_update_epoch = info_.last_update.epoch;
    it->second.last_update = info_.last_update.version;
    it->second.has_missing = false;
  }
  state_ = State::kPeering;
  maybe_activate();
}

void ReplicatedPg::background_done(const Backfill& b, Status st) {
  if (b.epoch != interval_start_ || !is_primary() || state_ != State::kActive) return;
  if (!st.ok()) {
    if (st.code() == Errc::kNoSpace) {
      // The target has no room for misplaced copies: wait (without the reservation) until it does.
      if (!toofull_)
        CAIRN_LOG(kInfo, kOsd) << "pg backfill target too full: waiting" << log::kv("pg", cid_.to_string())
                               << log::kv("target", b.target);
      toofull_ = true;
      release_reservation();
    } else {
      CAIRN_LOG(kWarn, kOsd) << "pg background backfill failed" << log::kv("pg", cid_.to_string())
                             << log::kv("target", b.target) << log::kv("error", st.to_string());
    }
    if (b.final) release_held_writes();
    remap_tick();  // tries again
    return;
  }
  toofull_ = false;
  if (b.final) {
    synced_.insert(b.target);
  } else if (!b.dirty.empty() && b.passes < 3) {
    // Written while it was copied: another (shorter) pass over just those.
    start_backfill_list(b.target, b.dirty, false);
    if (backfill_) backfill_->passes = b.passes + 1;
    return;
  } else {
    copied_[b.target] = b.dirty;  // the rest goes in the final pass, with writes held
    CAIRN_LOG(kInfo, kOsd) << "pg background backfill copied" << log::kv("pg", cid_.to_string())
                           << log::kv("target", b.target) << log::kv("dirty", b.dirty.size());
  }
  check_remapped();
}

Result<std::string> ReplicatedPg::dump_objects_json(bool with_digest) {
  auto& st = host_.store();
  std::string out = "{\"pg\":\"" + cid_.to_string() + "\",\"last_update\":\"" +
                    info_.last_update.to_string() +
                    "\",\"last_epoch_started\":" + std::to_string(info_.last_epoch_started) +
                    ",\"has_missing\":" + (info_.has_missing ? "true" : "false") + ",\"objects\":[";
  store::ObjectId cur = store::ObjectId::min();
  bool first = true;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(auto page, st.list_objects(cid_, cur, 1024));
    for (const auto& o : page.objects) {
      if (internal::is_meta(o)) continue;
      Eversion v = internal::object_version(st, cid_, o);
      auto size = st.stat(cid_, o);
      std::string name;
      for (char c : o.name) {
        if (c == '"' || c == '\\') name += '\\';
        if (static_cast<unsigned char>(c) >= 0x20) name += c;
      }
      out += std::string(first ? "" : ",") + "{\"name\":\"" + name + "\",\"version\":\"" + v.to_string() +
             "\",\"size\":" + std::to_string(size.ok() ? size->size : 0);
      if (with_digest) {
        auto data = st.read(cid_, o, 0, 0);
        uint64_t h = data.ok() ? xxh3_64(data->to_string()) : 0;
        out += ",\"xxh3\":\"" + std::to_string(h) + "\"";
      }
      out += "}";
      first = false;
    }
    if (!page.next) break;
    cur = *page.next;
  }
  return out + "]}";
}

}  // namespace cairn::pg
