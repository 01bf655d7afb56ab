#include "mon_cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/admin_server.h"

namespace cairn::test {

std::string bin_dir() { return CAIRN_BIN_DIR; }

namespace {

std::vector<char*> to_argv(const std::vector<std::string>& args) {
  std::vector<char*> v;
  for (const auto& a : args) v.push_back(const_cast<char*>(a.c_str()));
  v.push_back(nullptr);
  return v;
}

void read_into(int fd, std::string& out) {
  char buf[65536];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n > 0) out.append(buf, static_cast<size_t>(n));
}

}  // namespace

CommandOutput run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  int out[2], err[2];
  CommandOutput r;
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return r;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    auto a = to_argv(argv);
    execv(a[0], a.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int fds[2] = {out[0], err[0]};
  std::string* sinks[2] = {&r.out, &r.err};
  bool open_[2] = {true, true};
  while ((open_[0] || open_[1]) && std::chrono::steady_clock::now() < deadline) {
    pollfd p[2] = {{open_[0] ? fds[0] : -1, POLLIN, 0}, {open_[1] ? fds[1] : -1, POLLIN, 0}};
    if (poll(p, 2, 100) <= 0) continue;
    for (int k = 0; k < 2; ++k) {
      if (!open_[k] || !p[k].revents) continue;
      size_t before = sinks[k]->size();
      read_into(fds[k], *sinks[k]);
      if (sinks[k]->size() == before) open_[k] = false;  // end of stream
    }
  }
  bool timed_out = open_[0] || open_[1];
  close(out[0]);
  close(err[0]);
  int status = stop_process(pid, timed_out ? SIGKILL : 0, std::chrono::milliseconds(5000));
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

pid_t spawn_process(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    setpgid(0, 0);
    // If the test process dies (a crash, a timeout kill), its daemons die with it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    auto a = to_argv(argv);
    execv(a[0], a.data());
    _exit(127);
  }
  return pid;
}

int stop_process(pid_t pid, int sig, std::chrono::milliseconds timeout) {
  if (pid <= 0) return -1;
  if (sig) kill(pid, sig);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return status;
}

std::vector<uint16_t> free_ports(size_t n) {
  std::vector<int> fds;
  std::vector<uint16_t> ports;
  for (size_t i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ports.push_back(ntohs(a.sin_port));
    fds.push_back(fd);
  }
  for (int fd : fds) close(fd);
  return ports;
}

MonCluster::MonCluster(int n, std::vector<std::string> extra_args) : extra_(std::move(extra_args)) {
  char tmpl[] = "/tmp/cairn-mons-XXXXXX";
  dir_ = mkdtemp(tmpl) ? tmpl : "/tmp/cairn-mons-fallback";
  ports_ = free_ports(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) names_.push_back(std::string(1, static_cast<char>('a' + i)));
  pids_.assign(static_cast<size_t>(n), -1);
  std::string members;
  for (int i = 0; i < n; ++i)
    members += (i ? "," : "") + names_[i] + "=127.0.0.1:" + std::to_string(ports_[i]);
  for (int i = 0; i < n; ++i) {
    run_process({bin_dir() + "/cairn-mon", "--mkfs", "--id", names_[i], "--data", data_dir(i),
                 "--mon-initial-members", members, "--fsid", "test-fsid"},
                std::chrono::milliseconds(20000));
  }
}

MonCluster::~MonCluster() {
  for (int i = 0; i < size(); ++i) kill9(i);
  if (!getenv("CAIRN_KEEP_TEST_DIRS")) std::system(("rm -rf " + dir_).c_str());
}

int MonCluster::add_member(const std::string& name, uint16_t port, const std::string& members) {
  names_.push_back(name);
  ports_.push_back(port);
  pids_.push_back(-1);
  int i = size() - 1;
  run_process({bin_dir() + "/cairn-mon", "--mkfs", "--id", name, "--data", data_dir(i),
               "--mon-initial-members", members, "--fsid", "test-fsid"},
              std::chrono::milliseconds(20000));
  return i;
}

bool MonCluster::exited(int i) {
  if (pids_[i] <= 0) return true;
  int status = 0;
  if (waitpid(pids_[i], &status, WNOHANG) != pids_[i]) return false;
  pids_[i] = -1;
  return true;
}

Status MonCluster::start(int i) {
  if (pids_[i] > 0) return {};
  std::vector<std::string> args{bin_dir() + "/cairn-mon", "--id", names_[i], "--data", data_dir(i)};
  args.insert(args.end(), extra_.begin(), extra_.end());
  pids_[i] = spawn_process(args, log_path(i));
  return pids_[i] > 0 ? Status() : Status(Errc::kInternal, "fork failed");
}

Status MonCluster::start_all() {
  for (int i = 0; i < size(); ++i) CAIRN_RETURN_IF_ERROR(start(i));
  return {};
}

void MonCluster::kill9(int i) {
  if (pids_[i] > 0) stop_process(pids_[i], SIGKILL, std::chrono::milliseconds(5000));
  pids_[i] = -1;
}

void MonCluster::stop(int i) {
  if (pids_[i] > 0) stop_process(pids_[i], SIGTERM, std::chrono::milliseconds(10000));
  pids_[i] = -1;
}

std::string MonCluster::mon_host() const {
  std::string s;
  for (size_t i = 0; i < ports_.size(); ++i)
    s += (i ? "," : "") + std::string("127.0.0.1:") + std::to_string(ports_[i]);
  return s;
}

CommandOutput MonCluster::cli(const std::vector<std::string>& words, bool json, int timeout_s) const {
  std::vector<std::string> args{bin_dir() + "/cairn", "--mon-host", mon_host(), "--timeout",
                                std::to_string(timeout_s) + "s"};
  if (json) args.insert(args.end(), {"--format", "json"});
  args.insert(args.end(), words.begin(), words.end());
  return run_process(args, std::chrono::milliseconds((timeout_s + 10) * 1000));
}

std::string MonCluster::admin(int i, const std::string& line) const {
  if (pids_[i] <= 0) return "";
  auto r = admin_socket_request(admin_socket(i), line, 2000);
  return r.ok() ? *r : "";
}

int MonCluster::leader() const {
  for (int i = 0; i < size(); ++i) {
    std::string s = admin(i, "status");
    if (s.empty()) continue;
    auto j = nlohmann::json::parse(s, nullptr, false);
    if (!j.is_discarded() && j.value("is_leader", false) && j.value("readable", false)) return i;
  }
  return -1;
}

int MonCluster::wait_leader(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int l = leader();
    if (l >= 0) return l;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

}  // namespace cairn::test
