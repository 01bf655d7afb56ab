// `cairn cluster up|down|status`: a local cluster on 127.0.0.1 under one directory.
//
//   cairn cluster up     [--mons 3] [--osds 3] [--dir cluster] [--port 6789] [--osd-size 4G] [--timeout 180s]
//   cairn cluster status [--dir cluster] [--format plain|json]
//   cairn cluster down   [--dir cluster] [--timeout 10s]
//
// Layout of DIR: cluster.json (what `up` made: daemons, ports, progress), cairn.conf (mon_host,
// for clients: export CAIRN_CONF=DIR/cairn.conf), and per daemon NAME/ (data), NAME.log,
// NAME.pid. Monitor i listens on PORT+i with /metrics on PORT+100+i; osd.N has /metrics on
// PORT+200+N and one file-backed device (sparse) under osd.N/.
//
// Daemons run detached (own session, double fork) so they outlive `cairn`; they are stopped
// by the PID in their pid file, and only after /proc/PID/cmdline shows it is that daemon.
#include "tools/cairn/cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/mon_client.h"
#include "common/asio.h"
#include "common/config.h"
#include "common/log.h"

namespace cairn::tools {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kMaxMons = 9;
constexpr int kMaxOsds = 64;
constexpr const char* kMonIds = "abcdefghi";

void usage() {
  std::fputs(
      "usage: cairn cluster up|down|status [options]\n"
      "  up      start a local cluster on 127.0.0.1 (idempotent: a running one just prints its status),\n"
      "          wait until every PG is active+clean, write DIR/cairn.conf, print the endpoints\n"
      "  status  every daemon: name, state (running/stopped), pid, address, /metrics, admin socket\n"
      "  down    stop every daemon by its PID (SIGTERM, SIGKILL after --timeout)\n"
      "options:\n"
      "  --dir DIR          the cluster's directory (default ./cluster)\n"
      "  --mons N           up: monitors, 1..9 (default 3)\n"
      "  --osds N           up: OSDs, 0..64 (default 3; 0 = monitors only)\n"
      "  --port BASE        up: monitor i on BASE+i, /metrics on BASE+100+i (mons), BASE+200+N (osd.N);\n"
      "                     default 6789\n"
      "  --osd-size SIZE    up: each OSD's (sparse) device file (default 4G)\n"
      "  --hosts H          up: spread OSDs over H CRUSH hosts, osd.N on host-(N mod H) (default: one\n"
      "                     host per OSD)\n"
      "  --bin-dir DIR      where cairn-mon and cairn-osd are (default: next to this cairn)\n"
      "  --timeout T        up: how long to wait for health (default 180s); down: SIGKILL after (default "
      "10s)\n"
      "  --format plain|json  status output\n",
      stderr);
}

struct Options {
  std::string cmd;
  int mons = 3, osds = 3;
  bool mons_set = false, osds_set = false;
  std::string dir = "cluster";
  uint16_t port = 6789;
  std::string bin_dir;
  std::string osd_size = "4G";
  int hosts = 0;
  std::optional<uint64_t> timeout_ms;
  bool json = false;
};

Result<Options> parse(int argc, char** argv) {
  Options o;
  if (argc < 1) return Status(Errc::kInvalid, "name a subcommand: up, down or status");
  o.cmd = argv[0];
  if (o.cmd != "up" && o.cmd != "down" && o.cmd != "status")
    return Status(Errc::kInvalid, "unknown subcommand '" + o.cmd + "' (up, down or status)");
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], v;
    size_t eq = a.find('=');
    bool inline_value = a.rfind("--", 0) == 0 && eq != std::string::npos;
    std::string name = inline_value ? a.substr(0, eq) : a;
    auto value = [&]() -> Status {
      if (inline_value) {
        v = a.substr(eq + 1);
        return {};
      }
      if (i + 1 >= argc) return Status(Errc::kInvalid, name + " needs a value");
      v = argv[++i];
      return {};
    };
    auto int_value = [&](int lo, int hi, int& out) -> Status {
      CAIRN_RETURN_IF_ERROR(value());
      auto n = parse_int(v);
      if (!n.ok() || *n < lo || *n > hi)
        return Status(Errc::kInvalid, name + " must be " + std::to_string(lo) + ".." + std::to_string(hi) +
                                          ", not '" + v + "'");
      out = static_cast<int>(*n);
      return {};
    };
    if (name == "-h" || name == "--help") {
      usage();
      std::exit(0);
    }
    if (name == "--mons") {
      CAIRN_RETURN_IF_ERROR(int_value(1, kMaxMons, o.mons));
      o.mons_set = true;
    } else if (name == "--osds") {
      CAIRN_RETURN_IF_ERROR(int_value(0, kMaxOsds, o.osds));
      o.osds_set = true;
    } else if (name == "--port") {
      int p = 0;
      CAIRN_RETURN_IF_ERROR(int_value(1024, 65535 - 200 - kMaxOsds, p));
      o.port = static_cast<uint16_t>(p);
    } else if (name == "--dir") {
      CAIRN_RETURN_IF_ERROR(value());
      if (v.empty()) return Status(Errc::kInvalid, "--dir must not be empty");
      o.dir = v;
    } else if (name == "--bin-dir") {
      CAIRN_RETURN_IF_ERROR(value());
      o.bin_dir = v;
    } else if (name == "--osd-size") {
      CAIRN_RETURN_IF_ERROR(value());
      auto s = parse_size(v);
      if (!s.ok() || *s < (64ull << 20)) return Status(Errc::kInvalid, "--osd-size must be a size >= 64M");
      o.osd_size = v;
    } else if (name == "--hosts") {
      CAIRN_RETURN_IF_ERROR(value());
      auto k = parse_int(v);
      if (!k.ok() || *k < 1 || *k > 64) return Status(Errc::kInvalid, "--hosts must be 1..64");
      o.hosts = static_cast<int>(*k);
    } else if (name == "--timeout") {
      CAIRN_RETURN_IF_ERROR(value());
      auto t = parse_duration_ms(v);
      if (!t.ok() || *t == 0) return Status(Errc::kInvalid, "--timeout must be a duration like 30s");
      o.timeout_ms = *t;
    } else if (name == "--format") {
      CAIRN_RETURN_IF_ERROR(value());
      if (v != "plain" && v != "json" && v != "json-pretty")
        return Status(Errc::kInvalid, "--format must be plain or json");
      o.json = v != "plain";
    } else {
      return Status(Errc::kInvalid, "unknown option '" + a + "' (see cairn cluster --help)");
    }
  }
  return o;
}

// ---- the cluster's layout (DIR/cluster.json) ----

struct Daemon {
  std::string type;  // "mon" or "osd"
  std::string id;    // "a" or "0"
  std::string addr;  // monitors: fixed at mkfs; OSDs: whatever they register in the osdmap
  uint16_t metrics_port = 0;
  bool created = false;  // mkfs done
  std::string name() const { return type + "." + id; }
};

struct Cluster {
  std::string dir;
  uint16_t port = 0;
  int osds_wanted = 0;
  std::string osd_size;
  int hosts = 0;  // 0: one CRUSH host per OSD
  std::vector<Daemon> mons, osds;

  std::string path(const std::string& leaf) const { return dir + "/" + leaf; }
  std::string conf() const { return path("cairn.conf"); }
  std::string layout() const { return path("cluster.json"); }
  std::string data(const Daemon& d) const { return path(d.name()); }
  std::string log(const Daemon& d) const { return path(d.name() + ".log"); }
  std::string pidfile(const Daemon& d) const { return path(d.name() + ".pid"); }
  std::string asok(const Daemon& d) const { return data(d) + "/" + d.name() + ".asok"; }
  std::string mon_host() const {
    std::string s;
    for (const auto& m : mons) s += (s.empty() ? "" : ",") + m.addr;
    return s;
  }
  std::vector<const Daemon*> all() const {
    std::vector<const Daemon*> v;
    for (const auto& m : mons) v.push_back(&m);
    for (const auto& d : osds) v.push_back(&d);
    return v;
  }
};

Status write_file(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << text;
    f.flush();
    if (!f) return Status(Errc::kIo, "cannot write " + tmp + ": " + std::strerror(errno));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status(Errc::kIo, "cannot rename " + tmp + ": " + ec.message());
  return {};
}

Status save(const Cluster& c) {
  json j = {{"port", c.port}, {"osds_wanted", c.osds_wanted}, {"osd_size", c.osd_size}, {"hosts", c.hosts}};
  for (const auto* group : {&c.mons, &c.osds}) {
    json a = json::array();
    for (const auto& d : *group)
      a.push_back({{"id", d.id}, {"addr", d.addr}, {"metrics_port", d.metrics_port}, {"created", d.created}});
    j[group == &c.mons ? "mons" : "osds"] = a;
  }
  return write_file(c.layout(), j.dump(2) + "\n");
}

Result<Cluster> load(const std::string& dir) {
  Cluster c;
  c.dir = dir;
  std::ifstream f(c.layout());
  if (!f) return Status(Errc::kNotFound, "no cluster in " + dir + " (no cluster.json)");
  json j = json::parse(f, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status(Errc::kCorrupt, c.layout() + " is not valid JSON");
  try {
    c.port = j.at("port").get<uint16_t>();
    c.osds_wanted = j.at("osds_wanted").get<int>();
    c.osd_size = j.at("osd_size").get<std::string>();
    c.hosts = std::max(0, j.value("hosts", 0));
    for (const char* type : {"mon", "osd"}) {
      for (const auto& e : j.at(std::string(type) + "s")) {
        Daemon d{type, e.at("id").get<std::string>(), e.at("addr").get<std::string>(),
                 e.at("metrics_port").get<uint16_t>(), e.at("created").get<bool>()};
        (d.type == "mon" ? c.mons : c.osds).push_back(d);
      }
    }
  } catch (const json::exception& e) {
    return Status(Errc::kCorrupt, c.layout() + ": " + e.what());
  }
  return c;
}

// ---- processes ----

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

pid_t read_pid(const std::string& pidfile) {
  std::ifstream f(pidfile);
  long pid = 0;
  if (!(f >> pid) || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

// True when `pid` is a live (not zombie) process whose command line has `--data data_dir`:
// a stale pid file whose pid was reused by something else does not count.
bool alive(pid_t pid, const std::string& data_dir) {
  if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM)) return false;
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  size_t rp = stat.rfind(')');
  if (rp == std::string::npos || rp + 2 >= stat.size() || stat[rp + 2] == 'Z' || stat[rp + 2] == 'X')
    return false;
  std::string cmdline = read_text("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> args;
  for (size_t pos = 0; pos < cmdline.size();) {
    size_t end = cmdline.find('\0', pos);
    if (end == std::string::npos) end = cmdline.size();
    args.push_back(cmdline.substr(pos, end - pos));
    pos = end + 1;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--data=" + data_dir) return true;
    if (args[i] == "--data" && i + 1 < args.size() && args[i + 1] == data_dir) return true;
  }
  return false;
}

bool running(const Cluster& c, const Daemon& d) { return alive(read_pid(c.pidfile(d)), c.data(d)); }

std::string now_string() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

void log_header(const std::string& log, const std::vector<std::string>& argv) {
  std::ofstream f(log, std::ios::app);
  f << "==== " << now_string() << " cairn cluster:";
  for (const auto& a : argv) f << " " << a;
  f << "\n";
}

// The last `n` lines of a log, indented, for error messages.
std::string log_tail(const std::string& log, size_t n = 8) {
  std::string text = read_text(log);
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    out += "    | " + lines[i] + "\n";
  return out;
}

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> v;
  for (const auto& a : argv) v.push_back(const_cast<char*>(a.c_str()));
  v.push_back(nullptr);
  return v;
}

// Runs argv to completion with stdout/stderr appended to `log`; returns its exit status.
Result<int> run_logged(const std::vector<std::string>& argv, const std::string& log, milliseconds timeout) {
  log_header(log, argv);
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status(Errc::kIo, "cannot open " + log + ": " + std::strerror(errno));
  auto args = c_argv(argv);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd);
    return Status(Errc::kIo, std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(args[0], args.data());
    std::fprintf(stderr, "cannot execute %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fd);
  auto deadline = Clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return Status(Errc::kIo, std::string("waitpid: ") + std::strerror(errno));
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return Status(Errc::kTimedOut, argv[0] + " did not finish in time");
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Starts argv as a daemon that outlives us: its own session (setsid), not our child (double
// fork), stdin /dev/null, stdout/stderr appended to `log`. Returns its pid once exec succeeded.
Result<pid_t> spawn_detached(const std::vector<std::string>& argv, const std::string& log) {
  log_header(log, argv);
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status(Errc::kIo, "cannot open " + log + ": " + std::strerror(errno));
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int p[2];
  if (null < 0 || ::pipe2(p, O_CLOEXEC) != 0) {
    ::close(fd);
    if (null >= 0) ::close(null);
    return Status(Errc::kIo, std::string("pipe: ") + std::strerror(errno));
  }
  auto args = c_argv(argv);
  pid_t child = ::fork();
  if (child == 0) {
    ::setsid();
    pid_t grandchild = ::fork();
    if (grandchild != 0) {
      ssize_t w = ::write(p[1], &grandchild, sizeof grandchild);
      ::_exit(grandchild > 0 && w == sizeof grandchild ? 0 : 1);
    }
    ::dup2(null, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    // Nothing else of ours leaks into the daemon (a caller's pipe would never see EOF).
    for (int i = 3; i < 1024; ++i)
      if (i != p[1]) ::fcntl(i, F_SETFD, FD_CLOEXEC);
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execv(args[0], args.data());
    int e = errno;
    ssize_t w = ::write(p[1], &e, sizeof e);
    (void)w;
    ::_exit(127);
  }
  ::close(fd);
  ::close(null);
  ::close(p[1]);
  if (child < 0) {
    ::close(p[0]);
    return Status(Errc::kIo, std::string("fork: ") + std::strerror(errno));
  }
  pid_t pid = 0;
  int exec_errno = 0;
  ssize_t n = ::read(p[0], &pid, sizeof pid);
  ssize_t m = n == sizeof pid ? ::read(p[0], &exec_errno, sizeof exec_errno) : 0;
  ::close(p[0]);
  int st = 0;
  ::waitpid(child, &st, 0);
  if (n != sizeof pid || pid <= 0) return Status(Errc::kIo, "cannot start " + argv[0] + " (fork failed)");
  if (m == sizeof exec_errno)
    return Status(Errc::kIo, "cannot execute " + argv[0] + ": " + std::strerror(exec_errno));
  return pid;
}

bool port_free(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// ---- monitor commands (as `cairn <words>` does them) ----

Result<client::MonCommandResult> mon_command(const std::string& hosts, std::vector<std::string> words,
                                             bool json, milliseconds timeout) {
  asio::io_context io;
  msg::Messenger messenger(io, msg::EntityName{msg::EntityType::kClient, "admin"});
  auto mc = client::MonClient::create(messenger, hosts);
  if (!mc.ok()) return mc.status();
  Result<client::MonCommandResult> out = Status(Errc::kTimedOut, "no answer from the monitors");
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        out = co_await mc->command(std::move(words), json, timeout);
        messenger.shutdown();
        io.stop();
      },
      asio::detached);
  io.run();
  return out;
}

Result<json> mon_json(const std::string& hosts, std::vector<std::string> words, milliseconds timeout) {
  std::string what = "'";
  for (const auto& w : words) what += (what.size() > 1 ? " " : "") + w;
  what += "'";
  auto r = mon_command(hosts, std::move(words), true, timeout);
  if (!r.ok()) return r.status().with_context(what);
  if (r->code != 0)
    return Status(Errc::kInvalid, what + ": " + (r->err.empty() ? std::strerror(r->code) : r->err));
  json j = json::parse(r->out, nullptr, false);
  if (j.is_discarded()) return Status(Errc::kCorrupt, what + ": reply is not JSON");
  return j;
}

// ---- status ----

std::string bin_dir(const Options& o) {
  if (!o.bin_dir.empty()) return fs::absolute(o.bin_dir).lexically_normal().string();
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

json gather(const Cluster& c) {
  bool any_mon = false;
  for (const auto& m : c.mons) any_mon = any_mon || running(c, m);
  std::map<std::string, json> osd_info;  // "0" -> {up, addr}
  if (any_mon && !c.osds.empty()) {
    auto dump = mon_json(c.mon_host(), {"osd", "dump"}, milliseconds(3000));
    try {
      if (dump.ok() && dump->contains("osds"))
        for (const auto& o : (*dump)["osds"]) {
          osd_info[std::to_string(o.at("osd").get<int>())] = {
              {"addr", o.value("addr", "")}, {"up", o.value("up", false)}, {"in", o.value("in", false)}};
        }
    } catch (const json::exception&) {
      osd_info.clear();  // addresses unknown: status still lists pids and states
    }
  }
  json daemons = json::array();
  for (const Daemon* d : c.all()) {
    pid_t pid = read_pid(c.pidfile(*d));
    bool run = alive(pid, c.data(*d));
    std::string addr = d->addr;
    json e = {{"name", d->name()},
              {"type", d->type},
              {"state", run ? "running" : "stopped"},
              {"pid", run ? json(pid) : json(nullptr)}};
    if (d->type == "osd") {
      auto it = osd_info.find(d->id);
      if (it != osd_info.end()) {
        addr = it->second.value("addr", "");
        e["up"] = it->second.value("up", false);
        e["in"] = it->second.value("in", false);
      }
    }
    e["addr"] = addr;
    e["metrics"] = "http://127.0.0.1:" + std::to_string(d->metrics_port) + "/metrics";
    e["admin_socket"] = c.asok(*d);
    e["log"] = c.log(*d);
    e["data"] = c.data(*d);
    daemons.push_back(e);
  }
  return json{{"dir", c.dir}, {"conf", c.conf()}, {"mon_host", c.mon_host()}, {"daemons", daemons}};
}

void print_status(const json& s, bool as_json) {
  if (as_json) {
    std::printf("%s\n", s.dump().c_str());
    return;
  }
  std::printf("cluster in %s (conf %s)\n", s["dir"].get<std::string>().c_str(),
              s["conf"].get<std::string>().c_str());
  std::printf("  %-7s %-8s %-8s %-21s %-38s %s\n", "NAME", "STATE", "PID", "ADDRESS", "METRICS",
              "ADMIN SOCKET");
  for (const auto& d : s["daemons"]) {
    std::string pid = d["pid"].is_null() ? "-" : std::to_string(d["pid"].get<long>());
    std::string addr = d["addr"].get<std::string>();
    std::string state = d["state"].get<std::string>();
    if (d.contains("up") && state == "running" && !d["up"].get<bool>()) state = "running (down in osdmap)";
    std::printf("  %-7s %-8s %-8s %-21s %-38s %s\n", d["name"].get<std::string>().c_str(), state.c_str(),
                pid.c_str(), addr.empty() ? "-" : addr.c_str(), d["metrics"].get<std::string>().c_str(),
                d["admin_socket"].get<std::string>().c_str());
  }
  std::printf("  logs: %s/<name>.log\n", s["dir"].get<std::string>().c_str());
}

std::string abs_dir(const std::string& d) { return fs::absolute(d).lexically_normal().string(); }

int fail(const Status& st) {
  std::fprintf(stderr, "cairn cluster: %s\n",
               st.message().empty() ? st.to_string().c_str() : st.message().c_str());
  int e = st.err();
  return e <= 0 || e > 255 ? 1 : e;
}

// ---- up ----

class Up {
 public:
  Up(const Options& o, Cluster c, std::string bin) : c_(std::move(c)), bin_(std::move(bin)) {
    deadline_ = Clock::now() + milliseconds(o.timeout_ms.value_or(180000));
  }

  Status run() {
    for (auto& m : c_.mons) CAIRN_RETURN_IF_ERROR(start_mon(m));
    CAIRN_RETURN_IF_ERROR(wait_quorum());
    if (c_.osds_wanted > 0 && ::access((bin_ + "/cairn-osd").c_str(), X_OK) != 0)
      return Status(Errc::kNotFound,
                    bin_ + "/cairn-osd not found: build it (ninja cairn-osd) or pass --osds 0");
    for (int i = 0; i < c_.osds_wanted; ++i) CAIRN_RETURN_IF_ERROR(start_osd(i));
    CAIRN_RETURN_IF_ERROR(wait_osds_up());
    return wait_clean();
  }

  const Cluster& cluster() const { return c_; }

 private:
  milliseconds left() const {
    auto l = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
    return l < milliseconds(0) ? milliseconds(0) : l;
  }

  Status check_ports(const Daemon& d, std::vector<uint16_t> ports) {
    for (uint16_t p : ports)
      if (!port_free(p))
        return Status(Errc::kBusy, "port " + std::to_string(p) + " (for " + d.name() +
                                       ") on 127.0.0.1 is in use: another cluster or program holds it. "
                                       "Stop it, or use other ports with --port BASE and a new --dir");
    return {};
  }

  Status mkfs(Daemon& d, std::vector<std::string> argv) {
    std::error_code ec;
    fs::remove_all(c_.data(d), ec);  // a half-made data directory from an interrupted mkfs
    auto r = run_logged(argv, c_.log(d), milliseconds(120000));
    if (!r.ok()) return r.status().with_context("mkfs of " + d.name() + " (log " + c_.log(d) + ")");
    if (*r != 0)
      return Status(Errc::kIo, "mkfs of " + d.name() + " failed (exit " + std::to_string(*r) + "); its log " +
                                   c_.log(d) + " ends:\n" + log_tail(c_.log(d)));
    d.created = true;
    return save(c_);
  }

  Status start(Daemon& d, const std::vector<std::string>& argv) {
    auto pid = spawn_detached(argv, c_.log(d));
    if (!pid.ok()) return pid.status().with_context(d.name() + " (log " + c_.log(d) + ")");
    CAIRN_RETURN_IF_ERROR(write_file(c_.pidfile(d), std::to_string(*pid) + "\n"));
    std::printf("started %s (pid %d)\n", d.name().c_str(), static_cast<int>(*pid));
    std::fflush(stdout);
    started_.push_back(d);
    return {};
  }

  Status start_mon(Daemon& m) {
    if (!m.created) {
      std::string members;
      for (const auto& x : c_.mons) members += (members.empty() ? "" : ",") + x.id + "=" + x.addr;
      CAIRN_RETURN_IF_ERROR(mkfs(m, {bin_ + "/cairn-mon", "--mkfs", "--id", m.id, "--data", c_.data(m),
                                     "--mon-initial-members", members}));
    }
    if (running(c_, m)) return {};
    uint16_t port = static_cast<uint16_t>(std::stoi(m.addr.substr(m.addr.rfind(':') + 1)));
    CAIRN_RETURN_IF_ERROR(check_ports(m, {port, m.metrics_port}));
    return start(m, {bin_ + "/cairn-mon", "--id", m.id, "--data", c_.data(m), "--metrics-port",
                     std::to_string(m.metrics_port)});
  }

  Status start_osd(int i) {
    if (i >= static_cast<int>(c_.osds.size())) {
      // The id is asked for explicitly: `osd create N` is idempotent, so a retried `up` after an
      // interruption re-uses the id instead of leaking one.
      auto r = mon_command(c_.mon_host(), {"osd", "create", std::to_string(i)}, false, left());
      if (!r.ok()) return r.status().with_context("osd create");
      if (r->code != 0) return Status(Errc::kIo, "osd create: " + r->err);
      auto id = parse_int(r->out.substr(0, r->out.find_last_not_of(" \n") + 1));
      if (!id.ok() || *id != i)
        return Status(Errc::kInternal, "osd create " + std::to_string(i) + " answered '" + r->out + "'");
      c_.osds.push_back(
          Daemon{"osd", std::to_string(i), "", static_cast<uint16_t>(c_.port + 200 + i), false});
      CAIRN_RETURN_IF_ERROR(save(c_));
    }
    Daemon& d = c_.osds[static_cast<size_t>(i)];
    if (!d.created) {
      CAIRN_RETURN_IF_ERROR(mkfs(d, {bin_ + "/cairn-osd", "--mkfs", "--id", d.id, "--data", c_.data(d),
                                     "--osd-device-size", c_.osd_size}));
    }
    if (running(c_, d)) return {};
    CAIRN_RETURN_IF_ERROR(check_ports(d, {d.metrics_port}));
    std::string host = "host-" + std::to_string(c_.hosts > 0 ? i % c_.hosts : i);
    return start(d, {bin_ + "/cairn-osd", "--id", d.id, "--data", c_.data(d), "-c", c_.conf(), "--crush-host",
                     host, "--metrics-port", std::to_string(d.metrics_port)});
  }

  // A daemon we started that has exited already: its log says why.
  Status check_started() const {
    for (const Daemon& d : started_) {
      if (!running(c_, d))
        return Status(Errc::kIo, d.name() + " exited right after it started; its log " + c_.log(d) +
                                     " ends:\n" + log_tail(c_.log(d)));
    }
    return {};
  }

  // Polls `probe` (true: done) until it holds, a started daemon dies, or the deadline.
  template <typename F>
  Status wait_for(const std::string& what, F probe, std::string& last) {
    std::printf("waiting for %s ...\n", what.c_str());
    std::fflush(stdout);
    while (true) {
      CAIRN_RETURN_IF_ERROR(check_started());
      try {
        if (probe()) return {};
      } catch (const json::exception& e) {  // a reply without the fields we read: ask again
        last = std::string("unexpected reply: ") + e.what();
      }
      if (Clock::now() >= deadline_) {
        std::string logs;
        for (const Daemon* d : c_.all()) logs += " " + c_.log(*d);
        return Status(Errc::kTimedOut, "timed out waiting for " + what +
                                           (last.empty() ? "" : " (" + last + ")") +
                                           "; see the logs:" + logs);
      }
      std::this_thread::sleep_for(milliseconds(250));
    }
  }

  Status wait_quorum() {
    std::string last;
    return wait_for(
        "the monitors' quorum",
        [&] {
          auto j = mon_json(c_.mon_host(), {"mon", "stat"}, std::min(left(), milliseconds(2000)));
          if (!j.ok()) {
            last = j.status().message();
            return false;
          }
          size_t q = j->contains("quorum") ? (*j)["quorum"].size() : 0;
          last = std::to_string(q) + " of " + std::to_string(c_.mons.size()) + " monitors in quorum";
          return q == c_.mons.size();
        },
        last);
  }

  Status wait_osds_up() {
    if (c_.osds.empty()) return {};
    std::string last;
    return wait_for(
        "every OSD up in the osdmap",
        [&] {
          auto j = mon_json(c_.mon_host(), {"osd", "dump"}, std::min(left(), milliseconds(3000)));
          if (!j.ok()) {
            last = j.status().message();
            return false;
          }
          size_t up = 0;
          for (const auto& o : j->value("osds", json::array())) {
            int id = o.value("osd", -1);
            if (id >= 0 && id < static_cast<int>(c_.osds.size()) && o.value("up", false)) ++up;
          }
          last = std::to_string(up) + " of " + std::to_string(c_.osds.size()) + " OSDs up";
          return up == c_.osds.size();
        },
        last);
  }

  Status wait_clean() {
    std::string last;
    return wait_for(
        "every PG active+clean",
        [&] {
          auto j = mon_json(c_.mon_host(), {"pg", "stat"}, std::min(left(), milliseconds(3000)));
          if (!j.ok()) {
            last = j.status().message();
            return false;
          }
          uint64_t pgs = j->value("num_pgs", uint64_t{0}), clean = 0;
          last.clear();
          const json by_state = j->value("by_state", json::object());  // items() must not outlive it
          for (const auto& [state, n] : by_state.items()) {
            if (state == "active+clean") clean = n.get<uint64_t>();
            last += (last.empty() ? "" : ", ") + std::to_string(n.get<uint64_t>()) + " " + state;
          }
          return clean == pgs;
        },
        last);
  }

  Cluster c_;
  std::string bin_;
  Clock::time_point deadline_;
  std::vector<Daemon> started_;  // copies: c_.osds grows while we start them
};

void print_endpoints(const Cluster& c, const std::string& bin) {
  std::printf("\nuse it:   export CAIRN_CONF=%s\n", c.conf().c_str());
  std::printf("          %s/cairn status\n", bin.c_str());
  std::printf("stop it:  %s/cairn cluster down --dir %s\n", bin.c_str(), c.dir.c_str());
}

int cmd_up(const Options& o) {
  std::string dir = abs_dir(o.dir), bin = bin_dir(o);
  if (::access((bin + "/cairn-mon").c_str(), X_OK) != 0)
    return fail(Status(Errc::kNotFound, bin + "/cairn-mon not found: build it first, or pass --bin-dir"));
  Cluster c;
  auto loaded = load(dir);
  if (loaded.ok()) {
    c = std::move(*loaded);
    if (o.mons_set && o.mons != static_cast<int>(c.mons.size()))
      std::fprintf(stderr,
                   "cairn cluster: %s has %zu monitors; --mons %d ignored (down, remove it, up again)\n",
                   dir.c_str(), c.mons.size(), o.mons);
    if (o.osds_set && o.osds < c.osds_wanted)
      std::fprintf(stderr, "cairn cluster: %s has %d OSDs; --osds %d ignored (OSDs are not removed)\n",
                   dir.c_str(), c.osds_wanted, o.osds);
    if (o.osds_set && o.osds > c.osds_wanted) {
      c.osds_wanted = o.osds;
      if (Status st = save(c); !st.ok()) return fail(st);
    }
    bool all = static_cast<int>(c.osds.size()) == c.osds_wanted;
    for (const Daemon* d : c.all()) all = all && d->created && running(c, *d);
    if (all) {
      std::printf("cluster in %s is already running\n", dir.c_str());
      print_status(gather(c), o.json);
      if (!o.json) print_endpoints(c, bin);
      return 0;
    }
  } else if (loaded.status().code() != Errc::kNotFound) {
    return fail(loaded.status());
  } else {
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
      return fail(
          Status(Errc::kExists, dir + " exists but holds no cluster.json (not made by `cairn cluster up`): "
                                      "remove it or pick another --dir"));
    c.dir = dir;
    c.port = o.port;
    c.osds_wanted = o.osds;
    c.osd_size = o.osd_size;
    c.hosts = o.hosts;
    for (int i = 0; i < o.mons; ++i) {
      c.mons.push_back(Daemon{"mon", std::string(1, kMonIds[i]), "127.0.0.1:" + std::to_string(o.port + i),
                              static_cast<uint16_t>(o.port + 100 + i), false});
    }
    // Fail before writing anything when a port is taken.
    for (const auto& m : c.mons) {
      for (uint16_t p : {static_cast<uint16_t>(o.port + (&m - c.mons.data())), m.metrics_port}) {
        if (!port_free(p))
          return fail(
              Status(Errc::kBusy, "port " + std::to_string(p) + " (for " + m.name() +
                                      ") on 127.0.0.1 is in use: another cluster or program holds it. "
                                      "Stop it, or pick other ports with --port BASE"));
      }
    }
    fs::create_directories(dir, ec);
    if (ec) return fail(Status(Errc::kIo, "cannot create " + dir + ": " + ec.message()));
    Status st = write_file(c.conf(), "[global]\nmon_host = " + c.mon_host() + "\n");
    if (st.ok()) st = save(c);
    if (!st.ok()) return fail(st);
  }
  Up up(o, c, bin);
  Status st = up.run();
  if (!st.ok()) {
    int rc = fail(st);
    std::fprintf(stderr,
                 "cairn cluster: the daemons that did start keep running; `cairn cluster status --dir %s` "
                 "shows them, `cairn cluster down --dir %s` stops them\n",
                 dir.c_str(), dir.c_str());
    return rc;
  }
  std::printf("\n");
  print_status(gather(up.cluster()), o.json);
  if (!o.json) print_endpoints(up.cluster(), bin);
  return 0;
}

// ---- status, down ----

int cmd_status(const Options& o) {
  auto c = load(abs_dir(o.dir));
  if (!c.ok()) return fail(c.status());
  print_status(gather(*c), o.json);
  return 0;
}

int cmd_down(const Options& o) {
  std::string dir = abs_dir(o.dir);
  auto c = load(dir);
  if (!c.ok()) {
    if (c.status().code() != Errc::kNotFound) return fail(c.status());
    std::printf("no cluster in %s: nothing to stop\n", dir.c_str());
    return 0;
  }
  milliseconds bound(o.timeout_ms.value_or(10000));
  // OSDs first (they may tell the monitors they are going), then the monitors.
  for (const auto* group : {&c->osds, &c->mons}) {
    std::vector<std::pair<const Daemon*, pid_t>> victims;
    for (const auto& d : *group) {
      pid_t pid = read_pid(c->pidfile(d));
      if (alive(pid, c->data(d)) && ::kill(pid, SIGTERM) == 0) victims.emplace_back(&d, pid);
    }
    auto deadline = Clock::now() + bound;
    bool killed = false;
    while (true) {
      bool any = false;
      for (auto& [d, pid] : victims) any = any || alive(pid, c->data(*d));
      if (!any) break;
      if (Clock::now() >= deadline) {
        if (killed) break;
        for (auto& [d, pid] : victims) {
          if (alive(pid, c->data(*d))) {
            std::fprintf(stderr, "%s (pid %d) ignored SIGTERM for %lld ms: SIGKILL\n", d->name().c_str(),
                         static_cast<int>(pid), static_cast<long long>(bound.count()));
            ::kill(pid, SIGKILL);
          }
        }
        killed = true;
        deadline = Clock::now() + milliseconds(5000);
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    for (auto& [d, pid] : victims) {
      if (alive(pid, c->data(*d)))
        return fail(Status(Errc::kBusy, d->name() + " (pid " + std::to_string(pid) + ") survived SIGKILL"));
      std::printf("stopped %s (pid %d)\n", d->name().c_str(), static_cast<int>(pid));
    }
    for (const auto& d : *group) ::unlink(c->pidfile(d).c_str());
  }
  std::printf("cluster in %s is stopped (data kept; `cairn cluster up --dir %s` starts it again)\n",
              dir.c_str(), dir.c_str());
  return 0;
}

}  // namespace

int cluster_main(int argc, char** argv) {
  if (argc < 1 || std::strcmp(argv[0], "--help") == 0 || std::strcmp(argv[0], "-h") == 0 ||
      std::strcmp(argv[0], "help") == 0) {
    usage();
    return argc < 1 ? EINVAL : 0;
  }
  auto o = parse(argc, argv);
  if (!o.ok()) {
    std::fprintf(stderr, "cairn cluster: %s\n", o.status().message().c_str());
    return EINVAL;
  }
  std::signal(SIGPIPE, SIG_IGN);
  // Connect errors while daemons start (or are stopped) are expected: results carry the errors.
  log::configure("off");
  if (o->cmd == "up") return cmd_up(*o);
  if (o->cmd == "down") return cmd_down(*o);
  return cmd_status(*o);
}

}  // namespace cairn::tools
