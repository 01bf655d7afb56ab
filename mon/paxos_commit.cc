// Paxos phase 2 and learning: proposing, accepting, committing, catching up.
#include "common/log.h"
#include "mon/internal/store_must.h"
#include "mon/paxos.h"

namespace cairn::mon {

using internal::store_must;

void Paxos::maybe_start_proposal() {
  if (role_ != Role::kLeader || inflight_ || pending_.empty()) return;
  PaxosValue value;
  std::vector<Done> dones;
  while (!pending_.empty() && value.txns.size() < cfg_.max_batch_txns) {
    value.txns.push_back(std::move(pending_.front().txn));
    dones.push_back(std::move(pending_.front().done));
    pending_.pop_front();
  }
  begin(encode_to_buffer(value).to_string(), std::move(dones));
}

void Paxos::begin(std::string value, std::vector<Done> dones) {
  uint64_t version = store_.last_committed() + 1;
  PaxosMsg m;
  m.op = PaxosOp::kAccept;
  m.pn = my_pn_;
  m.version = version;
  m.last_committed = store_.last_committed();
  m.value = value;
  // Send first, then make our own acceptance durable: the followers' disk writes
  // overlap ours. Safe, because the leader counts itself towards the majority
  // only after its write returns (below), and the value is not chosen before then.
  send_all(m);
  store_must(store_.set_uncommitted(Uncommitted{my_pn_, version, value}), "accept own value");
  inflight_ = InFlight{version, std::move(value), std::move(dones), {rank_}};
  if (static_cast<int>(inflight_->accepted.size()) >= majority()) on_accepted(rank_, PaxosMsg{});
}

void Paxos::on_accept(int from, const PaxosMsg& m) {
  if (m.pn < store_.promised_pn()) {
    PaxosMsg r;
    r.op = PaxosOp::kReject;
    r.pn = store_.promised_pn();
    host_.send(from, r);
    return;
  }
  if (!decode_from<PaxosValue>(m.value).ok()) {
    CAIRN_LOG(kWarn, kMon) << "paxos: undecodable value in accept ignored" << log::kv("from", from);
    return;
  }
  if (m.pn > store_.promised_pn()) store_must(store_.set_promised_pn(m.pn), "promise on accept");
  if (role_ != Role::kFollower || leader_rank_ != from) step_down(from, m.pn);
  leader_rank_ = from;
  leader_pn_ = m.pn;
  last_leader_contact_ms_ = now_ms();
  reset_election_deadline();

  uint64_t lc = store_.last_committed();
  PaxosMsg r;
  r.pn = m.pn;
  r.version = m.version;
  if (m.version == lc + 1) {
    store_must(store_.set_uncommitted(Uncommitted{m.pn, m.version, m.value}), "accept");
    r.op = PaxosOp::kAccepted;
  } else if (m.version <= lc) {
    r.op = PaxosOp::kAccepted;  // already committed here: the same value (Paxos agreement)
  } else {
    r.op = PaxosOp::kLagging;  // missing commits before this one
  }
  r.last_committed = store_.last_committed();
  host_.send(from, r);
}

void Paxos::on_accepted(int from, const PaxosMsg& m) {
  if (role_ != Role::kLeader || !inflight_) return;
  if (from != rank_) {
    peer_lc_[from] = m.last_committed;
    if (m.pn != my_pn_ || m.version != inflight_->version) return;
    inflight_->accepted.insert(from);
  }
  if (static_cast<int>(inflight_->accepted.size()) < majority()) return;
  InFlight done = std::move(*inflight_);
  inflight_.reset();
  commit_local(done.version, done.value);
  PaxosMsg c;
  c.op = PaxosOp::kCommit;
  c.pn = my_pn_;
  c.last_committed = done.version;
  c.entries.push_back(LogEntry{done.version, std::move(done.value)});
  send_all(c);
  for (auto& d : done.dones)
    if (d) d(Status());
  maybe_trim();
  maybe_start_proposal();
}

void Paxos::commit_local(uint64_t version, const std::string& value) {
  store_must(store_.commit(version, value), "commit");
  host_.on_commit(version);
}

// Applies committed entries (or a snapshot) that extend our log; stops at a gap.
void Paxos::catch_up_from(const PaxosMsg& m) {
  if (m.snapshot && m.snapshot->last_committed > store_.last_committed()) {
    CAIRN_LOG(kInfo, kMon) << "paxos: installing snapshot" << log::kv("version", m.snapshot->last_committed);
    store_must(store_.install_snapshot(*m.snapshot), "install snapshot");
    host_.on_commit(m.snapshot->last_committed);
  }
  for (const auto& e : m.entries) {
    uint64_t lc = store_.last_committed();
    if (e.version <= lc) continue;
    if (e.version != lc + 1) break;
    if (!decode_from<PaxosValue>(e.value).ok()) {
      CAIRN_LOG(kWarn, kMon) << "paxos: undecodable committed entry ignored" << log::kv("version", e.version);
      break;
    }
    commit_local(e.version, e.value);
  }
}

void Paxos::on_commit_msg(int from, const PaxosMsg& m) {
  catch_up_from(m);
  maybe_trim();
  if (m.pn >= store_.promised_pn() && from == leader_rank_) {
    last_leader_contact_ms_ = now_ms();
  }
  if (m.last_committed > store_.last_committed()) {
    PaxosMsg r;
    r.op = PaxosOp::kLagging;
    r.pn = m.pn;
    r.last_committed = store_.last_committed();
    host_.send(from, r);
  }
}

void Paxos::on_lagging(int from, const PaxosMsg& m) {
  if (role_ != Role::kLeader) return;
  send_catch_up(from, m.last_committed);
  // The peer refused the value in flight because it lacked earlier commits: now
  // that they are on their way (FIFO link), offer the value again.
  if (inflight_ && !inflight_->accepted.count(from)) {
    PaxosMsg a;
    a.op = PaxosOp::kAccept;
    a.pn = my_pn_;
    a.version = inflight_->version;
    a.last_committed = store_.last_committed();
    a.value = inflight_->value;
    host_.send(from, a);
  }
}

void Paxos::send_catch_up(int to, uint64_t their_lc) {
  if (their_lc >= store_.last_committed()) return;
  host_.send(to, catch_up(their_lc));
}

PaxosMsg Paxos::catch_up(uint64_t their_lc) const {
  uint64_t lc = store_.last_committed();
  PaxosMsg c;
  c.op = PaxosOp::kCommit;
  c.pn = my_pn_;
  c.last_committed = lc;
  if (their_lc + 1 < store_.first_committed() || lc - their_lc > cfg_.max_catchup_entries) {
    c.snapshot = store_.snapshot();
  } else {
    for (uint64_t v = their_lc + 1; v <= lc; ++v) {
      auto e = store_.entry(v);
      if (!e.ok()) {
        c.entries.clear();
        c.snapshot = store_.snapshot();
        break;
      }
      c.entries.push_back(LogEntry{v, std::move(*e)});
    }
  }
  return c;
}

void Paxos::maybe_trim() {
  uint64_t first = store_.first_committed(), lc = store_.last_committed();
  if (lc == 0 || lc < first || lc - first + 1 <= 2 * cfg_.log_keep) return;
  store_must(store_.trim(lc - cfg_.log_keep + 1), "trim");
}

}  // namespace cairn::mon
