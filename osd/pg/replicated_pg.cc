// ReplicatedPg: life cycle, intervals, activation and the replica side of writes.
// Client op execution is in pg_ops.cc, copying whole PG copies in pg_backfill.cc.
#include "osd/pg/replicated_pg.h"

#include <algorithm>
#include <cstdio>

#include "common/log.h"
#include "osd/pg/internal/pg_internal.h"

namespace cairn::pg {

void ObjectInfo::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(version);
  e.put(mtime_ns);
  e.end_struct(m);
}

void ObjectInfo::decode(Decoder& d) {
  auto s = d.begin_struct(1, "ObjectInfo");
  d.get(version);
  d.get(mtime_ns);
  d.end_struct(s);
}

void PgInfo::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(last_update);
  e.put(last_epoch_started);
  e.end_struct(m);
}

void PgInfo::decode(Decoder& d) {
  auto s = d.begin_struct(1, "PgInfo");
  d.get(last_update);
  d.get(last_epoch_started);
  d.end_struct(s);
}

std::string object_key(const store::ObjectId& oid) { return oid.nspace + '\0' + oid.name; }

std::string log_key(const Eversion& v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "l.%010u.%020llu", v.epoch, static_cast<unsigned long long>(v.version));
  return buf;
}

ReplicatedPg::ReplicatedPg(PgHost& host, crush::PgId id)
    : host_(host), id_(id), cid_{id.pool, id.seed}, meta_oid_{0, kMetaNamespace, "", store::kHeadSnap} {}

ReplicatedPg::~ReplicatedPg() = default;

Status ReplicatedPg::init(bool create) {
  auto& st = host_.store();
  if (create && !st.collection_exists(cid_)) {
    store::Transaction t;
    t.create_collection(cid_);
    t.touch(cid_, meta_oid_);
    persist_info(t);
    CAIRN_RETURN_IF_ERROR(store::apply_transaction(st, cid_, std::move(t)));
    return {};
  }
  auto vals = st.omap_get_values(cid_, meta_oid_, {"info"});
  if (!vals.ok()) return vals.status().with_context("pg " + cid_.to_string() + " meta");
  if (auto it = vals->find("info"); it != vals->end()) {
    auto info = decode_from<PgInfo>(it->second);
    if (!info.ok()) return info.status().with_context("pg " + cid_.to_string() + " info");
    info_ = *info;
  }
  std::string start = "l.";
  for (;;) {
    auto page = st.omap_list(cid_, meta_oid_, start, 1024);
    if (!page.ok()) return page.status();
    for (auto& [k, v] : page->entries) {
      if (k.rfind("l.", 0) != 0) continue;
      auto e = decode_from<LogEntry>(v);
      if (e.ok()) (void)log_.append(std::move(*e));
    }
    if (!page->more || page->entries.empty()) break;
    start = page->entries.back().first + '\0';
  }
  // Writes persist only their log entry: the newest one is the PG's last_update.
  if (!log_.empty() && log_.head() > info_.last_update) info_.last_update = log_.head();
  return {};
}

void ReplicatedPg::persist_info(store::Transaction& t) {
  store::AttrMap kv;
  kv["info"] = encode_to_buffer(info_);
  t.omap_setkeys(cid_, meta_oid_, std::move(kv));
}

void ReplicatedPg::send_to(int32_t osd, msg::Message m) {
  if (osd == host_.whoami() || osd < 0) return;
  host_.send_to_osd(osd, std::move(m));
}

void ReplicatedPg::on_map(const std::shared_ptr<const crush::OsdMap>& map) {
  map_ = map;
  const crush::PoolInfo* pool = map->pool(id_.pool);
  if (!pool) {
    state_ = State::kStray;
    return;
  }
  min_size_ = pool->min_size;
  auto mapping = map->map_pg(id_);
  if (!mapping.ok()) return;
  std::vector<int32_t> acting(mapping->acting.begin(), mapping->acting.end());
  std::vector<int32_t> up(mapping->up.begin(), mapping->up.end());
  // A member that restarted (new up_from) lost its in-flight messages: that is a
  // new interval too, even when the set itself is unchanged.
  bool changed = state_ == State::kInitial || acting != acting_ || mapping->acting_primary != primary_;
  for (int32_t o : acting) {
    const crush::OsdInfo* oi = map->osd(o);
    if (oi && oi->up_from > interval_start_) changed = true;
  }
  up_ = std::move(up);
  if (!changed) return;
  acting_ = std::move(acting);
  primary_ = mapping->acting_primary;
  interval_start_ = map->epoch;
  start_interval();
}

void ReplicatedPg::start_interval() {
  // Writes in flight belong to the old interval: the clients resend, and the
  // resend is answered from the log if this copy applied it (activation brings
  // every acting copy up to this one before any op runs again).
  for (auto& [tid, w] : in_flight_) reply_error(w->conn, w->req, -EAGAIN);
  in_flight_.clear();
  busy_.clear();
  for (auto& [key, q] : waiting_object_)
    for (auto& w : q) waiting_active_.push_back(std::move(w));
  waiting_object_.clear();
  if (scrub_) {  // a scrub compares one interval's copies: askers resend
    for (auto& [c, req] : scrub_->waiters) reply_error(c, req, -EAGAIN);
    scrub_.reset();
  }
  // A backfill this copy runs for a primary lives until that primary starts a newer interval.
  if (backfill_ && is_primary()) backfill_.reset();
  backfill_queue_.clear();
  peer_info_.clear();
  bool in_acting = std::find(acting_.begin(), acting_.end(), host_.whoami()) != acting_.end();
  CAIRN_LOG(kDebug, kOsd) << "pg new interval" << log::kv("pg", cid_.to_string())
                          << log::kv("epoch", interval_start_) << log::kv("primary", primary_)
                          << log::kv("acting_size", acting_.size());
  if (is_primary()) {
    state_ = State::kPeering;
    msg::PgInfoMsg mine = internal::info_msg(id_, interval_start_, host_.whoami(), info_, objects_);
    peer_info_[host_.whoami()] = mine;
    query_peers();
    maybe_activate();
  } else {
    state_ = in_acting ? State::kReplica : State::kStray;
    // Ops that were waiting here belong to another primary now.
    for (auto& w : waiting_active_) reply_error(w->conn, w->req, -ESTALE);
    waiting_active_.clear();
  }
}

void ReplicatedPg::query_peers() {
  msg::PgInfoMsg q = internal::info_msg(id_, interval_start_, host_.whoami(), info_, objects_);
  q.query = true;
  for (int32_t o : acting_)
    if (o != host_.whoami() && !peer_info_.count(o)) send_msg(o, msg::kMsgPgInfo, q);
  // Ask again until everyone answered (a peer may not have had the PG's pool yet,
  // or restarted in between).
  host_.run_after(std::chrono::seconds(2), [this, epoch = interval_start_] {
    if (epoch == interval_start_ && state_ == State::kPeering) query_peers();
  });
}

void ReplicatedPg::handle_info(const msg::PgInfoMsg& in) {
  if (in.backfill_target >= 0) {
    // The primary asks this (authoritative) copy to bring `backfill_target` up to date.
    if (in.map_epoch < primary_interval_) return;
    primary_interval_ = in.map_epoch;
    if (in.map_epoch > interval_start_) host_.want_map(in.map_epoch);
    start_backfill(in.backfill_target, in.map_epoch);
    return;
  }
  if (in.query) {
    // A primary starts its interval: from now on only its (or a newer) interval's ops count here.
    if (in.map_epoch > primary_interval_) {
      primary_interval_ = in.map_epoch;
      if (backfill_ && backfill_->epoch < in.map_epoch) backfill_.reset();
    }
    msg::PgInfoMsg r = internal::info_msg(id_, in.map_epoch, host_.whoami(), info_, objects_);
    send_msg(in.from, msg::kMsgPgInfo, r);
    if (in.map_epoch > interval_start_) host_.want_map(in.map_epoch);
    return;
  }
  if (!is_primary() || in.map_epoch != interval_start_) return;
  if (in.backfill_done) {
    // A replica finished backfilling this copy: ask everyone again.
    start_interval();
    return;
  }
  peer_info_[in.from] = in;
  maybe_activate();
}

void ReplicatedPg::maybe_activate() {
  if (state_ != State::kPeering || backfill_) return;
  if (acting_.size() < min_size_) return;  // undersized below min_size: I/O waits
  for (int32_t o : acting_)
    if (!peer_info_.count(o)) return;
  // The authoritative copy: newest last_update (this one on a tie).
  int32_t auth = host_.whoami();
  Eversion best = info_.last_update;
  for (const auto& [o, pi] : peer_info_) {
    Eversion v{pi.last_update_epoch, pi.last_update};
    if (v > best) {
      best = v;
      auth = o;
    }
  }
  if (auth != host_.whoami()) {
    CAIRN_LOG(kInfo, kOsd) << "pg primary is behind: backfilling it" << log::kv("pg", cid_.to_string())
                           << log::kv("from", auth) << log::kv("have", info_.last_update.to_string())
                           << log::kv("need", best.to_string());
    msg::PgInfoMsg req = internal::info_msg(id_, interval_start_, host_.whoami(), info_, objects_);
    req.backfill_target = host_.whoami();
    send_msg(auth, msg::kMsgPgInfo, req);
    state_ = State::kBackfilling;
    return;
  }
  backfill_queue_.clear();
  for (const auto& [o, pi] : peer_info_) {
    Eversion v{pi.last_update_epoch, pi.last_update};
    if (o != host_.whoami() && v != info_.last_update) backfill_queue_.push_back(o);
  }
  if (!backfill_queue_.empty()) {
    int32_t target = backfill_queue_.back();
    backfill_queue_.pop_back();
    state_ = State::kBackfilling;
    start_backfill(target, interval_start_);
    return;
  }
  activate();
}

void ReplicatedPg::activate() {
  state_ = State::kActive;
  info_.last_epoch_started = interval_start_;
  store::Transaction t;
  persist_info(t);
  host_.store().queue_transaction(cid_, std::move(t), [](Status) {});
  internal::count_objects(host_.store(), cid_, objects_, bytes_);
  schedule_scrubs();
  CAIRN_LOG(kDebug, kOsd) << "pg active" << log::kv("pg", cid_.to_string())
                          << log::kv("epoch", interval_start_);
  auto waiting = std::move(waiting_active_);
  waiting_active_.clear();
  for (auto& w : waiting) do_op(w->conn, std::move(w->req), std::move(w->op));
}

void ReplicatedPg::handle_rep_op(int32_t from, msg::Message m, msg::RepOpMsg rep) {
  // Ops from an interval older than the newest primary that queried this copy are
  // stale. (Intervals are named by the epoch the primary noticed the change in; a
  // replica may have noticed it in another epoch, so it follows the primary's name.)
  if (rep.map_epoch < (is_primary() ? interval_start_ : primary_interval_)) return;
  if (rep.map_epoch > interval_start_) host_.want_map(rep.map_epoch);
  auto txn = decode_from<store::Transaction>(m.data);
  msg::RepOpReplyMsg reply{id_.pool, id_.seed, rep.map_epoch, rep.rep_tid, 0, host_.whoami()};
  if (!txn.ok()) {
    reply.result = -EINVAL;
    send_msg(from, msg::kMsgRepOpReply, reply);
    return;
  }
  for (const auto& op : txn->ops()) {
    if (op.cid != cid_ ||
        ((op.type == store::Transaction::OpType::kClone || op.type == store::Transaction::OpType::kMove) &&
         op.dst_cid != cid_)) {
      reply.result = -EINVAL;  // a peer may only touch this PG
      send_msg(from, msg::kMsgRepOpReply, reply);
      return;
    }
  }
  if (!rep.push) {
    auto entry = decode_from<LogEntry>(rep.log_entry);
    if (!entry.ok() || !log_.append(*entry).ok()) {
      // Out of order or malformed: this copy cannot follow; the primary will
      // see the error and the next interval backfills us.
      reply.result = -EINVAL;
      send_msg(from, msg::kMsgRepOpReply, reply);
      return;
    }
    info_.last_update = entry->version;
    store::AttrMap kv;
    kv[log_key(entry->version)] = rep.log_entry;
    txn->omap_setkeys(cid_, meta_oid_, std::move(kv));  // the entry is the new last_update
    internal::trim_log(*txn, log_, cid_, meta_oid_);
  }
  // The last push of a backfill copies the source's meta object (info and log):
  // reload them once it is durable.
  bool reload = rep.push && internal::touches(*txn, meta_oid_);
  host_.store().queue_transaction(cid_, std::move(*txn), [this, from, reply, reload](Status st) mutable {
    reply.result = st.ok() ? 0 : -st.err();
    host_.run_on_shard([this, from, reply, reload] {
      if (reload) {
        log_ = PgLog();
        info_ = PgInfo();
        if (Status s = init(false); !s.ok())
          CAIRN_LOG(kWarn, kOsd) << "pg reload after backfill failed" << log::kv("error", s.to_string());
      }
      send_msg(from, msg::kMsgRepOpReply, reply);
      // A pulled copy is in: the reads that waited for it run again.
      for (auto& [key, p] : pulls_)
        if (p->tid == reply.rep_tid) {
          std::string k = key;  // pull_done erases the entry
          pull_done(k, reply.result == 0);
          break;
        }
    });
  });
}

void ReplicatedPg::handle_rep_reply(const msg::RepOpReplyMsg& r) {
  for (auto& [key, p] : pulls_)
    if (p->tid == r.rep_tid && r.result != 0) {  // that replica could not send its copy
      std::string k = key;                       // pull_next may end the pull and erase the entry
      pull_next(k);
      return;
    }
  if (scrub_ && scrub_->repair_tids.erase(r.rep_tid)) {
    if (scrub_->repair_tids.empty()) scrub_finish();
    return;
  }
  if (backfill_ && internal::backfill_ack(*backfill_, r)) {
    backfill_push_all();
    return;
  }
  auto it = in_flight_.find(r.rep_tid);
  if (it == in_flight_.end()) return;
  InFlight& w = *it->second;
  if (r.result != 0 && w.result == 0) w.result = r.result;
  w.waiting.erase(r.from_osd);
  if (w.waiting.empty()) finish_write(r.rep_tid);
}

msg::PgStatEntry ReplicatedPg::stats() const {
  msg::PgStatEntry s;
  s.pool = id_.pool;
  s.seed = id_.seed;
  s.objects = objects_;
  s.bytes = bytes_;
  s.log_head = info_.last_update.version;
  uint32_t size = 0;
  if (map_)
    if (const auto* p = map_->pool(id_.pool)) size = p->placement.size;
  bool undersized = acting_.size() < size;
  switch (state_) {
    case State::kActive:
      s.state = msg::kPgActive;
      if (undersized) s.state |= msg::kPgUndersized | msg::kPgDegraded;
      if (!undersized) s.state |= msg::kPgClean;
      if (up_ != acting_) s.state |= msg::kPgRemapped;
      if (undersized) s.degraded_objects = objects_ * (size - acting_.size());
      break;
    case State::kBackfilling:
      s.state = msg::kPgBackfilling | msg::kPgDegraded;
      // Copies still to push (before the scan finishes: every object, as a bound).
      if (backfill_ && backfill_->scanned)
        s.degraded_objects = backfill_->to_push.size() - backfill_->next_push;
      else
        s.degraded_objects = objects_;
      break;
    default:
      s.state = msg::kPgPeering;
      if (acting_.size() < min_size_) s.state = msg::kPgDown | msg::kPgUndersized;
      break;
  }
  if (!last_scrub_.inconsistent.empty()) s.state |= msg::kPgInconsistent;
  return s;
}

}  // namespace cairn::pg
