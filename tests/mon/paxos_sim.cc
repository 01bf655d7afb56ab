#include "paxos_sim.h"

#include <algorithm>
#include <functional>

#include "common/checksum.h"

namespace cairn::mon::sim {

struct Cluster::Host final : PaxosHost {
  Cluster* c;
  int rank;
  Host(Cluster* cl, int r) : c(cl), rank(r) {}
  void send(int to, const PaxosMsg& m) override { c->send(rank, to, m); }
  uint64_t now_ns() const override { return c->clock_.now_ns(); }
  uint64_t wall_ns() const override {
    return 1'700'000'000'000'000'000ull + c->clock_.now_ns() + static_cast<uint64_t>(c->wall_offset_ns(rank));
  }
  void on_commit(uint64_t version) override { c->on_commit(rank, version); }
};

Cluster::Cluster(int n, uint64_t seed, PaxosConfig cfg) : rng_(seed), cfg_(cfg), nodes_(n) {
  for (int r = 0; r < n; ++r) {
    nodes_[r].store = make_mem_paxos_store();
    restart(r);
  }
}

Cluster::~Cluster() = default;

void Cluster::restart(int r) {
  nodes_[r].host = std::make_unique<Host>(this, r);
  nodes_[r].paxos = std::make_unique<Paxos>(r, size(), *nodes_[r].store, *nodes_[r].host, rng_, cfg_);
}

void Cluster::crash(int r) {
  nodes_[r].paxos.reset();
  nodes_[r].host.reset();
  // What the node sent but the network had not delivered dies with it (as data
  // in its socket buffers would).
  std::erase_if(queue_, [r](const Msg& m) { return m.from == r; });
  std::make_heap(queue_.begin(), queue_.end(), std::greater<>());
}

void Cluster::isolate(int r) {
  for (int o = 0; o < size(); ++o)
    if (o != r) cut(r, o);
}

void Cluster::send(int from, int to, const PaxosMsg& m) {
  if (cuts_.count({std::min(from, to), std::max(from, to)})) return;
  if (rng_.chance(fault_.drop)) return;
  uint64_t delay_us = fault_.min_delay_us + rng_.uniform(fault_.max_delay_us - fault_.min_delay_us + 1);
  // Links are FIFO, as the lossless messenger's connections are.
  uint64_t& last = link_last_ns_[{from, to}];
  uint64_t at = std::max(clock_.now_ns() + delay_us * 1000, last);
  last = at;
  queue_.push_back(Msg{at, ++seq_, from, to, encode_to_buffer(m).to_string()});
  std::push_heap(queue_.begin(), queue_.end(), std::greater<>());
}

void Cluster::on_commit(int r, uint64_t version) {
  auto e = nodes_[r].store->entry(version);
  if (!e.ok()) return;  // a snapshot install: checked by state digests at the end
  auto [it, fresh] = chosen_.emplace(version, *e);
  if (!fresh && it->second != *e) {
    violations_.push_back("version " + std::to_string(version) + " differs on rank " + std::to_string(r));
  }
}

void Cluster::deliver_due() {
  while (!queue_.empty() && queue_.front().at_ns <= clock_.now_ns()) {
    std::pop_heap(queue_.begin(), queue_.end(), std::greater<>());
    Msg m = std::move(queue_.back());
    queue_.pop_back();
    if (!nodes_[m.to].paxos) continue;  // crashed: lost
    if (cuts_.count({std::min(m.from, m.to), std::max(m.from, m.to)})) continue;
    auto decoded = decode_from<PaxosMsg>(m.bytes);
    if (!decoded.ok()) {
      violations_.push_back("undecodable message: " + decoded.status().to_string());
      continue;
    }
    nodes_[m.to].paxos->handle(m.from, *decoded);
  }
}

void Cluster::run_ms(uint64_t ms) {
  for (uint64_t i = 0; i < ms; ++i) {
    clock_.advance_ns(1'000'000);
    deliver_due();
    if (now_ms() % 10 == 0) {
      for (auto& n : nodes_)
        if (n.paxos) n.paxos->tick();
    }
  }
}

int Cluster::leader() const {
  for (int r = 0; r < size(); ++r) {
    if (nodes_[r].paxos && nodes_[r].paxos->readable()) return r;
  }
  return -1;
}

int64_t Cluster::propose_one() {
  for (int r = 0; r < size(); ++r) {
    Paxos* p = nodes_[r].paxos.get();
    if (!p || !p->is_leader()) continue;
    int64_t id = next_id_++;
    KvTxn t;
    t.put("c" + std::to_string(id), "v" + std::to_string(id));
    Status st = p->propose(std::move(t), [this, id](Status s) {
      if (s.ok()) acked_.insert(id);
    });
    return st.ok() ? id : -1;
  }
  return -1;
}

std::string Cluster::state_digest(int r) {
  Snapshot s = nodes_[r].store->snapshot();
  uint64_t h = 0;
  for (const auto& [k, v] : s.kv) h = xxh3_64(k + "=" + v, h);
  return std::to_string(s.last_committed) + ":" + std::to_string(h);
}

}  // namespace cairn::mon::sim
