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
  auto m = e.begin_struct(2, 1);
  e.put(last_update);
  e.put(last_epoch_started);
  e.put(has_missing);
  e.put(last_complete);
  e.end_struct(m);
}

void PgInfo::decode(Decoder& d) {
  auto s = d.begin_struct(2, "PgInfo");
  d.get(last_update);
  d.get(last_epoch_started);
  if (s.version >= 2) {
    d.get(has_missing);
    d.get(last_complete);
  }
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

void ReplicatedPg::txn_committed() {
  if (uncommitted_ == 0 || --uncommitted_ > 0) return;
  auto waiters = std::move(quiet_waiters_);
  quiet_waiters_.clear();
  for (auto& fn : waiters) fn();
}

void ReplicatedPg::when_quiet(std::function<void()> fn) {
  if (uncommitted_ == 0) return fn();
  quiet_waiters_.push_back(std::move(fn));
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
  if (!changed) {
    // A new up_thru, or an OSD of an earlier interval back up: peering may go on.
    if (state_ == State::kPeering && is_primary()) maybe_activate();
    if (state_ == State::kActive && is_primary()) {
      // A background backfill's target that left the up set (or went down) is dropped.
      if (backfill_ && backfill_->background) {
        const crush::OsdInfo* t = map->osd(backfill_->target);
        if (!t || !t->up || std::find(up_.begin(), up_.end(), backfill_->target) == up_.end())
          backfill_done(Status(Errc::kAgain, "backfill target left the up set"));
      }
      check_remapped();
    }
    return;
  }
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
  // A backfill this copy runs for a primary lives until that primary starts a newer
  // interval; one it ran as primary ends here.
  if (backfill_ && (is_primary() || backfill_->background)) backfill_.reset();
  backfill_queue_.clear();
  peer_info_.clear();
  probe_.clear();
  down_ = false;
  incomplete_ = false;
  missing_.clear();
  recovery_tids_.clear();
  recovering_objs_.clear();
  meta_pending_.clear();
  recovering_peers_.clear();
  planned_missing_.clear();
  copied_.clear();
  synced_.clear();
  holding_writes_ = false;  // held writes are in waiting_active_: handled below
  backfill_wait_ = false;
  toofull_ = false;
  release_reservation();
  bool in_acting = std::find(acting_.begin(), acting_.end(), host_.whoami()) != acting_.end();
  CAIRN_LOG(kDebug, kOsd) << "pg new interval" << log::kv("pg", cid_.to_string())
                          << log::kv("epoch", interval_start_) << log::kv("primary", primary_)
                          << log::kv("acting_size", acting_.size());
  if (is_primary()) {
    state_ = State::kPeering;
    msg::PgInfoMsg mine = my_info(interval_start_);
    peer_info_[host_.whoami()] = mine;
    query_peers();
    if (ticking_ != interval_start_) {
      ticking_ = interval_start_;
      peering_tick(interval_start_);
    }
    maybe_activate();
  } else {
    state_ = in_acting ? State::kReplica : State::kStray;
    // Ops that were waiting here belong to another primary now.
    for (auto& w : waiting_active_) reply_error(w->conn, w->req, -ESTALE);
    waiting_active_.clear();
  }
}

void ReplicatedPg::query_peers() {
  msg::PgInfoMsg q = my_info(interval_start_);
  q.query = true;
  std::set<int32_t> ask(acting_.begin(), acting_.end());
  ask.insert(probe_.begin(), probe_.end());
  for (int32_t o : ask)
    if (o != host_.whoami() && !peer_info_.count(o)) send_msg(o, msg::kMsgPgInfo, q);
}

void ReplicatedPg::peering_tick(uint32_t epoch) {
  // Ask again until everyone answered (a peer may not have had the PG's pool yet,
  // or restarted in between), and look again at what peering waits for (old maps
  // fetched, up_thru recorded).
  host_.run_after(std::chrono::seconds(2), [this, epoch] {
    if (epoch != interval_start_ || !is_primary()) {
      if (ticking_ == epoch) ticking_ = 0;
      return;
    }
    if (state_ == State::kPeering) {
      query_peers();
      maybe_activate();
    }
    if (state_ == State::kPeering || state_ == State::kBackfilling)
      peering_tick(epoch);
    else
      ticking_ = 0;
  });
}

void ReplicatedPg::handle_info(const msg::PgInfoMsg& in) {
  if (in.backfill_target >= 0) {
    // The primary asks this (authoritative) copy to bring `backfill_target` up to date.
    if (in.map_epoch < primary_interval_) return;
    primary_interval_ = in.map_epoch;
    if (in.map_epoch > interval_start_) host_.want_map(in.map_epoch);
    start_backfill(in.backfill_target, in.map_epoch,
                   log_reaches(in) ? std::optional<Eversion>(have(in)) : std::nullopt);
    return;
  }
  if (in.recovered) {
    // The primary pushed every object this copy lacked: it is whole again.
    if (in.map_epoch < primary_interval_ || !info_.has_missing) return;
    info_.has_missing = false;
    info_.last_complete = info_.last_update;
    store::Transaction t;
    persist_info(t);
    host_.store().queue_transaction(cid_, std::move(t), [](Status) {});
    return;
  }
  if (in.activate) {
    // The primary of interval map_epoch went active with this copy in its acting set.
    if (in.map_epoch < primary_interval_ || in.map_epoch <= info_.last_epoch_started) return;
    primary_interval_ = in.map_epoch;
    info_.last_epoch_started = in.map_epoch;
    store::Transaction t;
    persist_info(t);
    host_.store().queue_transaction(cid_, std::move(t), [](Status) {});
    return;
  }
  if (in.query) {
    // A primary starts its interval: from now on only its (or a newer) interval's ops count here.
    if (in.map_epoch > primary_interval_) {
      primary_interval_ = in.map_epoch;
      if (backfill_ && backfill_->epoch < in.map_epoch) backfill_.reset();
    }
    msg::PgInfoMsg r = my_info(in.map_epoch);
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

std::optional<ReplicatedPg::Prior> ReplicatedPg::build_prior(uint32_t since) {
  Prior prior;
  if (since == 0) {  // never active anywhere we heard of: every interval since the pool began
    const crush::PoolInfo* pool = map_->pool(id_.pool);
    since = std::max<uint32_t>(1, pool ? pool->created : 1);
  }
  if (since >= interval_start_) return prior;
  // The intervals that may have written depend only on the epochs walked: kept
  // until `since` or the interval changes (peering re-checks on every map).
  if (rw_since_ != since || rw_until_ != interval_start_) {
    std::vector<std::shared_ptr<const crush::OsdMap>> maps;
    if (!host_.maps_between(since, interval_start_ - 1, maps)) return std::nullopt;
    rw_intervals_.clear();
    // Cut the epochs into intervals: a new one whenever the acting set or its
    // primary changes, or a member restarts (it lost what was in flight).
    struct Interval {
      uint32_t first = 0;
      std::vector<int32_t> acting;
      std::vector<uint32_t> up_from;
      int32_t primary = -1;
      uint32_t min_size = 1;
    };
    auto close = [&](const Interval& iv, const crush::OsdMap& last) {
      // It may have accepted writes only if it could go active: enough copies, and
      // the monitors recorded its primary's up_thru (asked for before activating).
      if (iv.primary < 0 || iv.acting.size() < iv.min_size) return;
      const crush::OsdInfo* p = last.osd(iv.primary);
      if (!p || p->up_thru < iv.first) return;
      rw_intervals_.push_back(iv.acting);
    };
    std::optional<Interval> cur;
    for (size_t i = 0; i < maps.size(); ++i) {
      const crush::OsdMap& m = *maps[i];
      Interval x;
      x.first = m.epoch;
      const crush::PoolInfo* pool = m.pool(id_.pool);
      auto mp = m.map_pg(id_);
      if (pool && mp.ok()) {
        x.acting.assign(mp->acting.begin(), mp->acting.end());
        x.primary = mp->acting_primary;
        x.min_size = pool->min_size;
        for (int32_t o : x.acting) x.up_from.push_back(m.osd(o) ? m.osd(o)->up_from : 0);
      }
      if (cur && cur->acting == x.acting && cur->primary == x.primary && cur->up_from == x.up_from) continue;
      if (cur) close(*cur, *maps[i - 1]);
      cur = std::move(x);
    }
    if (cur && !maps.empty()) close(*cur, *maps.back());
    rw_since_ = since;
    rw_until_ = interval_start_;
  }
  for (const auto& acting : rw_intervals_) {
    bool any_up = false;
    for (int32_t o : acting) {
      const crush::OsdInfo* oi = map_->osd(o);
      if (oi && oi->up) {
        prior.probe.insert(o);
        any_up = true;
      }
    }
    if (!any_up) {
      prior.down = true;
      prior.blocked_by.insert(acting.begin(), acting.end());
    }
  }
  prior.probe.erase(host_.whoami());
  return prior;
}

void ReplicatedPg::maybe_activate() {
  if (state_ != State::kPeering || backfill_) return;
  bool was_down = down_;
  down_ = false;
  if (acting_.size() < min_size_) return;  // undersized below min_size: I/O waits
  // Whom to hear from: every acting copy, and an up member of each earlier interval
  // since the newest activation anyone reports that may have accepted writes.
  uint32_t since = info_.last_epoch_started;
  for (const auto& [o, pi] : peer_info_) since = std::max(since, pi.last_epoch_started);
  auto prior = build_prior(since);
  if (!prior) {  // old maps are being fetched: the 2 s retry of query_peers looks again
    return;
  }
  bool new_probe = false;
  for (int32_t o : prior->probe)
    if (!probe_.count(o)) new_probe = true;
  probe_ = prior->probe;
  if (prior->down) {
    if (!was_down)
      CAIRN_LOG(kWarn, kOsd) << "pg down: every copy of an interval that may have written is down"
                             << log::kv("pg", cid_.to_string()) << log::kv("since", since)
                             << log::kv("needs", [&] {
                                  std::string s;
                                  for (int32_t o : prior->blocked_by)
                                    s += (s.empty() ? "osd." : ",osd.") + std::to_string(o);
                                  return s;
                                }());
    down_ = true;
    return;
  }
  if (new_probe) query_peers();
  for (int32_t o : acting_)
    if (!peer_info_.count(o)) return;
  for (int32_t o : probe_)
    if (!peer_info_.count(o)) return;
  // The authoritative copy: the newest activation, then the newest last_update,
  // then a whole copy over one still being recovered (this one on a tie).
  auto rank = [](uint32_t les, Eversion v, bool whole) { return std::make_tuple(les, v, whole); };
  int32_t auth = host_.whoami();
  auto best = rank(info_.last_epoch_started, info_.last_update, !info_.has_missing);
  for (const auto& [o, pi] : peer_info_) {
    auto r = rank(pi.last_epoch_started, Eversion{pi.last_update_epoch, pi.last_update}, !pi.has_missing);
    if (r > best) {
      best = r;
      auth = o;
    }
  }
  if (!std::get<2>(best)) {
    // The newest copy lacks objects. A whole copy with the same last_update has
    // exactly its history; without one, those objects' newest versions are only on
    // the copy that was recovering it: wait for it (incomplete).
    Eversion lu = std::get<1>(best);
    for (const auto& [o, pi] : peer_info_)
      if (!pi.has_missing && Eversion{pi.last_update_epoch, pi.last_update} == lu) {
        auth = o;
        std::get<2>(best) = true;
        break;
      }
    if (!std::get<2>(best)) {
      if (!incomplete_)
        CAIRN_LOG(kWarn, kOsd) << "pg incomplete: the newest copy lacks objects and no whole copy is up"
                               << log::kv("pg", cid_.to_string()) << log::kv("copy", auth)
                               << log::kv("last_update", lu.to_string());
      incomplete_ = true;
      return;
    }
  }
  incomplete_ = false;
  // Copies that only a whole backfill can bring up to date would keep the PG
  // inactive meanwhile: ask that the complete ones act (pg_temp) and backfill the
  // others in the background.
  if (auto keep = temp_for_backfill(auth)) {
    // Once per interval, and again every 2 s while the map with it has not come.
    uint64_t now = host_.now_ns();
    if (temp_asked_ != interval_start_ || now - temp_asked_ns_ >= 2'000'000'000ull) {
      std::string set;
      for (int32_t o : *keep) set += (set.empty() ? "" : ",") + std::to_string(o);
      CAIRN_LOG(kInfo, kOsd) << "pg asks for pg_temp while copies backfill" << log::kv("pg", cid_.to_string())
                             << log::kv("acting", set);
      host_.request_pg_temp(id_, *keep);
      temp_asked_ = interval_start_;
      temp_asked_ns_ = now;
    }
    return;  // the map with it starts a new interval
  }
  if (auth != host_.whoami()) {
    CAIRN_LOG(kInfo, kOsd) << "pg primary is behind: backfilling it" << log::kv("pg", cid_.to_string())
                           << log::kv("from", auth) << log::kv("have", info_.last_update.to_string())
                           << log::kv("need", std::get<1>(best).to_string());
    msg::PgInfoMsg req = my_info(interval_start_);
    req.backfill_target = host_.whoami();
    send_msg(auth, msg::kMsgPgInfo, req);
    state_ = State::kBackfilling;
    return;
  }
  // Before going active (and accepting writes) the monitors must record that this
  // interval may have: a later primary then knows to look for its copies.
  const crush::OsdInfo* me = map_->osd(host_.whoami());
  if (!me || me->up_thru < interval_start_) {
    host_.want_up_thru(interval_start_);
    return;  // the map that carries it calls maybe_activate again (or the 2 s retry)
  }
  // Copies behind: those the log reaches are recovered while the PG is active;
  // the others (divergent, or beyond the log) are backfilled by a scan first.
  backfill_queue_.clear();
  std::vector<int32_t> from_log;
  for (int32_t o : acting_) {
    auto it = peer_info_.find(o);
    if (o == host_.whoami() || it == peer_info_.end()) continue;
    Eversion v = have(it->second);
    if (v == info_.last_update && !it->second.has_missing) continue;
    (log_reaches(it->second) ? from_log : backfill_queue_).push_back(o);
  }
  if (!backfill_queue_.empty()) {
    int32_t target = backfill_queue_.back();
    backfill_queue_.pop_back();
    state_ = State::kBackfilling;
    start_backfill(target, interval_start_, std::nullopt);
    return;
  }
  if (start_log_recovery(from_log)) return;  // activates once they have the log
  activate();
}

void ReplicatedPg::activate() {
  state_ = State::kActive;
  info_.last_epoch_started = interval_start_;
  store::Transaction t;
  persist_info(t);
  host_.store().queue_transaction(cid_, std::move(t), [](Status) {});
  // The replicas record the activation before any write of this interval reaches
  // them (same ordered connection): their last_epoch_started then says they hold
  // every write acknowledged from here on.
  msg::PgInfoMsg act = my_info(interval_start_);
  act.activate = true;
  for (int32_t o : acting_) send_msg(o, msg::kMsgPgInfo, act);
  internal::count_objects(host_.store(), cid_, objects_, bytes_);
  schedule_scrubs();
  CAIRN_LOG(kDebug, kOsd) << "pg active" << log::kv("pg", cid_.to_string())
                          << log::kv("epoch", interval_start_)
                          << log::kv("last_update", info_.last_update.to_string())
                          << log::kv("acting_size", acting_.size());
  auto waiting = std::move(waiting_active_);
  waiting_active_.clear();
  for (auto& w : waiting) do_op(w->conn, std::move(w->req), std::move(w->op));
  check_remapped();
}

std::optional<std::vector<int32_t>> ReplicatedPg::temp_for_backfill(int32_t auth) {
  auto ai = peer_info_.find(auth);
  if (ai == peer_info_.end()) return std::nullopt;
  auto usable = [&](int32_t o) {
    auto it = peer_info_.find(o);
    const crush::OsdInfo* oi = map_->osd(o);
    if (it == peer_info_.end() || !oi || !oi->up || !log_covers(it->second, ai->second)) return false;
    // An empty copy of a PG that holds data is filled in the background, however short the log.
    if (it->second.last_update == 0 && it->second.last_update_epoch == 0 && ai->second.last_update > 0)
      return false;
    // Versions count the PG's writes: the gap is the number of entries to replay.
    return ai->second.last_update - std::min(ai->second.last_update, have(it->second).version) <=
           host_.recovery_max_log_entries();
  };
  bool needs_backfill = false;
  for (int32_t o : acting_)
    if (!usable(o)) needs_backfill = true;
  if (!needs_backfill) return std::nullopt;
  // The authoritative copy first (it becomes the primary), then acting copies, then
  // other complete ones we heard from (an OSD being drained, a previous interval's).
  std::vector<int32_t> keep{auth};
  for (int32_t o : acting_)
    if (o != auth && usable(o)) keep.push_back(o);
  const crush::PoolInfo* pool = map_->pool(id_.pool);
  size_t size = pool ? pool->placement.size : acting_.size();
  for (const auto& [o, pi] : peer_info_)
    if (keep.size() < size && std::find(keep.begin(), keep.end(), o) == keep.end() && usable(o))
      keep.push_back(o);
  if (keep.size() < min_size_ || keep == acting_) return std::nullopt;
  return keep;
}

void ReplicatedPg::check_remapped() {
  // Degraded copies first: misplaced ones wait until the acting set is whole.
  if (!is_primary() || state_ != State::kActive || backfill_ || recovering()) return;
  std::vector<int32_t> targets;
  for (int32_t o : up_) {
    const crush::OsdInfo* oi = map_->osd(o);
    if (std::find(acting_.begin(), acting_.end(), o) == acting_.end() && oi && oi->up) targets.push_back(o);
  }
  bool has_temp = map_->overrides.pg_temp.count(id_) != 0;
  if (targets.empty()) {
    // Nothing to copy: an override that no longer adds anything goes.
    if (has_temp && up_.size() >= acting_.size()) host_.request_pg_temp(id_, {});
    if (holding_writes_) release_held_writes();
    release_reservation();
    return;
  }
  // A target over its backfillfull ratio gets no more copies: the PG stays remapped
  // on its complete copies (backfill_toofull) until it has room again.
  for (int32_t t : targets) {
    const crush::OsdInfo* oi = map_->osd(t);
    if (synced_.count(t) || !(oi->fullness & (crush::kOsdBackfillfull | crush::kOsdFull))) continue;
    if (!toofull_)
      CAIRN_LOG(kInfo, kOsd) << "pg backfill target too full: waiting" << log::kv("pg", cid_.to_string())
                             << log::kv("target", t);
    toofull_ = true;
    backfill_wait_ = false;
    if (holding_writes_) release_held_writes();
    release_reservation();
    remap_tick();
    return;
  }
  for (int32_t t : targets) {
    if (copied_.count(t) || synced_.count(t)) continue;
    if (!reserved_) {
      if (!host_.reserve_backfill()) {  // other PGs of this OSD backfill first
        backfill_wait_ = true;
        remap_tick();
        return;
      }
      reserved_ = true;
    }
    backfill_wait_ = false;
    std::optional<Eversion> lu;
    if (auto it = peer_info_.find(t); it != peer_info_.end()) lu = have(it->second);
    CAIRN_LOG(kInfo, kOsd) << "pg background backfill" << log::kv("pg", cid_.to_string())
                           << log::kv("target", t);
    start_backfill(t, interval_start_, lu, true);
    return;
  }
  // Every target has a copy: a last pass each over what was written since, with
  // writes held so nothing new slips in, then the up set takes over.
  holding_writes_ = true;
  if (!in_flight_.empty()) return;  // finish_write calls again
  for (int32_t t : targets) {
    if (synced_.count(t)) continue;
    start_backfill_list(t, copied_[t], true);
    return;
  }
  release_reservation();
  CAIRN_LOG(kInfo, kOsd) << "pg backfilled: dropping pg_temp" << log::kv("pg", cid_.to_string());
  host_.request_pg_temp(id_, {});
  remap_tick();  // asks again until the map comes
}

void ReplicatedPg::remap_tick() {
  if (remap_ticking_) return;
  remap_ticking_ = true;
  host_.run_after(std::chrono::seconds(1), [this, epoch = interval_start_] {
    remap_ticking_ = false;
    if (epoch == interval_start_) check_remapped();
  });
}

void ReplicatedPg::release_held_writes() {
  holding_writes_ = false;
  if (state_ != State::kActive) return;
  auto waiting = std::move(waiting_active_);
  waiting_active_.clear();
  for (auto& w : waiting) do_op(w->conn, std::move(w->req), std::move(w->op));
}

void ReplicatedPg::release_reservation() {
  if (!reserved_) return;
  reserved_ = false;
  host_.release_backfill();
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
  ++uncommitted_;
  host_.store().queue_transaction(cid_, std::move(*txn), [this, from, reply, reload](Status st) mutable {
    reply.result = st.ok() ? 0 : -st.err();
    host_.run_on_shard([this, from, reply, reload] {
      txn_committed();
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
  if (recovery_ack(r)) return;
  if (scrub_ && scrub_->repair_tids.erase(r.rep_tid)) {
    if (scrub_->repair_tids.empty()) scrub_finish();
    return;
  }
  if (backfill_ && internal::backfill_ack(*backfill_, r)) {
    // Misplaced copies (the acting set is whole) yield to clients; degraded ones do not.
    const crush::PoolInfo* pool = map_ ? map_->pool(id_.pool) : nullptr;
    bool degraded = pool && acting_.size() < pool->placement.size;
    // The pause is osd_recovery_sleep, or longer while over osd_recovery_max_bytes.
    auto pause =
        degraded ? std::chrono::milliseconds(0) : std::max(host_.recovery_sleep(), host_.recovery_charge(0));
    if (!backfill_->background || pause.count() == 0 || !backfill_->error.ok()) {
      backfill_push_all();
      return;
    }
    // Background copies pause between pushes (osd_recovery_sleep) so clients keep their latency.
    host_.run_after(pause, [this, id = backfill_->scan_tid] {
      if (backfill_ && backfill_->scan_tid == id) backfill_push_all();
    });
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
  s.last_epoch_started = info_.last_epoch_started;
  uint32_t size = 0;
  if (map_)
    if (const auto* p = map_->pool(id_.pool)) size = p->placement.size;
  bool undersized = acting_.size() < size;
  switch (state_) {
    case State::kActive:
      s.state = msg::kPgActive;
      if (undersized) s.state |= msg::kPgUndersized | msg::kPgDegraded;
      if (!undersized && up_ == acting_ && !recovering()) s.state |= msg::kPgClean;
      if (undersized) s.degraded_objects = objects_ * (size - acting_.size());
      if (recovering()) {
        s.state |= msg::kPgRecovering | msg::kPgDegraded;
        for (const auto& [o, targets] : missing_) s.degraded_objects += targets.size();
      }
      if (up_ != acting_) {
        s.state |= msg::kPgRemapped;
        if (toofull_)
          s.state |= msg::kPgBackfillToofull;
        else if (backfill_ && backfill_->background)
          s.state |= msg::kPgBackfilling;
        else if (backfill_wait_)
          s.state |= msg::kPgBackfillWait;
        // Copies still to make on up OSDs outside the acting set.
        for (int32_t o : up_) {
          if (std::find(acting_.begin(), acting_.end(), o) != acting_.end() || synced_.count(o) ||
              copied_.count(o))
            continue;
          if (backfill_ && backfill_->background && backfill_->target == o && backfill_->scanned)
            s.misplaced_objects += backfill_->to_push.size() - backfill_->next_push;
          else
            s.misplaced_objects += objects_;
        }
      }
      break;
    case State::kBackfilling:
      // Peering-time: from the log (recovering) or by a scan (backfilling).
      s.state = ((backfill_ && backfill_->log_based) || !meta_pending_.empty() ? msg::kPgRecovering
                                                                               : msg::kPgBackfilling) |
                msg::kPgDegraded;
      // Copies still to push (before the scan finishes: every object, as a bound).
      if (backfill_ && backfill_->scanned)
        s.degraded_objects = backfill_->to_push.size() - backfill_->next_push;
      else
        s.degraded_objects = objects_;
      break;
    default:
      s.state = msg::kPgPeering;
      if (down_) s.state = msg::kPgDown;
      if (incomplete_) s.state = msg::kPgIncomplete;
      if (acting_.size() < min_size_) s.state = msg::kPgDown | msg::kPgUndersized;
      break;
  }
  if (!last_scrub_.inconsistent.empty()) s.state |= msg::kPgInconsistent;
  return s;
}

}  // namespace cairn::pg
