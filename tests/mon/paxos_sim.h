// A deterministic simulator for the monitors' Paxos: N nodes in one process on a
// seeded network (delays, drops, partitions) with a manual clock, crash and
// restart (the store survives, the Paxos object does not). Any failure replays
// from its seed.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/env.h"
#include "mon/paxos.h"

namespace cairn::mon::sim {

struct Fault {
  double drop = 0.0;  // probability a message is lost
  uint64_t min_delay_us = 100;
  uint64_t max_delay_us = 2000;
};

class Cluster {
 public:
  Cluster(int n, uint64_t seed, PaxosConfig cfg = {});
  ~Cluster();

  void run_ms(uint64_t ms);  // advance simulated time, delivering and ticking
  // Proposes a unique key through the current leader (if any). Returns its id or -1.
  int64_t propose_one();

  void crash(int r);
  void restart(int r);
  bool up(int r) const { return nodes_[r].paxos != nullptr; }
  void cut(int a, int b) { cuts_.insert({std::min(a, b), std::max(a, b)}); }
  void heal() { cuts_.clear(); }
  void isolate(int r);
  Fault& fault() { return fault_; }
  // Sets node r's wall clock this far ahead of true time (negative: behind).
  void set_wall_offset_ns(int r, int64_t off) { wall_offset_[r] = off; }
  int64_t wall_offset_ns(int r) const { return wall_offset_.count(r) ? wall_offset_.at(r) : 0; }

  int leader() const;  // a node that believes it leads and holds a lease, else -1
  int size() const { return static_cast<int>(nodes_.size()); }
  PaxosStore& store(int r) { return *nodes_[r].store; }
  Paxos* paxos(int r) { return nodes_[r].paxos.get(); }
  uint64_t now_ms() const { return clock_.now_ns() / 1'000'000; }

  const std::set<int64_t>& acked() const { return acked_; }
  // Violations of agreement seen so far (different values for one version).
  const std::vector<std::string>& violations() const { return violations_; }
  std::string state_digest(int r);

 private:
  struct Msg {
    uint64_t at_ns;
    uint64_t seq;
    int from, to;
    std::string bytes;  // encoded: every delivery goes through decode
    bool operator>(const Msg& o) const { return at_ns != o.at_ns ? at_ns > o.at_ns : seq > o.seq; }
  };
  struct Host;
  struct Node {
    std::unique_ptr<PaxosStore> store;
    std::unique_ptr<Host> host;
    std::unique_ptr<Paxos> paxos;
  };
  void send(int from, int to, const PaxosMsg& m);
  void on_commit(int r, uint64_t version);
  void deliver_due();

  ManualClock clock_;
  SeededRandom rng_;
  PaxosConfig cfg_;
  Fault fault_;
  std::vector<Node> nodes_;
  std::map<int, int64_t> wall_offset_;
  std::vector<Msg> queue_;  // a heap ordered by delivery time
  uint64_t seq_ = 0;
  std::set<std::pair<int, int>> cuts_;
  std::map<std::pair<int, int>, uint64_t> link_last_ns_;  // FIFO per link
  std::map<uint64_t, std::string> chosen_;                // version -> value first committed anywhere
  std::vector<std::string> violations_;
  std::set<int64_t> acked_;
  int64_t next_id_ = 0;
};

}  // namespace cairn::mon::sim
