// `cairn cluster up|status|down` end to end: three real monitors under a temporary
// directory, status as JSON, idempotent up (and restart of a killed daemon), busy ports,
// a daemon that fails to start, down by PID, and bad arguments.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "mon_cluster.h"

namespace cairn::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

std::string cairn() { return bin_dir() + "/cairn"; }

CommandOutput cluster(std::vector<std::string> words, std::chrono::milliseconds timeout = 120s) {
  words.insert(words.begin(), {cairn(), "cluster"});
  return run_process(words, timeout);
}

// Gone: no such process, or a zombie nobody reaped yet.
bool gone(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  size_t rp = s.rfind(')');
  return rp == std::string::npos || (rp + 2 < s.size() && (s[rp + 2] == 'Z' || s[rp + 2] == 'X'));
}

bool port_free(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// A base port whose monitor ports (BASE+0..2) and /metrics ports (BASE+100..102, +200..202) are free.
uint16_t base_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    uint16_t p = free_ports(1)[0];
    if (p < 1024 || p > 65000) continue;
    bool ok = true;
    for (int i = 0; i < 3; ++i) {
      ok = ok && port_free(static_cast<uint16_t>(p + i)) && port_free(static_cast<uint16_t>(p + 100 + i)) &&
           port_free(static_cast<uint16_t>(p + 200 + i));
    }
    if (ok) return p;
  }
  return 0;
}

class ClusterToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn-cluster-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/cluster";
    port_ = base_port();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    // Whatever happened, leave no daemon behind: down, then SIGKILL what status still shows.
    for (const std::string& d : dirs_) {
      auto s = status(d);
      cluster({"down", "--dir", d, "--timeout", "5s"}, 60s);
      for (pid_t pid : s.second)
        if (!gone(pid)) kill(pid, SIGKILL);
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  CommandOutput up(const std::string& dir, std::vector<std::string> extra = {}) {
    if (std::find(dirs_.begin(), dirs_.end(), dir) == dirs_.end()) dirs_.push_back(dir);
    std::vector<std::string> w = {
        "up",        "--mons", "3", "--osds", "0", "--dir", dir, "--port", std::to_string(port_),
        "--timeout", "60s"};
    w.insert(w.end(), extra.begin(), extra.end());
    return cluster(w);
  }

  // status --format json, and the pids of the running daemons.
  std::pair<json, std::vector<pid_t>> status(const std::string& dir) {
    auto r = cluster({"status", "--dir", dir, "--format", "json"}, 30s);
    json j = json::parse(r.out, nullptr, false);
    std::vector<pid_t> pids;
    if (r.exit_code != 0 || j.is_discarded()) return {json(), pids};
    for (const auto& d : j["daemons"])
      if (!d["pid"].is_null()) pids.push_back(d["pid"].get<pid_t>());
    return {j, pids};
  }

  std::string root_, dir_;
  uint16_t port_ = 0;
  std::vector<std::string> dirs_;
};

TEST_F(ClusterToolTest, UpStatusIdempotentDown) {
  auto r = up(dir_);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("export CAIRN_CONF=" + dir_ + "/cairn.conf"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/metrics"), std::string::npos) << r.out;

  // cairn.conf names the three monitors, and the CLI reaches a full quorum through it.
  std::ifstream conf(dir_ + "/cairn.conf");
  std::stringstream cs;
  cs << conf.rdbuf();
  std::string mon_host = "127.0.0.1:" + std::to_string(port_) + ",127.0.0.1:" + std::to_string(port_ + 1) +
                         ",127.0.0.1:" + std::to_string(port_ + 2);
  EXPECT_NE(cs.str().find("mon_host = " + mon_host), std::string::npos) << cs.str();
  auto stat = run_process({cairn(), "-c", dir_ + "/cairn.conf", "--format", "json", "mon", "stat"}, 30s);
  ASSERT_EQ(stat.exit_code, 0) << stat.err;
  EXPECT_EQ(json::parse(stat.out)["quorum"].size(), 3u) << stat.out;

  auto [s, pids] = status(dir_);
  ASSERT_TRUE(s.is_object());
  ASSERT_EQ(s["daemons"].size(), 3u) << s.dump();
  for (int i = 0; i < 3; ++i) {
    const auto& d = s["daemons"][i];
    EXPECT_EQ(d["name"], std::string("mon.") + static_cast<char>('a' + i));
    EXPECT_EQ(d["state"], "running");
    EXPECT_EQ(d["addr"], "127.0.0.1:" + std::to_string(port_ + i));
    EXPECT_EQ(d["metrics"], "http://127.0.0.1:" + std::to_string(port_ + 100 + i) + "/metrics");
    EXPECT_EQ(d["log"], dir_ + "/mon." + static_cast<char>('a' + i) + ".log");
  }
  ASSERT_EQ(pids.size(), 3u);
  for (pid_t pid : pids) EXPECT_FALSE(gone(pid));

  // Idempotent: a second up changes nothing and says so.
  r = up(dir_);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("already running"), std::string::npos) << r.out;
  EXPECT_EQ(status(dir_).second, pids);

  // A killed daemon shows as stopped; up starts just that one again.
  kill(pids[1], SIGKILL);
  for (int i = 0; i < 100 && !gone(pids[1]); ++i) std::this_thread::sleep_for(50ms);
  auto [s2, pids2] = status(dir_);
  EXPECT_EQ(s2["daemons"][1]["state"], "stopped") << s2.dump();
  EXPECT_EQ(pids2.size(), 2u);
  r = up(dir_);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("started mon.b"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("started mon.a"), std::string::npos) << r.out;
  auto [s3, pids3] = status(dir_);
  ASSERT_EQ(pids3.size(), 3u) << s3.dump();
  EXPECT_EQ(pids3[0], pids[0]);
  EXPECT_NE(pids3[1], pids[1]);

  // Another cluster on the same ports: a clear error, nothing written.
  std::string other = root_ + "/other";
  r = up(other);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(other + "/cluster.json"));

  // down stops every daemon by PID; status then shows them stopped; down again is a no-op.
  r = cluster({"down", "--dir", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (pid_t pid : pids3) EXPECT_TRUE(gone(pid)) << pid;
  auto [s4, pids4] = status(dir_);
  EXPECT_TRUE(pids4.empty()) << s4.dump();
  for (const auto& d : s4["daemons"]) EXPECT_EQ(d["state"], "stopped");
  for (char c : {'a', 'b', 'c'}) EXPECT_FALSE(fs::exists(dir_ + "/mon." + c + ".pid"));
  r = cluster({"down", "--dir", dir_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// With the OSD daemon built: three OSDs up in the osdmap, each in its own CRUSH host.
TEST_F(ClusterToolTest, WithOsds) {
  if (access((bin_dir() + "/cairn-osd").c_str(), X_OK) != 0) GTEST_SKIP() << "cairn-osd is not built";
  auto r = up(dir_, {"--osds", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto [s, pids] = status(dir_);
  ASSERT_EQ(s["daemons"].size(), 6u) << s.dump();
  for (int i = 0; i < 3; ++i) {
    const auto& d = s["daemons"][3 + i];
    EXPECT_EQ(d["name"], "osd." + std::to_string(i));
    EXPECT_EQ(d["state"], "running");
    EXPECT_EQ(d.value("up", false), true) << d.dump();
    EXPECT_EQ(d["addr"].get<std::string>().rfind("127.0.0.1:", 0), 0u) << d.dump();
    EXPECT_EQ(d["metrics"], "http://127.0.0.1:" + std::to_string(port_ + 200 + i) + "/metrics");
  }
  ASSERT_EQ(pids.size(), 6u);

  // Each OSD is alone in its own CRUSH host (host-N), so size-3 pools can place on all three.
  auto t = run_process({cairn(), "-c", dir_ + "/cairn.conf", "--format", "json", "osd", "tree"}, 30s);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  json tree = json::parse(t.out, nullptr, false);
  ASSERT_FALSE(tree.is_discarded()) << t.out;
  std::map<std::string, json> hosts;
  for (const auto& n : tree["nodes"])
    if (n.value("type", "") == "host") hosts[n.value("name", "")] = n;
  ASSERT_EQ(hosts.size(), 3u) << t.out;
  for (int i = 0; i < 3; ++i) {
    const json& h = hosts["host-" + std::to_string(i)];
    EXPECT_EQ(h.value("children", json::array()), json::array({i})) << t.out;
  }

  r = up(dir_, {"--osds", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("already running"), std::string::npos) << r.out;

  r = cluster({"down", "--dir", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (pid_t pid : pids) EXPECT_TRUE(gone(pid)) << pid;
}

TEST_F(ClusterToolTest, DaemonThatDiesPointsAtItsLog) {
  // A cairn-mon whose mkfs works but which exits at once when run.
  std::string bin = root_ + "/bin";
  fs::create_directories(bin);
  {
    std::ofstream f(bin + "/cairn-mon");
    f << "#!/bin/sh\ncase \"$*\" in *--mkfs*) exit 0;; esac\necho 'cannot bind: nope' >&2\nexit 1\n";
  }
  fs::permissions(bin + "/cairn-mon", fs::perms::owner_all);
  auto r = up(dir_, {"--bin-dir", bin});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("exited right after it started"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(dir_ + "/mon.a.log"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot bind: nope"), std::string::npos) << r.err;
}

TEST_F(ClusterToolTest, BadArguments) {
  struct Case {
    std::vector<std::string> words;
    std::string message;
  } cases[] = {
      {{"up", "--mons", "0"}, "--mons must be"},
      {{"up", "--mons", "many"}, "--mons must be"},
      {{"up", "--osds", "-1"}, "--osds must be"},
      {{"up", "--frobnicate"}, "unknown option '--frobnicate'"},
      {{"up", "--dir"}, "--dir needs a value"},
      {{"launch"}, "unknown subcommand 'launch'"},
      {{"status", "--format", "xml"}, "--format must be"},
      {{"status", "--dir", root_ + "/nothing-here"}, "no cluster in"},
  };
  for (const auto& c : cases) {
    auto r = cluster(c.words, 30s);
    EXPECT_NE(r.exit_code, 0) << c.words[0] << " " << c.message;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
  auto r = cluster({}, 30s);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("usage: cairn cluster"), std::string::npos) << r.err;
  // A directory that was not made by `cairn cluster up` is left alone.
  fs::create_directories(dir_);
  std::ofstream(dir_ + "/precious") << "x";
  r = up(dir_);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("holds no cluster.json"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir_ + "/precious"));
}

}  // namespace
}  // namespace cairn::test
