// cairn-mon: `--mkfs` prepares a monitor's data directory; without it, runs the monitor.
//
//   cairn-mon --mkfs --id a --data DIR --mon-initial-members a=127.0.0.1:6789,b=...,c=... [--fsid ID]
//   cairn-mon --id a --data DIR [-c cairn.conf] [--metrics-port N]
#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.h"
#include "common/config.h"
#include "common/env.h"
#include "common/log.h"
#include "mon/mon_daemon.h"

namespace {

cairn::Config options() {
  using cairn::OptType;
  cairn::Config c;
  c.define("id", OptType::kString, "", "this monitor's name (mon.<id>)")
      .define("data", OptType::kString, "", "data directory")
      .define("mkfs", OptType::kBool, "false", "create the data directory and exit")
      .define("mon_initial_members", OptType::kString, "", "mkfs: name=host:port,... of every monitor")
      .define("fsid", OptType::kString, "", "mkfs: cluster id (generated if empty)")
      .define("metrics_addr", OptType::kString, "127.0.0.1", "address of the /metrics endpoint")
      .define("metrics_port", OptType::kUint, "0", "port of the /metrics endpoint (0: any free port)")
      .define("admin_socket", OptType::kString, "", "admin socket path (default DATA/mon.ID.asok)")
      .define("log_level", OptType::kString, "info", "log levels: info, or mon=debug,msg=warn,...")
      .define("mon_election_timeout", OptType::kDuration, "1s", "leader silence before an election")
      .define("mon_lease", OptType::kDuration, "1s", "leader lease (<= election timeout)")
      .define("mon_clock_drift_allowed", OptType::kDuration, "50ms",
              "clock difference from the leader beyond which MON_CLOCK_SKEW is raised")
      .define("mon_test_clock_offset", OptType::kInt, "0", "tests only: ms added to this monitor's clock")
      .define("mon_osd_min_down_reporters", OptType::kUint, "2", "peers that must report an OSD failed")
      .define("mon_osd_reporter_subtree_level", OptType::kString, "host",
              "failure domain reporters must differ in (host, or osd on one machine)")
      .define("osd_heartbeat_grace", OptType::kDuration, "20s", "failure reports must be this old")
      .define("mon_osd_beacon_timeout", OptType::kDuration, "30s", "no beacon this long: OSD marked down")
      .define("mon_osd_down_out_interval", OptType::kDuration, "60s", "down this long: OSD marked out")
      .define("osd_pool_default_size", OptType::kUint, "3", "replicas of new pools")
      .define("osd_pool_default_min_size", OptType::kUint, "2", "replicas needed for I/O")
      .define("osd_pool_default_pg_num", OptType::kUint, "32", "PGs of new pools")
      .define("osd_pool_default_crush_rule", OptType::kString, "replicated_host", "CRUSH rule of new pools");
  return c;
}

std::string new_fsid() {
  uint64_t a = cairn::real_random().next_u64(), b = cairn::real_random().next_u64();
  char s[40];
  std::snprintf(s, sizeof s, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffull));
  return s;
}

int fail(const cairn::Status& st) {
  std::fprintf(stderr, "cairn-mon: %s\n", st.to_string().c_str());
  return 1;
}

cairn::mon::MonDaemonOptions daemon_options(const cairn::Config& c) {
  cairn::mon::MonDaemonOptions o;
  o.id = c.get_string("id");
  o.data_dir = c.get_string("data");
  o.metrics_addr = c.get_string("metrics_addr");
  o.metrics_port = static_cast<uint16_t>(c.get_uint("metrics_port"));
  o.admin_socket = c.get_string("admin_socket");
  o.paxos.election_timeout_ms = static_cast<uint32_t>(c.get_duration_ms("mon_election_timeout"));
  o.paxos.lease_ms = static_cast<uint32_t>(c.get_duration_ms("mon_lease"));
  o.clock_drift_allowed_ms = c.get_duration_ms("mon_clock_drift_allowed");
  o.test_clock_offset_ms = c.get_int("mon_test_clock_offset");
  o.paxos.heartbeat_ms = std::max<uint32_t>(20, o.paxos.lease_ms / 6);
  o.paxos.rank_stagger_ms = std::max<uint32_t>(50, o.paxos.election_timeout_ms / 4);
  auto& f = o.osdmap.failure;
  f.min_reporters = static_cast<uint32_t>(c.get_uint("mon_osd_min_down_reporters"));
  o.osdmap.reporter_domain_type = c.get_string("mon_osd_reporter_subtree_level");
  f.min_reporter_domains = o.osdmap.reporter_domain_type == "osd" ? 1 : 2;
  f.grace_ms = c.get_duration_ms("osd_heartbeat_grace");
  f.beacon_timeout_ms = c.get_duration_ms("mon_osd_beacon_timeout");
  f.down_out_interval_ms = c.get_duration_ms("mon_osd_down_out_interval");
  o.osdmap.default_pool_size = static_cast<uint32_t>(c.get_uint("osd_pool_default_size"));
  o.osdmap.default_pool_min_size = static_cast<uint32_t>(c.get_uint("osd_pool_default_min_size"));
  o.osdmap.default_pg_num = static_cast<uint32_t>(c.get_uint("osd_pool_default_pg_num"));
  o.osdmap.default_rule = c.get_string("osd_pool_default_crush_rule");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  cairn::Config c = options();
  // Sections [global], [mon] and [mon.<id>] of the config file apply (id from --id).
  std::vector<std::string> sections{"mon"};
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string_view(argv[i]) == "--id") sections.push_back(std::string("mon.") + argv[i + 1]);
  cairn::Status st = c.load(argc, argv, sections, "");
  if (c.help_requested()) {
    std::fputs(c.help_text("cairn-mon").c_str(), stdout);
    return 0;
  }
  if (!st.ok()) return fail(st);
  if (!cairn::log::configure(c.get_string("log_level")))
    return fail(cairn::error(cairn::Errc::kInvalid, "bad --log-level"));
  if (c.get_string("id").empty() || c.get_string("data").empty())
    return fail(cairn::error(cairn::Errc::kInvalid, "--id and --data are required (see --help)"));
  cairn::log::set_entity("mon." + c.get_string("id"));
  if (c.get_bool("mkfs")) {
    std::string fsid = c.get_string("fsid").empty() ? new_fsid() : c.get_string("fsid");
    auto mm = cairn::mon::MonMap::parse(c.get_string("mon_initial_members"), fsid);
    if (!mm.ok()) return fail(mm.status().with_context("--mon-initial-members"));
    st = cairn::mon::MonDaemon::mkfs(c.get_string("data"), c.get_string("id"), *mm);
    if (!st.ok()) return fail(st);
    std::printf("mon.%s: created in %s (fsid %s)\n", c.get_string("id").c_str(), c.get_string("data").c_str(),
                fsid.c_str());
    return 0;
  }
  auto opts = daemon_options(c);
  if (opts.paxos.lease_ms > opts.paxos.election_timeout_ms)
    return fail(cairn::error(cairn::Errc::kInvalid, "mon_lease must not exceed mon_election_timeout"));
  cairn::asio::io_context io;
  cairn::mon::MonDaemon daemon(io, opts);
  st = daemon.start();
  if (!st.ok()) return fail(st);
  cairn::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    daemon.stop();
    io.stop();
  });
  std::signal(SIGPIPE, SIG_IGN);
  io.run();
  return 0;
}
