// Paxos phase 1: electing a leader and recovering what the old one left.
#include "common/log.h"
#include "mon/internal/store_must.h"
#include "mon/paxos.h"

namespace cairn::mon {
using internal::store_must;

bool Paxos::follows_live_leader(int candidate) const {
  if (!cfg_.sticky_leases) return false;
  uint64_t now = now_ms();
  if (now < lease_expiry_ms_ && leader_rank_ < 0) return true;  // quiet period after start
  return role_ == Role::kFollower && leader_rank_ >= 0 && leader_rank_ != candidate && now < lease_expiry_ms_;
}

void Paxos::start_election() {
  role_ = Role::kCandidate;
  leader_rank_ = -1;
  uint64_t base = std::max(max_seen_pn_, store_.promised_pn());
  my_pn_ = (((base >> 8) + 1) << 8) | ballot_id_;
  store_must(store_.set_promised_pn(my_pn_), "promise to self");
  max_seen_pn_ = my_pn_;
  promised_by_ = {rank_};
  peer_lc_.clear();
  peer_lc_[rank_] = store_.last_committed();
  best_uncommitted_ = store_.uncommitted();
  CAIRN_LOG(kInfo, kMon) << "paxos: starting election" << log::kv("rank", rank_) << log::kv("pn", my_pn_)
                         << log::kv("last_committed", store_.last_committed());
  PaxosMsg m;
  m.op = PaxosOp::kPrepare;
  m.pn = my_pn_;
  m.last_committed = store_.last_committed();
  send_all(m);
  reset_election_deadline();
  if (static_cast<int>(promised_by_.size()) >= majority()) become_leader();
}

void Paxos::on_prepare(int from, const PaxosMsg& m) {
  bool leader_fresh =
      cfg_.sticky_leases && role_ == Role::kLeader && now_ms() <= last_majority_ms_ + cfg_.lease_ms;
  if (m.pn <= store_.promised_pn() || follows_live_leader(from) || leader_fresh) {
    PaxosMsg r;
    r.op = PaxosOp::kReject;
    r.pn = store_.promised_pn();
    host_.send(from, r);
    return;
  }
  store_must(store_.set_promised_pn(m.pn), "promise");
  if (role_ != Role::kFollower) step_down(from, m.pn);
  role_ = Role::kFollower;
  leader_rank_ = from;
  leader_pn_ = m.pn;
  last_leader_contact_ms_ = now_ms();
  reset_election_deadline();

  PaxosMsg r;
  r.op = PaxosOp::kPromise;
  r.pn = m.pn;
  uint64_t lc = store_.last_committed();
  r.last_committed = lc;
  if (auto u = store_.uncommitted(); u && u->version == lc + 1) r.uncommitted = *u;
  if (lc > m.last_committed) {
    bool trimmed = m.last_committed + 1 < store_.first_committed();
    if (trimmed || lc - m.last_committed > cfg_.max_catchup_entries) {
      r.snapshot = store_.snapshot();
    } else {
      for (uint64_t v = m.last_committed + 1; v <= lc; ++v) {
        auto e = store_.entry(v);
        if (!e.ok()) {
          r.entries.clear();
          r.snapshot = store_.snapshot();
          break;
        }
        r.entries.push_back(LogEntry{v, *e});
      }
    }
  }
  host_.send(from, r);
}

void Paxos::on_promise(int from, const PaxosMsg& m) {
  if (role_ != Role::kCandidate || m.pn != my_pn_) return;
  catch_up_from(m);
  peer_lc_[from] = m.last_committed;
  if (m.uncommitted && (!best_uncommitted_ || m.uncommitted->pn > best_uncommitted_->pn)) {
    best_uncommitted_ = m.uncommitted;
  }
  promised_by_.insert(from);
  if (static_cast<int>(promised_by_.size()) >= majority()) become_leader();
}

void Paxos::on_reject(int /*from*/, const PaxosMsg& m) {
  if ((role_ == Role::kCandidate || role_ == Role::kLeader) && m.pn > my_pn_) {
    CAIRN_LOG(kInfo, kMon) << "paxos: outbid, stepping down" << log::kv("rank", rank_)
                           << log::kv("pn", my_pn_) << log::kv("seen", m.pn);
    step_down(-1, m.pn);
  }
}

void Paxos::become_leader() {
  uint64_t lc = store_.last_committed();
  for (const auto& [r, plc] : peer_lc_) {
    if (plc > lc) return;  // not caught up yet (a catch-up message was lost): retry later
  }
  role_ = Role::kLeader;
  leader_rank_ = rank_;
  leader_pn_ = my_pn_;
  last_majority_ms_ = now_ms();
  readable_until_ms_ = 0;
  quorum_.clear();
  quorum_seq_ = 0;
  lease_acks_.clear();
  lease_sent_ms_.clear();
  CAIRN_LOG(kInfo, kMon) << "paxos: elected leader" << log::kv("rank", rank_) << log::kv("pn", my_pn_)
                         << log::kv("last_committed", lc);
  host_.on_leader_change(rank_, true);
  for (const auto& [r, plc] : peer_lc_) {
    if (r != rank_ && plc < lc) send_catch_up(r, plc);
  }
  send_lease();
  next_heartbeat_ms_ = now_ms() + cfg_.heartbeat_ms;
  // Recovery: a value some acceptor holds for the next version may have been
  // chosen; re-propose the one with the highest ballot before anything new.
  std::optional<Uncommitted> u = best_uncommitted_;
  if (auto mine = store_.uncommitted(); mine && (!u || mine->pn > u->pn)) u = mine;
  best_uncommitted_.reset();
  if (u && u->version == lc + 1) {
    CAIRN_LOG(kInfo, kMon) << "paxos: re-proposing uncommitted value" << log::kv("version", u->version)
                           << log::kv("old_pn", u->pn);
    begin(u->value, {});
  } else {
    maybe_start_proposal();
  }
}

void Paxos::step_down(int new_leader, uint64_t seen_pn) {
  bool was_leader = role_ == Role::kLeader;
  role_ = Role::kFollower;
  quorum_.clear();
  quorum_seq_ = 0;
  leader_rank_ = new_leader;
  if (seen_pn > max_seen_pn_) max_seen_pn_ = seen_pn;
  readable_until_ms_ = 0;
  fail_pending(Status(Errc::kAgain, "leadership lost"));
  last_leader_contact_ms_ = now_ms();
  reset_election_deadline();
  if (was_leader) host_.on_leader_change(new_leader, false);
}

}  // namespace cairn::mon
