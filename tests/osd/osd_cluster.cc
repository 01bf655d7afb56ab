#include "osd_cluster.h"

#include <signal.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "common/admin_server.h"

namespace cairn::test {

OsdCluster::OsdCluster(int mons_n, int osds, std::vector<std::string> mon_args,
                       std::vector<std::string> osd_args, std::string device_size)
    : mons(mons_n, std::move(mon_args)),
      osd_args_(std::move(osd_args)),
      device_size_(std::move(device_size)) {
  osd_pids_.assign(static_cast<size_t>(osds), -1);
  made_.assign(static_cast<size_t>(osds), false);
}

OsdCluster::~OsdCluster() {
  for (int i = 0; i < num_osds(); ++i) kill9_osd(i);
}

Status OsdCluster::start() {
  CAIRN_RETURN_IF_ERROR(mons.start_all());
  if (mons.wait_leader(std::chrono::seconds(30)) < 0) return Status(Errc::kTimedOut, "no monitor leader");
  for (int i = 0; i < num_osds(); ++i) CAIRN_RETURN_IF_ERROR(start_osd(i));
  for (int i = 0; i < num_osds(); ++i)
    if (!wait_osd_state(i, true, std::chrono::seconds(30)))
      return Status(Errc::kTimedOut, "osd." + std::to_string(i) + " did not come up; see " + osd_log(i));
  return {};
}

Status OsdCluster::start_osd(int i) {
  if (osd_pids_[i] > 0) return {};
  std::string bin = bin_dir() + "/cairn-osd";
  if (!made_[i]) {
    auto c = mons.cli({"osd", "create"});
    if (c.exit_code != 0) return Status(Errc::kInternal, "osd create: " + c.err);
    auto m = run_process(
        {bin, "--mkfs", "--id", std::to_string(i), "--data", osd_dir(i), "--osd-device-size", device_size_},
        std::chrono::seconds(30));
    if (m.exit_code != 0) return Status(Errc::kInternal, "osd mkfs: " + m.err);
    made_[i] = true;
  }
  std::vector<std::string> args{bin,          "--id",          std::to_string(i), "--data",  osd_dir(i),
                                "--mon-host", mons.mon_host(), "--crush-host",    host_of(i)};
  args.insert(args.end(), osd_args_.begin(), osd_args_.end());
  osd_pids_[i] = spawn_process(args, osd_log(i));
  return osd_pids_[i] > 0 ? Status() : Status(Errc::kInternal, "fork failed");
}

void OsdCluster::kill9_osd(int i) {
  if (osd_pids_[i] > 0) stop_process(osd_pids_[i], SIGKILL, std::chrono::milliseconds(5000));
  osd_pids_[i] = -1;
}

void OsdCluster::stop_osd(int i) {
  if (osd_pids_[i] > 0) stop_process(osd_pids_[i], SIGTERM, std::chrono::milliseconds(10000));
  osd_pids_[i] = -1;
}

std::string OsdCluster::osd_admin(int i, const std::string& line) const {
  auto r = admin_socket_request(osd_dir(i) + "/osd." + std::to_string(i) + ".asok", line, 10000);
  return r.ok() ? *r : "";
}

bool OsdCluster::wait_clean(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto dump = mons.cli({"osd", "dump"}, true, 10);
    auto stat = mons.cli({"pg", "stat"}, true, 10);
    auto d = nlohmann::json::parse(dump.out, nullptr, false);
    auto s = nlohmann::json::parse(stat.out, nullptr, false);
    if (!d.is_discarded() && !s.is_discarded()) {
      uint64_t want = 0;
      for (const auto& p : d["pools"]) want += p.value("pg_num", 0u);
      uint64_t clean = s["by_state"].value("active+clean", 0u);
      if (clean == want && s.value("num_pgs", 0u) == want) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return false;
}

bool OsdCluster::wait_osd_state(int i, bool up, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto d = nlohmann::json::parse(mons.cli({"osd", "dump"}, true, 10).out, nullptr, false);
    if (!d.is_discarded())
      for (const auto& o : d["osds"])
        if (o.value("osd", -1) == i && o.value("up", false) == up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return false;
}

Status OsdCluster::start_with_pool(const std::string& name, int pg_num, int size, int min_size) {
  CAIRN_RETURN_IF_ERROR(start());
  CAIRN_RETURN_IF_ERROR(create_pool(name, pg_num, size, min_size));
  if (!wait_clean(std::chrono::seconds(60))) return Status(Errc::kTimedOut, "pool " + name + " never clean");
  return {};
}

client::ClusterOptions OsdCluster::client_options(std::chrono::seconds op_timeout) const {
  client::ClusterOptions o;
  o.mon_host = mons.mon_host();
  o.op_timeout = op_timeout;
  return o;
}

Status OsdCluster::cli_ok(const std::vector<std::string>& words) const {
  auto r = mons.cli(words);
  if (r.exit_code != 0) return Status(Errc::kInternal, "cairn: " + r.err);
  return {};
}

int OsdCluster::pgs_with(const std::string& word) const {
  auto d = nlohmann::json::parse(mons.cli({"pg", "dump"}, true).out, nullptr, false);
  if (d.is_discarded() || !d.contains("pgs")) return -1;
  int n = 0;
  for (const auto& p : d["pgs"])
    if (p.value("state", "").find(word) != std::string::npos) ++n;
  return n;
}

std::string OsdCluster::copies_differ() const {
  auto d = nlohmann::json::parse(mons.cli({"pg", "dump"}, true).out, nullptr, false);
  if (d.is_discarded() || !d.contains("pgs")) return "pg dump failed";
  for (const auto& p : d["pgs"]) {
    std::string pgid = p.value("pgid", ""), first;
    for (int osd : p["acting"].get<std::vector<int>>()) {
      auto dump = nlohmann::json::parse(osd_admin(osd, "dump-objects " + pgid + " --digest"), nullptr, false);
      if (dump.is_discarded()) return "pg " + pgid + ": osd." + std::to_string(osd) + " did not answer";
      std::string objs = dump["objects"].dump();
      if (first.empty()) first = objs;
      if (objs != first) return "pg " + pgid + ": osd." + std::to_string(osd) + " differs";
    }
  }
  return "";
}

Status OsdCluster::create_pool(const std::string& name, int pg_num, int size, int min_size) const {
  std::vector<std::string> w{
      "osd", "pool", "create", name, std::to_string(pg_num), "--size", std::to_string(size)};
  if (min_size > 0) w.insert(w.end(), {"--min-size", std::to_string(min_size)});
  auto r = mons.cli(w);
  if (r.exit_code != 0) return Status(Errc::kInternal, "pool create: " + r.err);
  return {};
}

}  // namespace cairn::test
