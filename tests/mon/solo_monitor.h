// A one-monitor cluster in the test process: Paxos with one member (every
// proposal commits at once), a MonitorCore, a manual clock. Tests add services
// and run commands against it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "mon/monitor_core.h"

namespace cairn::mon {

struct SoloHost : PaxosHost {
  ManualClock clock;
  MonitorCore* core = nullptr;
  void send(int, const PaxosMsg&) override {}
  uint64_t now_ns() const override { return clock.now_ns(); }
  void on_commit(uint64_t) override {
    if (core) core->on_commit();
  }
};

class SoloMonitor : public ::testing::Test {
 protected:
  SoloMonitor() : store_(make_mem_paxos_store()), paxos_(0, 1, *store_, host_, rng_), core_(paxos_, *store_) {
    host_.core = &core_;
  }
  uint64_t now_ms() const { return host_.clock.now_ns() / 1'000'000; }
  // Moves time on in 100 ms steps, ticking Paxos and the services.
  void advance(uint64_t ms) {
    for (uint64_t t = 0; t < ms; t += 100) {
      host_.clock.advance_ns(100'000'000);
      paxos_.tick();
      core_.tick(now_ms());
    }
  }
  MonCommandReply run(std::vector<std::string> args, bool json = false) {
    MonCommandReply out;
    bool called = false;
    core_.handle_command(MonCommand{std::move(args), json}, [&](MonCommandReply r) {
      out = std::move(r);
      called = true;
    });
    EXPECT_TRUE(called) << "command did not answer";
    return out;
  }

  SoloHost host_;
  SeededRandom rng_{1};
  std::unique_ptr<PaxosStore> store_;
  Paxos paxos_;
  MonitorCore core_;
};

}  // namespace cairn::mon
