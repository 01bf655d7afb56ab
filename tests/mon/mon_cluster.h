// Real cairn-mon processes on 127.0.0.1 for integration tests: make, start,
// kill -9, restart, stop (always by PID), and run CLI commands against them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace cairn::test {

struct CommandOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `argv` to completion (bounded by `timeout`), capturing stdout and stderr.
CommandOutput run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);
// Starts `argv` in the background with stdout/stderr appended to `log_path`.
pid_t spawn_process(const std::vector<std::string>& argv, const std::string& log_path);
// Sends `sig` and waits (bounded) for the process to exit; returns its wait status.
int stop_process(pid_t pid, int sig, std::chrono::milliseconds timeout);
// Ports the kernel calls free right now (bound and released).
std::vector<uint16_t> free_ports(size_t n);

class MonCluster {
 public:
  // `extra_args` are passed to every cairn-mon (e.g. timing options).
  MonCluster(int n, std::vector<std::string> extra_args = {});
  ~MonCluster();

  Status start_all();
  // Makes a new monitor's data directory (not started) with the members listed
  // (`name=addr,...`, the new one included) and returns its index. Its port is
  // free; addr(index) tells it.
  int add_member(const std::string& name, uint16_t port, const std::string& members);
  // True once monitor i's process has ended by itself (it is then reaped).
  bool exited(int i);
  Status start(int i);
  void kill9(int i);
  void stop(int i);  // SIGTERM
  bool running(int i) const { return pids_[i] > 0; }
  int size() const { return static_cast<int>(names_.size()); }
  const std::string& name(int i) const { return names_[i]; }
  std::string mon_host() const;
  // "127.0.0.1:<port>" of monitor i.
  std::string addr(int i) const { return "127.0.0.1:" + std::to_string(ports_[i]); }
  const std::string& dir() const { return dir_; }
  std::string data_dir(int i) const { return dir_ + "/mon." + names_[i]; }
  std::string admin_socket(int i) const { return data_dir(i) + "/mon." + names_[i] + ".asok"; }
  std::string log_path(int i) const { return dir_ + "/mon." + names_[i] + ".log"; }

  // `cairn --mon-host ... <words>`.
  CommandOutput cli(const std::vector<std::string>& words, bool json = false, int timeout_s = 30) const;
  // The admin socket's JSON reply for `line` ("" when the monitor does not answer).
  std::string admin(int i, const std::string& line) const;
  // Index of the monitor that says it leads (and holds a lease), or -1.
  int leader() const;
  // Waits until some monitor leads; returns its index or -1 after `timeout`.
  int wait_leader(std::chrono::milliseconds timeout) const;

 private:
  std::string dir_;
  std::vector<std::string> names_;
  std::vector<uint16_t> ports_;
  std::vector<pid_t> pids_;
  std::vector<std::string> extra_;
};

// Where the build put the binaries (set by CMake).
std::string bin_dir();

}  // namespace cairn::test
