// Monitors as real processes on loopback: election, 1000 commits, kill -9 of the
// leader, partitions through the messenger's fault injection, whole-cluster
// restart, a corrupt store, fake OSDs going down and out, garbage on the port.
#include "mon_cluster.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "client/mon_client.h"
#include "common/env.h"

namespace cairn::test {
namespace {

using namespace std::chrono_literals;

// Short timeouts so failover happens within a test's patience.
const std::vector<std::string> kFastMons = {
    "--mon-election-timeout", "1s", "--mon-lease", "1s", "--log-level", "warn"};

// A client in the test process: its own io_context thread, synchronous calls.
class TestClient {
 public:
  explicit TestClient(const std::string& mon_host)
      : work_(asio::make_work_guard(io_)),
        messenger_(io_, msg::EntityName{msg::EntityType::kClient, "test"}),
        mc_(*client::MonClient::create(messenger_, mon_host)),
        thread_([this] { io_.run(); }) {}
  ~TestClient() {
    // Let the messenger's shutdown drain (bounded) so no session or coroutine
    // frame is left behind (LeakSanitizer checks this under the asan preset).
    messenger_.shutdown();
    work_.reset();
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (!io_.stopped() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    io_.stop();
    thread_.join();
  }
  Result<client::MonCommandResult> cmd(std::vector<std::string> words, bool json = false,
                                       std::chrono::milliseconds timeout = 20s) {
    std::promise<Result<client::MonCommandResult>> p;
    auto f = p.get_future();
    asio::co_spawn(
        io_,
        [&]() -> awaitable<void> {
          std::vector<std::string> w = words;
          auto r = co_await mc_.command(std::move(w), json, timeout);
          p.set_value(std::move(r));
        },
        asio::detached);
    return f.get();
  }
  // Messages to a monitor outside MonClient (fake OSDs).
  msg::Messenger& messenger() { return messenger_; }
  asio::io_context& io() { return io_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  msg::Messenger messenger_;
  client::MonClient mc_;
  std::thread thread_;
};

bool digests_converge(const MonCluster& c, std::chrono::milliseconds timeout, std::string* why = nullptr) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    std::set<std::string> ds;
    bool all = true;
    for (int i = 0; i < c.size(); ++i) {
      if (!c.running(i)) continue;
      std::string d = c.admin(i, "digest");
      if (d.empty()) all = false;
      ds.insert(d);
      last += d + " ";
    }
    if (all && ds.size() == 1) return true;
    last.clear();
    std::this_thread::sleep_for(100ms);
  }
  if (why) *why = last;
  return false;
}

TEST(MonCluster, ThreeMonsElectCommitAThousandChangesAndAgree) {
  MonCluster c(3, kFastMons);
  ASSERT_TRUE(c.start_all().ok());
  int l = c.wait_leader(20s);
  ASSERT_GE(l, 0) << "no leader elected";
  auto stat = c.cli({"mon", "stat"}, true);
  ASSERT_EQ(stat.exit_code, 0) << stat.err;
  auto j = nlohmann::json::parse(stat.out);
  EXPECT_EQ(j["leader"], c.name(l));
  EXPECT_EQ(j["quorum"].size(), 3u);

  TestClient tc(c.mon_host());
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 10; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 100; ++i) {
        auto r = tc.cmd({"config", "set", "global", "k" + std::to_string(w * 100 + i), std::to_string(i)});
        if (!r.ok() || r->code != 0) ++failures;
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto dump = tc.cmd({"config", "dump"}, true);
  ASSERT_TRUE(dump.ok());
  EXPECT_EQ(nlohmann::json::parse(dump->out)["global"].size(), 1000u);
  std::string why;
  EXPECT_TRUE(digests_converge(c, 10s, &why)) << why;
}

TEST(MonCluster, KillingTheLeaderFailsOverAndLosesNoCommittedChange) {
  MonCluster c(5, kFastMons);
  ASSERT_TRUE(c.start_all().ok());
  ASSERT_GE(c.wait_leader(20s), 0);
  TestClient tc(c.mon_host());
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<int> acked;
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      auto r = tc.cmd({"config", "set", "global", "w" + std::to_string(i), std::to_string(i)}, false, 30s);
      if (r.ok() && r->code == 0) {
        std::lock_guard lk(mu);
        acked.push_back(i);
      }
    }
  });
  SeededRandom rng(42);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng.uniform(600)));
    int l = c.leader();
    ASSERT_GE(l, 0);
    auto t0 = std::chrono::steady_clock::now();
    c.kill9(l);
    int l2 = c.wait_leader(15s);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    ASSERT_GE(l2, 0) << "no new leader after killing " << c.name(l);
    EXPECT_NE(l2, l);
    EXPECT_LT(took.count(), 8000) << "failover took " << took.count() << " ms";
    std::printf("failover round %d: mon.%s killed, mon.%s leads after %lld ms\n", round, c.name(l).c_str(),
                c.name(l2).c_str(), static_cast<long long>(took.count()));
    if (round == 0) {
      std::this_thread::sleep_for(1500ms);  // a few lease rounds without the dead monitor
      auto h = c.cli({"health", "detail"});
      EXPECT_NE(h.out.find("MON_DOWN"), std::string::npos) << h.out << h.err;
      EXPECT_NE(h.out.find("mon." + c.name(l)), std::string::npos) << h.out;
    }
    ASSERT_TRUE(c.start(l).ok());
  }
  std::this_thread::sleep_for(500ms);
  stop = true;
  writer.join();
  ASSERT_GE(c.wait_leader(15s), 0);
  auto dump = tc.cmd({"config", "dump"}, true);
  ASSERT_TRUE(dump.ok());
  auto global = nlohmann::json::parse(dump->out)["global"];
  std::lock_guard lk(mu);
  EXPECT_GT(acked.size(), 20u);
  for (int i : acked) EXPECT_EQ(global["w" + std::to_string(i)], std::to_string(i)) << "acked change lost";
  std::string why;
  EXPECT_TRUE(digests_converge(c, 15s, &why)) << why;
}

TEST(MonCluster, PartitionedLeaderStepsDownAndCatchesUpAfterHeal) {
  MonCluster c(3, kFastMons);
  ASSERT_TRUE(c.start_all().ok());
  int l = c.wait_leader(20s);
  ASSERT_GE(l, 0);
  for (int i = 0; i < c.size(); ++i) {
    if (i == l) continue;
    c.admin(l, "fault cut mon." + c.name(i));
    c.admin(i, "fault cut mon." + c.name(l));
  }
  std::this_thread::sleep_for(3s);
  auto st = nlohmann::json::parse(c.admin(l, "status"));
  EXPECT_FALSE(st["is_leader"].get<bool>()) << "a leader cut off from its majority must step down";
  int l2 = c.leader();
  ASSERT_GE(l2, 0);
  EXPECT_NE(l2, l);
  auto r = c.cli({"config", "set", "global", "during_partition", "yes"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (int i = 0; i < c.size(); ++i)
    c.admin(i, "fault clear mon." + c.name(l)), c.admin(l, "fault clear mon." + c.name(i));
  std::string why;
  EXPECT_TRUE(digests_converge(c, 15s, &why)) << why;
}

TEST(MonCluster, RestartingEveryMonitorKeepsTheState) {
  MonCluster c(3, kFastMons);
  ASSERT_TRUE(c.start_all().ok());
  ASSERT_GE(c.wait_leader(20s), 0);
  ASSERT_EQ(c.cli({"config", "set", "osd", "osd_heartbeat_grace", "33"}).exit_code, 0);
  ASSERT_EQ(c.cli({"osd", "pool", "create", "keepme", "8", "--size", "1", "--min-size", "1"}).exit_code, 0);
  for (int i = 0; i < 3; ++i) c.stop(i);
  ASSERT_TRUE(c.start_all().ok());
  ASSERT_GE(c.wait_leader(20s), 0);
  auto g = c.cli({"config", "get", "osd.1", "osd_heartbeat_grace"});
  EXPECT_EQ(g.out, "33\n") << g.err;
  EXPECT_NE(c.cli({"osd", "pool", "ls"}).out.find("keepme"), std::string::npos);
}

TEST(MonCluster, CorruptStoreFailsStartupWithAClearMessage) {
  MonCluster c(1, kFastMons);
  ASSERT_TRUE(c.start_all().ok());
  ASSERT_GE(c.wait_leader(20s), 0);
  c.stop(0);
  std::string store = c.data_dir(0) + "/store";
  ASSERT_EQ(
      std::system(("f=$(ls " + store +
                   "/MANIFEST-* | head -1); sz=$(stat -c %s $f); "
                   "dd if=/dev/zero of=$f bs=1 seek=$((sz/3)) count=$((sz/3+1)) conv=notrunc status=none")
                      .c_str()),
      0);
  auto r = run_process({bin_dir() + "/cairn-mon", "--id", c.name(0), "--data", c.data_dir(0)}, 20s);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("open monitor store"), std::string::npos) << r.err;
}

TEST(MonCluster, BadCommandsAndGarbageDoNotHurtTheMonitor) {
  MonCluster c(1, kFastMons);
  ASSERT_TRUE(c.start_all().ok());
  ASSERT_GE(c.wait_leader(20s), 0);
  auto r = c.cli({"osd", "pool", "create", "x", "notanumber"});
  EXPECT_EQ(r.exit_code, EINVAL);
  EXPECT_NE(r.err.find("pg_num"), std::string::npos) << r.err;
  EXPECT_EQ(c.cli({"frobnicate"}).exit_code, EINVAL);
  EXPECT_EQ(c.cli({"osd", "out", "99"}).exit_code, ENOENT);
  // Garbage straight onto the monitor's port.
  std::string host = c.mon_host();
  uint16_t port = static_cast<uint16_t>(std::stoi(host.substr(host.rfind(':') + 1)));
  SeededRandom rng(9);
  for (int k = 0; k < 20; ++k) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      std::string junk(1 + rng.uniform(4096), '\0');
      for (char& ch : junk) ch = static_cast<char>(rng.next_u64());
      (void)!write(fd, junk.data(), junk.size());
    }
    close(fd);
  }
  EXPECT_EQ(c.cli({"health"}).exit_code, 0);
  EXPECT_TRUE(c.running(0));
}

// Fake OSDs: boot through the real messages, then one goes silent.
TEST(MonCluster, MonitorsAreAddedAndRemovedThroughTheLog) {
  MonCluster c(3, kFastMons);
  ASSERT_TRUE(c.start_all().ok());
  ASSERT_GE(c.wait_leader(20s), 0);
  TestClient tc(c.mon_host());
  // Add mon.d: commit the new monmap, then create and start it.
  uint16_t port = free_ports(1)[0];
  std::string d_addr = "127.0.0.1:" + std::to_string(port);
  auto add = c.cli({"mon", "add", "d", d_addr});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(c.cli({"mon", "add", "d", d_addr}).exit_code, EEXIST);
  EXPECT_EQ(c.cli({"mon", "add", "e", "not-an-address"}).exit_code, EINVAL);
  std::string members = "a=" + c.addr(0) + ",b=" + c.addr(1) + ",c=" + c.addr(2) + ",d=" + d_addr;
  int d = c.add_member("d", port, members);
  ASSERT_TRUE(c.start(d).ok());
  nlohmann::json stat;
  for (int i = 0; i < 100; ++i) {
    stat = nlohmann::json::parse(c.cli({"mon", "stat"}, true).out, nullptr, false);
    if (!stat.is_discarded() && stat["quorum"].size() == 4) break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(stat["quorum"].size(), 4u) << stat.dump();
  EXPECT_EQ(stat["mons"].size(), 4u);
  for (int i = 0; i < 50; ++i) {
    auto r = tc.cmd({"config", "set", "global", "after_add" + std::to_string(i), "1"});
    ASSERT_TRUE(r.ok() && r->code == 0);
  }
  std::string why;
  EXPECT_TRUE(digests_converge(c, 10s, &why)) << why;

  // Remove mon.b: it stops by itself; the other three keep committing.
  auto rm = c.cli({"mon", "remove", "b"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(c.cli({"mon", "remove", "b"}).exit_code, ENOENT);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = c.exited(1);
    if (!gone) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(gone) << "mon.b still running after its removal";
  for (int i = 0; i < 100; ++i) {
    stat = nlohmann::json::parse(c.cli({"mon", "stat"}, true).out, nullptr, false);
    if (!stat.is_discarded() && stat["quorum"].size() == 3) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(stat["mons"].size(), 3u) << stat.dump();
  EXPECT_EQ(stat["quorum"].size(), 3u) << stat.dump();
  for (int i = 0; i < 50; ++i) {
    auto r = tc.cmd({"config", "set", "global", "after_rm" + std::to_string(i), "1"});
    ASSERT_TRUE(r.ok() && r->code == 0);
  }
  EXPECT_TRUE(digests_converge(c, 10s, &why)) << why;
  // The new membership survives restarts (it is in every monitor's store and monmap file).
  for (int i : {0, 2, 3}) c.kill9(i);
  for (int i : {0, 2, 3}) ASSERT_TRUE(c.start(i).ok());
  ASSERT_GE(c.wait_leader(20s), 0);
  stat = nlohmann::json::parse(c.cli({"mon", "stat"}, true).out, nullptr, false);
  EXPECT_EQ(stat["mons"].size(), 3u) << stat.dump();
}

TEST(MonCluster, ClockSkewIsReportedInHealth) {
  // [mon.c] of the config file applies to mon.c only: its clock runs 400 ms ahead.
  char tmpl[] = "/tmp/cairn-skew-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string conf = std::string(tmpl) + "/cairn.conf";
  ASSERT_TRUE(real_fs().write_file_atomic(conf, "[mon.c]\nmon_test_clock_offset = 400\n").ok());
  std::vector<std::string> args = kFastMons;
  args.insert(args.end(), {"-c", conf});
  MonCluster c(3, args);
  ASSERT_TRUE(c.start_all().ok());
  ASSERT_GE(c.wait_leader(20s), 0);
  std::string detail;
  for (int i = 0; i < 50 && detail.find("MON_CLOCK_SKEW") == std::string::npos; ++i) {
    std::this_thread::sleep_for(200ms);
    detail = c.cli({"health", "detail"}).out;
  }
  EXPECT_NE(detail.find("MON_CLOCK_SKEW"), std::string::npos) << detail;
  EXPECT_NE(detail.find("mon.c clock skew 0.4"), std::string::npos) << detail;
  EXPECT_EQ(detail.find("mon.b clock skew"), std::string::npos) << detail;
  std::system(("rm -rf " + std::string(tmpl)).c_str());
}

TEST(MonCluster, SilentOsdIsMarkedDownThenOut) {
  std::vector<std::string> args = kFastMons;
  args.insert(args.end(), {"--mon-osd-beacon-timeout", "2s", "--mon-osd-down-out-interval", "2s",
                           "--mon-osd-reporter-subtree-level", "osd"});
  MonCluster c(3, args);
  ASSERT_TRUE(c.start_all().ok());
  int l = c.wait_leader(20s);
  ASSERT_GE(l, 0);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(c.cli({"osd", "create"}).exit_code, 0);
  TestClient tc(c.mon_host());
  // Boot each OSD through whichever monitor leads (following EAGAIN redirects).
  auto boot = [&](int osd) -> int {
    for (int attempt = 0; attempt < 20; ++attempt) {
      int lead = c.leader();
      if (lead < 0) {
        std::this_thread::sleep_for(200ms);
        continue;
      }
      std::promise<int> p;
      auto f = p.get_future();
      asio::co_spawn(
          tc.io(),
          [&]() -> awaitable<void> {
            auto conn =
                tc.messenger().connect(msg::EntityInst{msg::EntityName{msg::EntityType::kMon, c.name(lead)},
                                                       *msg::EntityAddr::parse(c.addr(lead))},
                                       msg::Policy::kLossy);
            msg::OsdBootMsg b{osd, *msg::EntityAddr::parse("127.0.0.1:" + std::to_string(7000 + osd)),
                              static_cast<uint64_t>(osd + 1), "h" + std::to_string(osd), 0x10000};
            msg::Message req = msg::Message::make(msg::kMsgOsdBoot, b);
            auto r = co_await conn->request(std::move(req), std::chrono::milliseconds(5000));
            int code = -1;
            if (r.ok()) {
              auto ack = r->decode_front<msg::OsdAckMsg>();
              code = ack.ok() ? ack->code : -2;
            }
            conn->close();
            p.set_value(code);
          },
          asio::detached);
      int code = f.get();
      if (code == 0) return 0;
      std::this_thread::sleep_for(200ms);
    }
    return -1;
  };
  for (int i = 0; i < 3; ++i) ASSERT_EQ(boot(i), 0) << "boot osd." << i;
  auto dump = nlohmann::json::parse(c.cli({"osd", "dump"}, true).out);
  for (auto& o : dump["osds"]) EXPECT_TRUE(o["up"].get<bool>());
  // PG stats from the OSDs reach `pg stat` and `status` (through any monitor).
  ASSERT_EQ(c.cli({"osd", "pool", "create", "p", "4", "--size", "1", "--min-size", "1"}).exit_code, 0);
  auto pool_id = nlohmann::json::parse(c.cli({"osd", "pool", "get", "p"}, true).out)["id"].get<int64_t>();
  // Stats also count as beacons, so sending them keeps all three OSDs up meanwhile.
  auto send_stats = [&] {
    // By value: a posted handler may run after this scope's locals are gone.
    asio::post(tc.io(), [&tc, &c, pool_id] {
      auto conn = tc.messenger().connect(msg::EntityInst{msg::EntityName{msg::EntityType::kMon, c.name(0)},
                                                         *msg::EntityAddr::parse(c.addr(0))},
                                         msg::Policy::kLossy);
      for (int osd = 0; osd < 3; ++osd) {
        msg::OsdStatsMsg st{osd, 0, 100, 1000, {}};
        for (uint32_t seed = 0; seed < 4; ++seed)
          st.pgs.push_back(msg::PgStatEntry{pool_id, seed, msg::kPgActive | msg::kPgClean, 5, 50, 0, 0, 1});
        (void)conn->send(msg::Message::make(msg::kMsgOsdStats, st));
      }
    });
  };
  bool clean = false;
  for (int t = 0; t < 50 && !clean; ++t) {
    send_stats();
    std::this_thread::sleep_for(100ms);
    auto stat = nlohmann::json::parse(c.cli({"pg", "stat"}, true).out);
    clean = stat["by_state"].value("active+clean", 0) == 4;
  }
  EXPECT_TRUE(clean) << c.cli({"pg", "dump"}).out << c.cli({"osd", "tree"}).out << c.cli({"osd", "dump"}).out;
  send_stats();
  std::vector<int> primaries;
  auto before = nlohmann::json::parse(c.cli({"pg", "dump"}, true).out);  // named: range-for over a
  for (auto& pg : before["pgs"])
    primaries.push_back(pg["acting_primary"].get<int>());  // temporary's member dangles
  ASSERT_EQ(primaries.size(), 4u);
  auto status = c.cli({"status"}).out;
  EXPECT_NE(status.find("4 active+clean"), std::string::npos) << status;
  // osd.0 and osd.1 keep sending beacons (to any monitor); osd.2 is silent.
  // One connection to mon.a carries both live OSDs' beacons (any monitor forwards them).
  auto beacon_conn = std::make_shared<msg::ConnectionRef>();
  auto beacons = [&](int secs) {
    for (int t = 0; t < secs * 5; ++t) {
      asio::post(tc.io(), [&tc, &c, beacon_conn] {
        if (!*beacon_conn || !(*beacon_conn)->is_open()) {
          *beacon_conn =
              tc.messenger().connect(msg::EntityInst{msg::EntityName{msg::EntityType::kMon, c.name(0)},
                                                     *msg::EntityAddr::parse(c.addr(0))},
                                     msg::Policy::kLossy);
        }
        for (int osd = 0; osd < 2; ++osd)
          (void)(*beacon_conn)->send(msg::Message::make(msg::kMsgOsdBeacon, msg::OsdBeaconMsg{osd, 0}));
      });
      std::this_thread::sleep_for(200ms);
    }
  };
  beacons(4);
  dump = nlohmann::json::parse(c.cli({"osd", "dump"}, true).out);
  EXPECT_FALSE(dump["osds"][2]["up"].get<bool>()) << dump.dump();
  EXPECT_TRUE(dump["osds"][0]["up"].get<bool>()) << dump.dump();
  beacons(4);
  dump = nlohmann::json::parse(c.cli({"osd", "dump"}, true).out);
  EXPECT_FALSE(dump["osds"][2]["in"].get<bool>()) << "down past the interval: out";
  EXPECT_TRUE(dump["osds"][1]["in"].get<bool>());
  auto h = nlohmann::json::parse(c.cli({"health"}, true).out);
  EXPECT_FALSE(h["checks"].contains("OSD_DOWN")) << "down and out is not a warning: " << h.dump();
  // PGs osd.2 led moved to osd.0/1, which (being fakes) send no stats: stale, as they should be.
  auto after = nlohmann::json::parse(c.cli({"pg", "dump"}, true).out);
  ASSERT_EQ(after["pgs"].size(), primaries.size());
  for (size_t i = 0; i < after["pgs"].size(); ++i) {
    if (primaries[i] != 2) continue;
    EXPECT_EQ(after["pgs"][i]["state"].get<std::string>().rfind("stale+", 0), 0u) << after.dump();
    EXPECT_TRUE(h["checks"].contains("PG_STALE")) << h.dump();
  }
}

}  // namespace
}  // namespace cairn::test
