// A whole cluster of real processes for OSD tests: monitors (tests/mon/mon_cluster.h)
// plus cairn-osd daemons, each with a file-backed store and its own CRUSH host.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "client/rados.h"
#include "mon_cluster.h"

namespace cairn::test {

class OsdCluster {
 public:
  // `osd_args` are extra arguments for every OSD (e.g. a shorter heartbeat grace).
  OsdCluster(int mons, int osds, std::vector<std::string> mon_args = {},
             std::vector<std::string> osd_args = {}, std::string device_size = "4G");
  ~OsdCluster();

  // Starts the monitors, waits for a leader, creates and starts every OSD, waits until all are up.
  Status start();
  Status start_osd(int i);
  // A slot for one more OSD (not started: start_osd(index) creates and starts it).
  int add_osd() {
    osd_pids_.push_back(-1);
    made_.push_back(false);
    return num_osds() - 1;
  }
  // The CRUSH host osd.i registers under (default "host<i>"); set before it first starts.
  void set_host(int i, std::string host) {
    if (hosts_.size() <= static_cast<size_t>(i)) hosts_.resize(static_cast<size_t>(i) + 1);
    hosts_[static_cast<size_t>(i)] = std::move(host);
  }
  std::string host_of(int i) const {
    return static_cast<size_t>(i) < hosts_.size() && !hosts_[static_cast<size_t>(i)].empty()
               ? hosts_[static_cast<size_t>(i)]
               : "host" + std::to_string(i);
  }
  void kill9_osd(int i);
  void stop_osd(int i);
  bool osd_running(int i) const { return osd_pids_[i] > 0; }
  int num_osds() const { return static_cast<int>(osd_pids_.size()); }
  std::string osd_dir(int i) const { return mons.dir() + "/osd." + std::to_string(i); }
  std::string osd_log(int i) const { return mons.dir() + "/osd." + std::to_string(i) + ".log"; }
  std::string osd_admin(int i, const std::string& line) const;

  // Polls `cairn pg stat` until every PG is active+clean (true) or `timeout` passes.
  bool wait_clean(std::chrono::milliseconds timeout) const;
  // Polls `cairn osd dump` until osd.i is up (or down).
  bool wait_osd_state(int i, bool up, std::chrono::milliseconds timeout) const;
  // PGs whose state (`cairn pg dump`) contains `word`; -1 if the dump fails.
  int pgs_with(const std::string& word) const;
  // Compares every PG's objects (names, versions, sizes, data digests) across its
  // acting OSDs: "" when all agree, else the first difference.
  std::string copies_differ() const;
  // start(), a replicated pool, and every PG active+clean.
  Status start_with_pool(const std::string& name, int pg_num, int size, int min_size);
  // Options for a client of this cluster (ops time out after `op_timeout`).
  client::ClusterOptions client_options(std::chrono::seconds op_timeout = std::chrono::seconds(60)) const;
  // Runs a `cairn` command; an error carries its stderr.
  Status cli_ok(const std::vector<std::string>& words) const;
  // Creates a replicated pool.
  Status create_pool(const std::string& name, int pg_num, int size, int min_size = 0) const;

  MonCluster mons;

 private:
  std::vector<std::string> osd_args_;
  std::string device_size_;
  std::vector<pid_t> osd_pids_;
  std::vector<bool> made_;
  std::vector<std::string> hosts_;
};

}  // namespace cairn::test
