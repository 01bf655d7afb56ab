// Leader leases: heartbeats that keep followers loyal and make leader reads safe.
#include "common/log.h"
#include "mon/internal/store_must.h"
#include "mon/paxos.h"

namespace cairn::mon {

using internal::store_must;

// How many recent lease rounds the leader remembers acks for.
constexpr size_t kLeaseRoundsKept = 16;

void Paxos::send_lease() {
  uint64_t now = now_ms();
  uint64_t seq = ++lease_seq_;
  lease_sent_ms_[seq] = now;
  lease_acks_[seq] = {rank_};
  while (lease_sent_ms_.size() > kLeaseRoundsKept) {
    lease_acks_.erase(lease_sent_ms_.begin()->first);
    lease_sent_ms_.erase(lease_sent_ms_.begin());
  }
  if (majority() == 1) {
    readable_until_ms_ = now + cfg_.lease_ms * 8 / 10;
    last_majority_ms_ = now;
    quorum_ = {rank_};
  }
  PaxosMsg m;
  m.op = PaxosOp::kLease;
  m.pn = my_pn_;
  m.last_committed = store_.last_committed();
  m.lease_seq = seq;
  m.lease_ms = cfg_.lease_ms;
  m.wall_ns = host_.wall_ns();
  send_all(m);
  // Retransmit the value in flight to those who have not accepted it (messages
  // may be lost; the lossless messenger makes this rare but not impossible).
  if (inflight_) {
    PaxosMsg a;
    a.op = PaxosOp::kAccept;
    a.pn = my_pn_;
    a.version = inflight_->version;
    a.last_committed = store_.last_committed();
    a.value = inflight_->value;
    for (int r = 0; r < num_members_; ++r) {
      if (r != rank_ && !inflight_->accepted.count(r)) host_.send(r, a);
    }
  }
}

void Paxos::on_lease(int from, const PaxosMsg& m) {
  if (m.pn < store_.promised_pn()) {
    PaxosMsg r;
    r.op = PaxosOp::kReject;
    r.pn = store_.promised_pn();
    host_.send(from, r);
    return;
  }
  if (m.pn > store_.promised_pn()) store_must(store_.set_promised_pn(m.pn), "promise on lease");
  if (role_ != Role::kFollower || leader_rank_ != from) step_down(from, m.pn);
  leader_rank_ = from;
  leader_pn_ = m.pn;
  uint64_t now = now_ms();
  last_leader_contact_ms_ = now;
  lease_expiry_ms_ = now + m.lease_ms;
  reset_election_deadline();
  PaxosMsg r;
  r.op = PaxosOp::kLeaseAck;
  r.pn = m.pn;
  r.lease_seq = m.lease_seq;
  r.last_committed = store_.last_committed();
  uint64_t wall = host_.wall_ns();
  if (wall && m.wall_ns) r.skew_ns = static_cast<int64_t>(wall - m.wall_ns);
  host_.send(from, r);
}

void Paxos::on_lease_ack(int from, const PaxosMsg& m) {
  if (role_ != Role::kLeader || m.pn != my_pn_) return;
  peer_lc_[from] = m.last_committed;
  clock_skew_ns_[from] = m.skew_ns;
  if (m.last_committed < store_.last_committed()) send_catch_up(from, m.last_committed);
  auto sent = lease_sent_ms_.find(m.lease_seq);
  if (sent == lease_sent_ms_.end()) return;
  auto& acks = lease_acks_[m.lease_seq];
  acks.insert(from);
  if (static_cast<int>(acks.size()) >= majority()) {
    if (m.lease_seq >= quorum_seq_) {
      quorum_seq_ = m.lease_seq;
      quorum_ = acks;
    }
    readable_until_ms_ = std::max(readable_until_ms_, sent->second + cfg_.lease_ms * 8 / 10);
    last_majority_ms_ = std::max(last_majority_ms_, sent->second);
  }
}

}  // namespace cairn::mon
