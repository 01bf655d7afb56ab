// Paxos: construction, the clock, dispatch and proposals. The phases live in
// paxos_election.cc, paxos_commit.cc and paxos_lease.cc.
#include "mon/paxos.h"

#include <cstdlib>

#include "common/log.h"

namespace cairn::mon {

Paxos::Paxos(int rank, int num_members, PaxosStore& store, PaxosHost& host, Random& rng, PaxosConfig cfg)
    : rank_(rank),
      num_members_(num_members),
      ballot_id_(static_cast<uint64_t>(rank)),
      store_(store),
      host_(host),
      rng_(rng),
      cfg_(cfg) {
  // A follower must not start an election while it still promises a lease to the
  // leader; otherwise the leader's reads under lease would not be safe.
  if (cfg_.election_timeout_ms < cfg_.lease_ms || rank < 0 || rank >= num_members) {
    CAIRN_LOG(kError, kMon) << "paxos: invalid configuration" << log::kv("rank", rank);
    std::abort();
  }
  max_seen_pn_ = store_.promised_pn();
  last_leader_contact_ms_ = now_ms();
  // After a restart we forgot which lease we granted: keep quiet for one lease.
  lease_expiry_ms_ = now_ms() + cfg_.lease_ms;
  reset_election_deadline();
}

void Paxos::reconfigure(int rank, int num_members, uint32_t ballot_id) {
  if (rank < 0 || rank >= num_members || ballot_id > 255) {
    CAIRN_LOG(kError, kMon) << "paxos: invalid membership" << log::kv("rank", rank)
                            << log::kv("members", num_members);
    std::abort();
  }
  CAIRN_LOG(kInfo, kMon) << "paxos: membership changed" << log::kv("rank", rank)
                         << log::kv("members", num_members);
  // Whatever this member led or promised was about the old set: step down and let
  // an election among the new set decide (uncommitted values are recovered by it).
  step_down(-1, 0);
  rank_ = rank;
  num_members_ = num_members;
  ballot_id_ = ballot_id;
  inflight_.reset();
  peer_lc_.clear();
  clock_skew_ns_.clear();
  lease_sent_ms_.clear();
  lease_acks_.clear();
  promised_by_.clear();
  best_uncommitted_.reset();
  reset_election_deadline();
}

void Paxos::reset_election_deadline() {
  uint64_t jitter = rng_.uniform(cfg_.rank_stagger_ms / 2 + 1);
  election_deadline_ms_ =
      now_ms() + cfg_.election_timeout_ms + static_cast<uint64_t>(rank_) * cfg_.rank_stagger_ms + jitter;
}

void Paxos::send_all(const PaxosMsg& m) {
  for (int r = 0; r < num_members_; ++r) {
    if (r != rank_) host_.send(r, m);
  }
}

void Paxos::tick() {
  uint64_t now = now_ms();
  switch (role_) {
    case Role::kLeader:
      if (num_members_ > 1 && now > last_majority_ms_ + cfg_.lease_ms) {
        CAIRN_LOG(kWarn, kMon) << "paxos: leader lost its majority, stepping down" << log::kv("rank", rank_);
        step_down(-1, 0);
        return;
      }
      if (now >= next_heartbeat_ms_) {
        send_lease();
        next_heartbeat_ms_ = now + cfg_.heartbeat_ms;
      }
      break;
    case Role::kCandidate:
    case Role::kFollower:
      if (now >= election_deadline_ms_) start_election();
      break;
  }
}

void Paxos::handle(int from, const PaxosMsg& m) {
  if (from < 0 || from >= num_members_ || from == rank_) {
    CAIRN_LOG(kWarn, kMon) << "paxos: message from unknown rank ignored" << log::kv("from", from);
    return;
  }
  if (m.pn > max_seen_pn_) max_seen_pn_ = m.pn;
  switch (m.op) {
    case PaxosOp::kPrepare: on_prepare(from, m); break;
    case PaxosOp::kPromise: on_promise(from, m); break;
    case PaxosOp::kReject: on_reject(from, m); break;
    case PaxosOp::kAccept: on_accept(from, m); break;
    case PaxosOp::kAccepted: on_accepted(from, m); break;
    case PaxosOp::kCommit: on_commit_msg(from, m); break;
    case PaxosOp::kLease: on_lease(from, m); break;
    case PaxosOp::kLeaseAck: on_lease_ack(from, m); break;
    case PaxosOp::kLagging: on_lagging(from, m); break;
  }
}

Status Paxos::propose(KvTxn txn, Done done) {
  if (role_ != Role::kLeader) {
    return error(Errc::kAgain, "not the leader (leader rank " + std::to_string(leader_rank_) + ")");
  }
  pending_.push_back(Pending{std::move(txn), std::move(done)});
  maybe_start_proposal();
  return {};
}

bool Paxos::readable() const { return role_ == Role::kLeader && now_ms() < readable_until_ms_; }

void Paxos::fail_pending(Status why) {
  std::deque<Pending> p;
  p.swap(pending_);
  std::vector<Done> dones;
  if (inflight_) dones = std::move(inflight_->dones);
  inflight_.reset();
  for (auto& d : dones)
    if (d) d(why);
  for (auto& x : p)
    if (x.done) x.done(why);
}

}  // namespace cairn::mon
