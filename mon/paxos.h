// Multi-Paxos for the monitors: one replicated log of key/value transactions.
//
// A pure state machine: it reacts to messages (handle), to time (tick) and to
// proposals (propose), and acts only through PaxosHost (send, clock) and
// PaxosStore (durable state). No threads, sockets or timers inside, so the whole
// protocol runs under a seeded simulator in tests (tests/mon/paxos_sim_test.cc).
//
// Protocol (docs/paxos.md has the full argument):
//  - Election is Paxos phase 1. A monitor that has not heard from a leader for
//    election_timeout (+ rank * stagger, so low ranks go first) picks a ballot
//    pn = (round << 8) | rank above any it has seen and sends PREPARE. A majority
//    of PROMISEs makes it leader. Promises carry the acceptor's uncommitted value
//    and any committed entries the candidate lacks (or a snapshot).
//  - The new leader first catches up to the highest last_committed it heard of,
//    then re-proposes the uncommitted value of the next version with the highest
//    pn (if any), so no value a majority may have accepted is ever lost.
//  - One value in flight at a time (ACCEPT -> majority ACCEPTED -> COMMIT); many
//    service transactions are batched into each value for throughput.
//  - Leases: the leader sends LEASE every heartbeat; followers acknowledge and
//    refuse other candidates while the leader is fresh. The leader serves reads
//    only while a majority acknowledged a lease round started within the last
//    0.8 * lease_ms, and steps down when it loses its majority for lease_ms.
//
// Thread-safety: one thread (the monitor's Paxos strand) owns a Paxos object.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "mon/paxos_store.h"
#include "mon/paxos_types.h"

namespace cairn::mon {

struct PaxosConfig {
  uint32_t election_timeout_ms = 1000;  // silence from the leader before electing
  uint32_t rank_stagger_ms = 250;       // extra wait per rank: low ranks elect first
  uint32_t heartbeat_ms = 150;          // lease renewal period
  uint32_t lease_ms = 1000;             // follower promise to the leader
  uint32_t max_batch_txns = 4096;       // transactions per Paxos value
  uint64_t log_keep = 500;              // committed entries kept after a trim
  uint32_t max_catchup_entries = 256;   // committed entries per catch-up message
  // Followers refuse other candidates while their leader's lease lasts. Leader
  // reads rely on it; tests turn it off to check that Paxos alone stays safe.
  bool sticky_leases = true;
};

class PaxosHost {
 public:
  virtual ~PaxosHost() = default;
  virtual void send(int to_rank, const PaxosMsg& m) = 0;
  virtual uint64_t now_ns() const = 0;
  // Wall-clock time, only for the clock-skew check (0: unknown, no check).
  virtual uint64_t wall_ns() const { return 0; }
  // Called after `version` is durable and applied to the store.
  virtual void on_commit(uint64_t /*version*/) {}
  virtual void on_leader_change(int /*leader_rank*/, bool /*i_am_leader*/) {}
};

class Paxos {
 public:
  using Done = std::function<void(Status)>;
  enum class Role { kFollower, kCandidate, kLeader };

  Paxos(int rank, int num_members, PaxosStore& store, PaxosHost& host, Random& rng, PaxosConfig cfg = {});

  void tick();
  void handle(int from, const PaxosMsg& m);
  // The monitor set changed (a committed monmap): this member's new rank, the
  // new member count and its stable ballot id. Steps down; an election follows.
  void reconfigure(int rank, int num_members, uint32_t ballot_id);
  // The commits a peer at `their_lc` lacks (entries, or a snapshot): for monitors
  // outside the current set, so a removed one learns of its removal.
  PaxosMsg catch_up(uint64_t their_lc) const;
  // Leader only. `done` runs with ok once the transaction is committed, or with
  // kAgain if leadership is lost first (the caller retries through the new leader).
  Status propose(KvTxn txn, Done done);

  Role role() const { return role_; }
  bool is_leader() const { return role_ == Role::kLeader; }
  // -1 while unknown.
  int leader_rank() const { return leader_rank_; }
  // The leader holds a lease: a read of the store reflects every committed value.
  bool readable() const;
  uint64_t last_committed() const { return store_.last_committed(); }
  uint64_t promised_pn() const { return store_.promised_pn(); }
  int rank() const { return rank_; }
  size_t pending() const { return pending_.size(); }
  // Leader only: the ranks that acknowledged the newest lease round a majority
  // acknowledged (the leader included). Empty elsewhere.
  const std::set<int>& quorum() const { return quorum_; }
  // Leader: how far each follower's wall clock is ahead of this one (negative:
  // behind), from the latest lease ack; one-way network delay included.
  const std::map<int, int64_t>& clock_skew_ns() const { return clock_skew_ns_; }

 private:
  struct Pending {
    KvTxn txn;
    Done done;
  };
  struct InFlight {
    uint64_t version = 0;
    std::string value;
    std::vector<Done> dones;
    std::set<int> accepted;
  };

  uint64_t now_ms() const { return host_.now_ns() / 1'000'000; }
  int majority() const { return num_members_ / 2 + 1; }
  void send_all(const PaxosMsg& m);
  void reset_election_deadline();

  // election (paxos_election.cc)
  void start_election();
  void on_prepare(int from, const PaxosMsg& m);
  void on_promise(int from, const PaxosMsg& m);
  void on_reject(int from, const PaxosMsg& m);
  void become_leader();
  void step_down(int new_leader, uint64_t seen_pn);
  void fail_pending(Status why);
  bool follows_live_leader(int candidate) const;

  // replication (paxos_commit.cc)
  void maybe_start_proposal();
  void begin(std::string value, std::vector<Done> dones);
  void on_accept(int from, const PaxosMsg& m);
  void on_accepted(int from, const PaxosMsg& m);
  void on_commit_msg(int from, const PaxosMsg& m);
  void on_lagging(int from, const PaxosMsg& m);
  void commit_local(uint64_t version, const std::string& value);
  void catch_up_from(const PaxosMsg& m);
  void send_catch_up(int to, uint64_t their_lc);
  void maybe_trim();

  // leases (paxos_lease.cc)
  void send_lease();
  void on_lease(int from, const PaxosMsg& m);
  void on_lease_ack(int from, const PaxosMsg& m);

  int rank_;
  int num_members_;
  uint64_t ballot_id_;  // low byte of this member's ballots (its stable monmap id)
  PaxosStore& store_;
  PaxosHost& host_;
  Random& rng_;
  const PaxosConfig cfg_;

  Role role_ = Role::kFollower;
  int leader_rank_ = -1;
  uint64_t leader_pn_ = 0;    // ballot of the leader we follow (or ours)
  uint64_t max_seen_pn_ = 0;  // highest ballot heard of, to pick the next one above
  uint64_t last_leader_contact_ms_ = 0;
  uint64_t election_deadline_ms_ = 0;

  // candidate
  uint64_t my_pn_ = 0;
  std::set<int> promised_by_;
  std::optional<Uncommitted> best_uncommitted_;
  std::map<int, uint64_t> peer_lc_;       // last_committed each peer reported
  std::map<int, int64_t> clock_skew_ns_;  // leader: each peer's clock minus ours (latest lease ack)

  // leader
  std::deque<Pending> pending_;
  std::optional<InFlight> inflight_;
  uint64_t lease_seq_ = 0;
  std::map<uint64_t, uint64_t> lease_sent_ms_;  // lease round -> when sent
  std::map<uint64_t, std::set<int>> lease_acks_;
  uint64_t readable_until_ms_ = 0;
  std::set<int> quorum_;
  uint64_t quorum_seq_ = 0;
  uint64_t last_majority_ms_ = 0;
  uint64_t next_heartbeat_ms_ = 0;

  // follower
  uint64_t lease_expiry_ms_ = 0;
};

}  // namespace cairn::mon
