// ReplicatedPg: recovering acting replicas while the PG is active.
//
// A replica whose last_update (or last_complete) is still in the primary's log is
// not copied before activation. It first gets the primary's log (a push of the
// meta object whose info says has_missing, last_complete = where the replica was),
// so it follows the writes of the new interval; the PG goes active; then the
// objects named in the log since that point are pushed whole in the background.
// A write to one of them waits until it has been pushed (it would otherwise be
// applied to a stale copy); reads are served by the primary, which is whole. At
// the end the replica is told `recovered` and clears has_missing.
//
// A copy with has_missing is never authoritative unless a whole copy with the same
// last_update is there too (peering reports the PG incomplete and waits otherwise).
#include "common/log.h"
#include "osd/pg/internal/pg_internal.h"

namespace cairn::pg {

namespace {
constexpr size_t kMaxRecoveryPushes = 8;
}

bool ReplicatedPg::start_log_recovery(const std::vector<int32_t>& targets) {
  if (targets.empty()) return false;
  state_ = State::kBackfilling;
  bool failed = false;
  for (int32_t t : targets) {
    const msg::PgInfoMsg& pi = peer_info_[t];
    auto objs = log_objects_since(have(pi));
    store::Transaction tx;
    if (!objs || !build_push(meta_oid_, tx, nullptr).ok()) {
      failed = true;
      break;
    }
    // This PG's info and log, marked as lacking what came after the target's point.
    PgInfo theirs = info_;
    theirs.has_missing = true;
    theirs.last_complete = have(pi);
    store::AttrMap kv;
    kv["info"] = encode_to_buffer(theirs);
    tx.omap_setkeys(cid_, meta_oid_, std::move(kv));
    uint64_t tid = next_rep_tid_++;
    meta_pending_.insert(tid);
    planned_missing_[t] = std::move(*objs);
    CAIRN_LOG(kInfo, kOsd) << "pg recovery from the log while active" << log::kv("pg", cid_.to_string())
                           << log::kv("target", t) << log::kv("since", have(pi).to_string())
                           << log::kv("objects", planned_missing_[t].size());
    msg::RepOpMsg rep{id_.pool, id_.seed, interval_start_, 0, 0, tid, true, {}};
    send_msg(t, msg::kMsgRepOp, rep, encode_to_buffer(tx));
  }
  if (failed) {
    CAIRN_LOG(kWarn, kOsd) << "pg cannot read its log for recovery: peering again"
                           << log::kv("pg", cid_.to_string());
    meta_pending_.clear();
    planned_missing_.clear();
    host_.run_after(std::chrono::seconds(1), [this, epoch = interval_start_] {
      if (epoch == interval_start_ && is_primary()) start_interval();
    });
  }
  return true;
}

bool ReplicatedPg::recovery_ack(const msg::RepOpReplyMsg& r) {
  if (meta_pending_.erase(r.rep_tid)) {
    if (r.result != 0) {
      // That replica could not take the log: peer again (a new try asks everyone).
      CAIRN_LOG(kWarn, kOsd) << "pg log push failed: peering again" << log::kv("pg", cid_.to_string())
                             << log::kv("osd", r.from_osd) << log::kv("result", r.result);
      meta_pending_.clear();
      planned_missing_.clear();
      host_.run_after(std::chrono::seconds(1), [this, epoch = interval_start_] {
        if (epoch == interval_start_ && is_primary()) start_interval();
      });
      return true;
    }
    if (!meta_pending_.empty() || state_ != State::kBackfilling) return true;
    // Every replica follows the log now: go active, then push what they lack.
    for (auto& [t, objs] : planned_missing_) {
      recovering_peers_.insert(t);
      for (const auto& o : objs) missing_[o].insert(t);
    }
    planned_missing_.clear();
    activate();
    recover_some();
    return true;
  }
  auto it = recovery_tids_.find(r.rep_tid);
  if (it == recovery_tids_.end()) return false;
  auto [oid, target] = it->second;
  recovery_tids_.erase(it);
  if (r.result == 0) {
    if (auto m = missing_.find(oid); m != missing_.end()) {
      m->second.erase(target);
      if (m->second.empty()) missing_.erase(m);
    }
  } else {
    CAIRN_LOG(kWarn, kOsd) << "pg recovery push failed" << log::kv("pg", cid_.to_string())
                           << log::kv("object", oid.name) << log::kv("osd", target)
                           << log::kv("result", r.result);
  }
  bool still = false;
  for (const auto& [tid, p] : recovery_tids_)
    if (p.first == oid) still = true;
  if (!still) {
    recovering_objs_.erase(oid);
    if (!missing_.count(oid)) requeue_waiters(object_key(oid));
  }
  if (r.result != 0) {
    host_.run_after(std::chrono::seconds(1), [this, epoch = interval_start_] {
      if (epoch == interval_start_) recover_some();
    });
    return true;
  }
  recover_some();
  return true;
}

void ReplicatedPg::recover_object(const store::ObjectId& oid) {
  auto m = missing_.find(oid);
  if (m == missing_.end() || recovering_objs_.count(oid) || state_ != State::kActive) return;
  bool exists = host_.store().stat(cid_, oid).ok();
  for (int32_t t : m->second) {
    uint64_t tid = next_rep_tid_++;
    if (exists) {
      Status st = push_object(t, oid, tid, interval_start_);
      if (!st.ok()) {
        CAIRN_LOG(kError, kOsd) << "pg cannot read an object to recover it" << log::kv("pg", cid_.to_string())
                                << log::kv("object", oid.name) << log::kv("error", st.to_string());
        continue;
      }
    } else {
      // Removed since the replica's point: remove it there too.
      store::Transaction t2;
      t2.touch(cid_, oid);
      t2.remove(cid_, oid);
      msg::RepOpMsg rep{id_.pool, id_.seed, interval_start_, 0, 0, tid, true, {}};
      send_msg(t, msg::kMsgRepOp, rep, encode_to_buffer(t2));
    }
    recovery_tids_[tid] = {oid, t};
    recovering_objs_.insert(oid);
  }
}

void ReplicatedPg::recover_some() {
  if (state_ != State::kActive || !is_primary()) return;
  for (auto it = missing_.begin(); it != missing_.end() && recovery_tids_.size() < kMaxRecoveryPushes; ++it)
    if (!recovering_objs_.count(it->first)) recover_object(it->first);
  if (!missing_.empty() || !recovery_tids_.empty() || recovering_peers_.empty()) return;
  msg::PgInfoMsg done = my_info(interval_start_);
  done.recovered = true;
  for (int32_t t : recovering_peers_) send_msg(t, msg::kMsgPgInfo, done);
  recovering_peers_.clear();
  CAIRN_LOG(kInfo, kOsd) << "pg recovered" << log::kv("pg", cid_.to_string());
  check_remapped();
}

}  // namespace cairn::pg
