// Fault injection for tests, switchable at run time: per named peer, drop, delay
// or cut all traffic. The partition tests of later issues drive this.
//
//   cut    close every socket to the peer and refuse new ones (both directions)
//          until cleared; lossless sessions keep their queues and resend after.
//   drop   discard outgoing frames to the peer with probability p (lossless
//          sessions detect the gap and resend after a reconnect; lossy requests
//          time out)
//   delay  hold each outgoing batch to the peer for `delay` before writing it
//
// A messenger consults its injector on every write batch, handshake and connect.
// With no faults set the check is one relaxed atomic load.
//
// Thread-safety: every method may be called from any thread (a mutex guards the
// table; it is touched only when some fault is set).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/env.h"
#include "msg/entity.h"

namespace cairn::msg {

struct FaultSpec {
  bool cut = false;
  double drop_probability = 0.0;
  std::chrono::milliseconds delay{0};

  bool none() const { return !cut && drop_probability <= 0.0 && delay.count() == 0; }
};

class FaultInjector {
 public:
  explicit FaultInjector(uint64_t seed = 1) : rng_(seed) {}

  void set(const EntityName& peer, FaultSpec spec);
  void cut(const EntityName& peer) { set(peer, FaultSpec{.cut = true}); }
  void drop(const EntityName& peer, double p) { set(peer, FaultSpec{.drop_probability = p}); }
  void delay(const EntityName& peer, std::chrono::milliseconds d) { set(peer, FaultSpec{.delay = d}); }
  void clear(const EntityName& peer);
  void clear_all();
  // The daemons' `fault` admin command: "cut|clear <entity>", "drop <p> <entity>",
  // "delay <ms> <entity>" (tests only). Returns "{}" or why the line is wrong.
  Result<std::string> admin_command(const std::vector<std::string>& args);
  static constexpr const char* kAdminHelp = "fault cut|clear|drop P|delay MS <entity> (tests only)";

  // The fault in force for `peer` (none() if there is none).
  FaultSpec get(const EntityName& peer) const;
  bool is_cut(const EntityName& peer) const { return any_.load(std::memory_order_relaxed) && get(peer).cut; }
  // Draws whether to drop one frame to `peer`.
  bool should_drop(const EntityName& peer);
  // Bumped on every change, so connections notice a new cut promptly.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // Called (on the changing thread, outside the lock) after every change; the
  // messenger posts from it onto its executor to drop sockets of cut peers.
  void set_listener(std::function<void()> fn);

 private:
  std::atomic<bool> any_{false};
  std::atomic<uint64_t> generation_{0};
  mutable std::mutex mu_;
  std::map<EntityName, FaultSpec> faults_;  // guarded by mu_
  SeededRandom rng_;                        // guarded by mu_
  std::function<void()> listener_;          // guarded by mu_
  void notify();
};

}  // namespace cairn::msg
