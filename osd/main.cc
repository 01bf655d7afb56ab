// cairn-osd: `--mkfs` formats an OSD's data directory; without it, runs the OSD.
//
//   cairn-osd --mkfs --id N --data DIR [--osd-device-size 10G]
//   cairn-osd --id N --data DIR [-c cairn.conf | --mon-host H:P,...] [--crush-host NAME] [--port P]
#include <csignal>
#include <cstdio>

#include "common/asio.h"
#include "common/buffer.h"
#include "common/config.h"
#include "common/log.h"
#include "osd/osd_daemon.h"

namespace {

cairn::Config options() {
  using cairn::OptType;
  cairn::Config c;
  c.define("id", OptType::kInt, "-1", "this OSD's id (osd.<id>), from `cairn osd create`")
      .define("data", OptType::kString, "", "data directory")
      .define("mkfs", OptType::kBool, "false", "format the data directory and exit")
      .define("osd_device_size", OptType::kSize, "10G", "mkfs: size of the block file")
      .define("osd_cache_size", OptType::kSize, "128M", "metadata cache (onodes and RocksDB blocks)")
      .define("osd_buffer_pool_size", OptType::kSize, "64M",
              "freed payload buffers (>= 1 MiB) kept mapped for reuse; 0: unmap at once")
      .define(
          "osd_client_message_size_cap", OptType::kSize, "128M",
          "client request bytes in progress beyond which client connections stop being read (0: no bound)")
      .define("osd_prepare_ahead", OptType::kSize, "256M",
              "file-backed store: free space kept written ahead of the allocator (0: off)")
      .define("osd_store_wal_spare", OptType::kSize, "72M",
              "each RocksDB WAL file of the store starts this long and written with zeros, so a WAL sync "
              "writes no inode (0: off)")
      .define("osd_store_data_cache", OptType::kSize, "64M",
              "blocks read by small client reads (up to 64 KiB) kept in an LRU cache, each checked against "
              "the crc its object's extent map names (0: off)")
      .define("osd_group_commit_delay_us", OptType::kUint, "500",
              "a new store commit group waits this long for company when writers are concurrent (0: off)")
      .define("osd_store_dsync", OptType::kBool, "false",
              "data writes with RWF_DSYNC instead of one device flush per commit group")
      .define("osd_store_share_flush", OptType::kBool, "true",
              "a block file beside the store's RocksDB: while commit groups keep coming, a group's WAL sync "
              "is the device flush of the next group's data (one flush per group instead of two)")
      .define("mon_host", OptType::kString, "", "monitors: host:port,...")
      .define("public_addr", OptType::kString, "127.0.0.1", "address to listen on")
      .define("port", OptType::kUint, "0", "port to listen on (0: any free port)")
      .define("crush_host", OptType::kString, "", "CRUSH host bucket on first boot (default: hostname)")
      .define("osd_shards", OptType::kUint, "0",
              "op shards (0: one per core beyond the first; on 1-2 cores one, on the network thread)")
      .define("metrics_addr", OptType::kString, "127.0.0.1", "address of the /metrics endpoint")
      .define("metrics_port", OptType::kUint, "0", "port of the /metrics endpoint (0: any free port)")
      .define("admin_socket", OptType::kString, "", "admin socket path (default DATA/osd.ID.asok)")
      .define("log_level", OptType::kString, "info", "log levels: info, or osd=debug,msg=warn,...")
      .define("osd_heartbeat_interval", OptType::kDuration, "1s", "ping peers this often")
      .define("osd_heartbeat_grace", OptType::kDuration, "20s", "a peer silent this long is reported")
      .define("osd_stats_interval", OptType::kDuration, "2s", "PG stats to the monitors this often")
      .define("osd_beacon_interval", OptType::kDuration, "5s", "beacons to the monitors this often")
      .define("osd_scrub_interval", OptType::kDuration, "24h", "light scrub of each PG this often (0: never)")
      .define("osd_deep_scrub_interval", OptType::kDuration, "168h",
              "deep scrub of each PG this often (0: never)")
      .define("osd_max_backfills", OptType::kInt, "1",
              "background backfills (PGs copied to a new OSD) this OSD runs at once")
      .define("osd_recovery_max_log_entries", OptType::kInt, "100",
              "a copy further behind than this is backfilled while the PG serves from complete copies")
      .define("osd_recovery_max_active", OptType::kInt, "2", "background backfill pushes in flight per PG")
      .define("osd_recovery_sleep", OptType::kDuration, "30ms",
              "pause after each background push of a PG that is not degraded (client latency over "
              "rebalancing speed)")
      .define("osd_recovery_max_bytes", OptType::kSize, "0",
              "bytes per second this OSD sends for misplaced copies (backfill), 0: no cap; "
              "degraded copies are never slowed");
  return c;
}

int fail(const cairn::Status& st) {
  std::fprintf(stderr, "cairn-osd: %s\n", st.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  cairn::Config c = options();
  cairn::Status st = c.load(argc, argv, {"osd"}, "");
  if (c.help_requested()) {
    std::fputs(c.help_text("cairn-osd").c_str(), stdout);
    return 0;
  }
  if (!st.ok()) return fail(st);
  if (!cairn::log::configure(c.get_string("log_level")))
    return fail(cairn::error(cairn::Errc::kInvalid, "bad --log-level"));
  cairn::osd::OsdOptions o;
  o.id = static_cast<int32_t>(c.get_int("id"));
  o.data_dir = c.get_string("data");
  if (o.id < 0 || o.data_dir.empty())
    return fail(cairn::error(cairn::Errc::kInvalid, "--id and --data are required (see --help)"));
  cairn::log::set_entity("osd." + std::to_string(o.id));
  o.device_bytes = c.get_size("osd_device_size");
  o.cache_bytes = c.get_size("osd_cache_size");
  o.store_dsync = c.get_bool("osd_store_dsync");
  o.store_share_flush = c.get_bool("osd_store_share_flush");
  o.prepare_ahead_bytes = c.get_size("osd_prepare_ahead");
  o.store_wal_spare_bytes = c.get_size("osd_store_wal_spare");
  o.store_data_cache_bytes = c.get_size("osd_store_data_cache");
  o.group_commit_delay_us = static_cast<uint32_t>(c.get_uint("osd_group_commit_delay_us"));
  o.client_message_cap = c.get_size("osd_client_message_size_cap");
  cairn::set_buffer_pool_limit(c.get_size("osd_buffer_pool_size"));
  if (c.get_bool("mkfs")) {
    st = cairn::osd::OsdDaemon::mkfs(o);
    if (!st.ok()) return fail(st);
    std::printf("osd.%d: created in %s\n", o.id, o.data_dir.c_str());
    return 0;
  }
  o.mon_host = c.get_string("mon_host");
  o.public_addr = c.get_string("public_addr");
  o.port = static_cast<uint16_t>(c.get_uint("port"));
  o.crush_host = c.get_string("crush_host");
  o.shards = static_cast<uint32_t>(c.get_uint("osd_shards"));
  o.metrics_addr = c.get_string("metrics_addr");
  o.metrics_port = static_cast<uint16_t>(c.get_uint("metrics_port"));
  o.admin_socket = c.get_string("admin_socket");
  o.heartbeat_interval_ms = static_cast<uint32_t>(c.get_duration_ms("osd_heartbeat_interval"));
  o.heartbeat_grace_ms = static_cast<uint32_t>(c.get_duration_ms("osd_heartbeat_grace"));
  o.stats_interval_ms = static_cast<uint32_t>(c.get_duration_ms("osd_stats_interval"));
  o.beacon_interval_ms = static_cast<uint32_t>(c.get_duration_ms("osd_beacon_interval"));
  o.scrub_interval_ms = c.get_duration_ms("osd_scrub_interval");
  o.deep_scrub_interval_ms = c.get_duration_ms("osd_deep_scrub_interval");
  o.max_backfills = static_cast<uint32_t>(std::max<int64_t>(1, c.get_int("osd_max_backfills")));
  o.recovery_max_log_entries =
      static_cast<uint64_t>(std::max<int64_t>(0, c.get_int("osd_recovery_max_log_entries")));
  o.recovery_max_active =
      static_cast<uint32_t>(std::clamp<int64_t>(c.get_int("osd_recovery_max_active"), 1, 64));
  o.recovery_sleep_ms = static_cast<uint32_t>(c.get_duration_ms("osd_recovery_sleep"));
  o.recovery_max_bytes = c.get_size("osd_recovery_max_bytes");
  if (o.mon_host.empty()) return fail(cairn::error(cairn::Errc::kInvalid, "no monitors: set mon_host"));
  std::signal(SIGPIPE, SIG_IGN);
  cairn::asio::io_context io;
  cairn::osd::OsdDaemon daemon(io, o);
  st = daemon.start();
  if (!st.ok()) return fail(st);
  cairn::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    daemon.stop();
    io.stop();
  });
  io.run();
  daemon.stop();
  return 0;
}
