// Real processes on loopback: 3 monitors, 4 OSDs, a size-3 pool, the client library.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "client/rados.h"
#include "common/env.h"
#include "crush/osd_map.h"
#include "osd_cluster.h"

namespace cairn::test {
namespace {

using client::Cluster;
using client::IoCtx;

// A payload that names itself: any mix-up between objects or versions shows.
BufferList payload(const std::string& name, uint64_t version, size_t size) {
  std::string s(size, '\0');
  uint64_t x = std::hash<std::string>()(name) ^ (version * 0x9e3779b97f4a7c15ull);
  for (size_t i = 0; i < size; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    s[i] = static_cast<char>(x >> 56);
  }
  return BufferList::copy_of(s);
}

class OsdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new OsdCluster(
        3, 4, {"--osd-heartbeat-grace", "3s", "--mon-osd-beacon-timeout", "30s"},
        {"--osd-heartbeat-grace", "3s", "--osd-stats-interval", "1s", "--osd-scrub-interval", "5s"});
    Status st = cluster_->start();
    ASSERT_TRUE(st.ok()) << st.to_string();
    ASSERT_TRUE(cluster_->create_pool("data", 16, 3).ok());
    ASSERT_TRUE(cluster_->wait_clean(std::chrono::seconds(60)));
    client::ClusterOptions o;
    o.mon_host = cluster_->mons.mon_host();
    o.op_timeout = std::chrono::seconds(90);
    auto c = Cluster::connect(o);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    client_ = c->release();
  }
  static void TearDownTestSuite() {
    delete client_;
    client_ = nullptr;
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(client_, nullptr);
    auto io = client_->io_ctx("data");
    ASSERT_TRUE(io.ok()) << io.status().to_string();
    io_ = std::make_unique<IoCtx>(*io);
  }

  // Every PG's copies on its acting OSDs hold the same objects, versions and data.
  void expect_replicas_agree() {
    auto map = client_->osdmap();
    for (const auto& pg : map->all_pgs()) {
      auto m = map->map_pg(pg);
      ASSERT_TRUE(m.ok());
      std::string pgid = std::to_string(pg.pool) + "." + [&] {
        char b[16];
        std::snprintf(b, sizeof b, "%x", pg.seed);
        return std::string(b);
      }();
      std::string first;
      for (int osd : m->acting) {
        std::string d = cluster_->osd_admin(osd, "dump-objects " + pgid + " --digest");
        auto j = nlohmann::json::parse(d, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << "osd." << osd << " pg " << pgid << ": " << d;
        std::string objs = j["objects"].dump();
        if (first.empty()) first = objs;
        EXPECT_EQ(objs, first) << "pg " << pgid << " differs on osd." << osd;
      }
    }
  }

  static OsdCluster* cluster_;
  static Cluster* client_;
  std::unique_ptr<IoCtx> io_;
};

OsdCluster* OsdTest::cluster_ = nullptr;
Cluster* OsdTest::client_ = nullptr;

TEST_F(OsdTest, ObjectsOfRandomSizesReadBackExactly) {
  std::mt19937_64 rng(42);
  std::map<std::string, size_t> sizes;
  for (int i = 0; i < 1000; ++i) {
    // Mostly small, some large: 0 B to 8 MiB.
    uint64_t r = rng() % 1000;
    size_t size = r < 900 ? rng() % 65536 : r < 990 ? rng() % (1 << 20) : rng() % (8 << 20) + 1;
    if (i == 0) size = 0;
    if (i == 1) size = 8 << 20;
    std::string name = "obj-" + std::to_string(i);
    sizes[name] = size;
  }
  std::atomic<int> pending{0}, failures{0};
  for (const auto& [name, size] : sizes) {
    client::WriteOp op;
    op.write_full(payload(name, 1, size));
    pending++;
    io_->aio_operate(name, op, [&](Result<client::OpReply> r) {
      if (!r.ok() || r->result != 0) failures++;
      pending--;
    });
    while (pending > 16) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  while (pending > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(failures.load(), 0);
  for (const auto& [name, size] : sizes) {
    auto r = io_->read(name, 0, 0);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().to_string();
    ASSERT_EQ(r->size(), size) << name;
    ASSERT_TRUE(r->to_string() == payload(name, 1, size).to_string()) << name;
  }
  auto all = io_->list_all();
  ASSERT_TRUE(all.ok());
  std::set<std::string> listed;
  for (const auto& e : *all) listed.insert(e.name);
  for (const auto& [name, size] : sizes) EXPECT_TRUE(listed.count(name)) << name;
  expect_replicas_agree();
}

TEST_F(OsdTest, XattrsOmapGuardsAppendTruncate) {
  ASSERT_TRUE(io_->write_full("meta", BufferList::copy_of("hello")).ok());
  ASSERT_TRUE(io_->append("meta", BufferList::copy_of(" world")).ok());
  EXPECT_EQ(io_->read("meta", 0, 0)->to_string(), "hello world");
  ASSERT_TRUE(io_->truncate("meta", 5).ok());
  EXPECT_EQ(io_->read("meta", 0, 0)->to_string(), "hello");
  EXPECT_EQ(io_->stat("meta")->size, 5u);
  ASSERT_TRUE(io_->zero("meta", 1, 2).ok());
  EXPECT_EQ(io_->read("meta", 0, 0)->to_string(), std::string("h\0\0lo", 5));

  ASSERT_TRUE(io_->setxattr("meta", "owner", BufferList::copy_of("alice")).ok());
  EXPECT_EQ(io_->getxattr("meta", "owner")->to_string(), "alice");
  EXPECT_EQ(io_->getxattrs("meta")->size(), 1u);
  ASSERT_TRUE(io_->rmxattr("meta", "owner").ok());
  EXPECT_FALSE(io_->getxattr("meta", "owner").ok());

  // Guards: a failed guard applies nothing.
  ASSERT_TRUE(io_->setxattr("meta", "lock", BufferList::copy_of("free")).ok());
  client::WriteOp bad;
  bad.cmpxattr("lock", BufferList::copy_of("taken")).write_full(BufferList::copy_of("clobbered"));
  EXPECT_EQ(io_->operate("meta", bad).code(), Errc::kCanceled);
  EXPECT_EQ(io_->read("meta", 0, 0)->to_string(), std::string("h\0\0lo", 5));
  client::WriteOp good;
  good.cmpxattr("lock", BufferList::copy_of("free")).setxattr("lock", BufferList::copy_of("taken"));
  EXPECT_TRUE(io_->operate("meta", good).ok());
  uint64_t v = io_->stat("meta")->version;
  client::WriteOp stale;
  stale.assert_version(v + 1).append(BufferList::copy_of("x"));
  EXPECT_EQ(io_->operate("meta", stale).code(), Errc::kCanceled);
  client::WriteOp fresh;
  fresh.assert_version(v).append(BufferList::copy_of("x"));
  EXPECT_TRUE(io_->operate("meta", fresh).ok());
  client::WriteOp missing;
  missing.assert_exists().append(BufferList::copy_of("x"));
  EXPECT_EQ(io_->operate("nonexistent", missing).code(), Errc::kCanceled);
  EXPECT_EQ(io_->stat("nonexistent").status().code(), Errc::kNotFound);
  EXPECT_EQ(io_->create("meta", true).code(), Errc::kExists);

  // omap: 10k keys, read back in pages.
  std::map<std::string, BufferList> kvs;
  for (int i = 0; i < 10000; ++i) {
    char k[32];
    std::snprintf(k, sizeof k, "key%06d", i);
    kvs[k] = BufferList::copy_of("value" + std::to_string(i));
    if (kvs.size() == 1000) {
      ASSERT_TRUE(io_->omap_set("dir", std::move(kvs)).ok());
      kvs.clear();
    }
  }
  std::string after;
  size_t seen = 0;
  for (;;) {
    auto page = io_->omap_get_vals("dir", after, "", 777);
    ASSERT_TRUE(page.ok()) << page.status().to_string();
    for (auto& [k, val] : page->entries) {
      char want[32];
      std::snprintf(want, sizeof want, "key%06zu", seen);
      ASSERT_EQ(k, want);
      ASSERT_EQ(val.to_string(), "value" + std::to_string(seen));
      ++seen;
    }
    if (!page->more) break;
    after = page->entries.back().first;
  }
  EXPECT_EQ(seen, 10000u);
  auto pref = io_->omap_get_vals("dir", "", "key00012", 100);
  ASSERT_TRUE(pref.ok());
  EXPECT_EQ(pref->entries.size(), 10u);
  ASSERT_TRUE(io_->omap_rm_keys("dir", {"key000000", "key000001"}).ok());
  EXPECT_EQ(io_->omap_get_by_keys("dir", {"key000000", "key000002"})->size(), 1u);
  ASSERT_TRUE(io_->omap_set_header("dir", BufferList::copy_of("hdr")).ok());
  EXPECT_EQ(io_->omap_get_header("dir")->to_string(), "hdr");
  ASSERT_TRUE(io_->omap_clear("dir").ok());
  EXPECT_TRUE(io_->omap_get_vals("dir", "", "", 10)->entries.empty());
  ASSERT_TRUE(io_->remove("dir").ok());
  EXPECT_EQ(io_->remove("dir").code(), Errc::kNotFound);
}

TEST_F(OsdTest, WatchNotify) {
  ASSERT_TRUE(io_->write_full("watched", BufferList::copy_of("x")).ok());
  std::atomic<int> got{0};
  auto cookie = io_->watch("watched", [&](uint64_t, uint64_t, const BufferList& p) {
    if (p.to_string() == "ping") got++;
    return BufferList::copy_of("pong");
  });
  ASSERT_TRUE(cookie.ok()) << cookie.status().to_string();
  auto r = io_->notify("watched", BufferList::copy_of("ping"), std::chrono::seconds(5));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(got.load(), 1);
  ASSERT_EQ(r->acks.size(), 1u);
  EXPECT_EQ(r->acks[0].first, *cookie);
  EXPECT_EQ(r->acks[0].second.to_string(), "pong");
  EXPECT_TRUE(r->timed_out.empty());
  ASSERT_TRUE(io_->unwatch(*cookie).ok());
  auto r2 = io_->notify("watched", BufferList::copy_of("ping"), std::chrono::seconds(1));
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2->acks.empty());
}

TEST_F(OsdTest, BadInputGetsClearErrorsAndTheOsdKeepsServing) {
  EXPECT_EQ(client_->io_ctx("no-such-pool").status().code(), Errc::kNotFound);
  EXPECT_FALSE(io_->write_full("", BufferList::copy_of("x")).ok());
  std::string huge(10000, 'n');
  EXPECT_EQ(io_->write_full(huge, BufferList::copy_of("x")).code(), Errc::kNameTooLong);
  // Garbage on every OSD's port.
  auto map = client_->osdmap();
  for (const auto& [id, info] : map->osds) {
    auto colon = info.addr.rfind(':');
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(std::stoi(info.addr.substr(colon + 1))));
    inet_pton(AF_INET, info.addr.substr(0, colon).c_str(), &a.sin_addr);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    std::string junk(4096, '\0');
    std::mt19937 rng(static_cast<unsigned>(id));
    for (auto& c : junk) c = static_cast<char>(rng());
    (void)!write(fd, junk.data(), junk.size());
    close(fd);
  }
  for (int i = 0; i < cluster_->num_osds(); ++i) EXPECT_TRUE(cluster_->osd_running(i));
  ASSERT_TRUE(io_->write_full("after-garbage", BufferList::copy_of("still here")).ok());
  EXPECT_EQ(io_->read("after-garbage", 0, 0)->to_string(), "still here");
}

TEST_F(OsdTest, ScrubFindsDamagedCopiesAndRepairMendsThem) {
  ASSERT_TRUE(io_->write_full("scrubbed", BufferList::copy_of(std::string(100000, 's'))).ok());
  ASSERT_TRUE(io_->omap_set("scrubbed", {{"k", BufferList::copy_of("v")}}).ok());
  auto map = client_->osdmap();
  crush::PgId pg = map->object_to_pg(io_->pool_id(), "scrubbed");
  auto m = map->map_pg(pg);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->acting.size(), 3u);
  char pgid[32];
  std::snprintf(pgid, sizeof pgid, "%lld.%x", static_cast<long long>(pg.pool), pg.seed);
  int r1 = m->acting[1], r2 = m->acting[2];
  auto scrub = [&](const char* what) {
    auto out = cluster_->mons.cli({"pg", what, pgid}, true);
    EXPECT_EQ(out.exit_code, 0) << out.err;
    return nlohmann::json::parse(out.out, nullptr, false);
  };
  EXPECT_TRUE(scrub("deep-scrub")["inconsistent"].empty());
  // A flipped byte on one replica: invisible to a light scrub (same size, version,
  // xattrs), found by a deep one. A lost copy on the other: found by both.
  EXPECT_EQ(cluster_->osd_admin(r1, std::string("inject-error data ") + pgid + " scrubbed"), "{}\n");
  auto light = scrub("scrub");
  ASSERT_FALSE(light.is_discarded());
  EXPECT_TRUE(light["inconsistent"].empty()) << light.dump();
  EXPECT_EQ(cluster_->osd_admin(r2, std::string("inject-error missing ") + pgid + " scrubbed"), "{}\n");
  // The scheduled light scrub (every 5 s here) finds the lost copy unasked.
  bool found = false;
  for (int i = 0; i < 60 && !found; ++i) {
    found = !scrub("list-inconsistent")["inconsistent"].empty();
    if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(found) << "no scheduled scrub found the missing copy";
  auto deep = scrub("deep-scrub");
  ASSERT_EQ(deep["inconsistent"].size(), 1u) << deep.dump();
  EXPECT_EQ(deep["inconsistent"][0]["object"], "scrubbed");
  EXPECT_EQ(deep["inconsistent"][0]["bad_osds"], nlohmann::json({r1, r2}));
  EXPECT_EQ(deep["inconsistent"][0]["errors"], "data_digest,missing");
  EXPECT_EQ(scrub("list-inconsistent")["inconsistent"].size(), 1u);
  // The PG reports itself inconsistent: health says so.
  bool flagged = false;
  for (int i = 0; i < 40 && !flagged; ++i) {
    flagged = cluster_->mons.cli({"health", "detail"}).out.find("PG_INCONSISTENT") != std::string::npos;
    if (!flagged) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(flagged);
  auto repaired = scrub("repair");
  EXPECT_EQ(repaired["repaired"], true);
  EXPECT_EQ(repaired["inconsistent"].size(), 1u);
  EXPECT_TRUE(scrub("deep-scrub")["inconsistent"].empty());
  EXPECT_TRUE(scrub("list-inconsistent")["inconsistent"].empty());
  EXPECT_EQ(io_->read("scrubbed", 0, 0)->to_string(), std::string(100000, 's'));
  expect_replicas_agree();
  // Bad PG ids get a clear error.
  EXPECT_EQ(cluster_->mons.cli({"pg", "scrub", "99.0"}).exit_code, ENOENT);
  EXPECT_EQ(cluster_->mons.cli({"pg", "scrub", "nonsense"}).exit_code, EINVAL);
}

// Offset of `needle` in the file at `path`, or -1.
off_t find_in_file(const std::string& path, const std::string& needle) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return -1;
  std::string buf(8 << 20, '\0');
  off_t base = 0;
  off_t found = -1;
  for (;;) {
    ssize_t n = pread(fd, buf.data(), buf.size(), base);
    if (n <= 0) break;
    auto at = std::string_view(buf.data(), static_cast<size_t>(n)).find(needle);
    if (at != std::string_view::npos) {
      found = base + static_cast<off_t>(at);
      break;
    }
    base += n - static_cast<off_t>(needle.size());  // overlap so a needle across chunks is seen
  }
  close(fd);
  return found;
}

TEST_F(OsdTest, ChecksumErrorOnThePrimaryIsServedFromAReplicaAndMended) {
  std::string data;
  for (int b = 0; b < 16; ++b) {
    char tag[48];
    std::snprintf(tag, sizeof tag, "ROTTEN-NEEDLE-%08x-BLOCK-%02d", static_cast<unsigned>(getpid()), b);
    std::string block(4096, static_cast<char>('a' + b));
    block.replace(100, std::strlen(tag), tag);
    data += block;
  }
  ASSERT_TRUE(io_->write_full("rotten", BufferList::copy_of(data)).ok());
  auto map = client_->osdmap();
  crush::PgId pg = map->object_to_pg(io_->pool_id(), "rotten");
  int primary = map->map_pg(pg)->acting_primary;
  // Flip a byte of block 3 on the primary's disk behind the store's back.
  cluster_->stop_osd(primary);
  char tag[48];
  std::snprintf(tag, sizeof tag, "ROTTEN-NEEDLE-%08x-BLOCK-03", static_cast<unsigned>(getpid()));
  off_t at = find_in_file(cluster_->osd_dir(primary) + "/block", tag);
  ASSERT_GE(at, 0);
  int fd = open((cluster_->osd_dir(primary) + "/block").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  char x = 'X';
  ASSERT_EQ(pwrite(fd, &x, 1, at + 5), 1);
  fsync(fd);
  close(fd);
  ASSERT_TRUE(cluster_->start_osd(primary).ok());
  ASSERT_TRUE(cluster_->wait_clean(std::chrono::seconds(60)));
  // The read hits the bad block on the primary, which fetches a replica's copy and answers.
  auto r = io_->read("rotten", 0, 0);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->to_string() == data);
  char pgid[32];
  std::snprintf(pgid, sizeof pgid, "%lld.%x", static_cast<long long>(pg.pool), pg.seed);
  auto deep = nlohmann::json::parse(cluster_->mons.cli({"pg", "deep-scrub", pgid}, true).out, nullptr, false);
  ASSERT_FALSE(deep.is_discarded());
  EXPECT_TRUE(deep["inconsistent"].empty()) << deep.dump();
  expect_replicas_agree();
}

// Runs last (gtest runs tests in order of definition): it changes the cluster.
TEST_F(OsdTest, KillReplicaDuringWritesLosesNothingAndItRejoins) {
  std::map<std::string, std::pair<uint64_t, size_t>> acked;  // object -> last acknowledged (version, size)
  std::mutex mu;
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::atomic<uint64_t> acked_ops{0};
  std::thread writer([&] {
    for (uint64_t n = 0; !stop; ++n) {
      std::string name = "stream-" + std::to_string(n % 200);
      uint64_t version = n / 200 + 1;
      size_t size = 4096 + n % 8192;
      Status st = io_->write_full(name, payload(name, version, size));
      if (st.ok()) {
        std::lock_guard<std::mutex> l(mu);
        acked[name] = {version, size};
        acked_ops++;
      } else {
        errors++;
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  cluster_->kill9_osd(3);
  ASSERT_TRUE(cluster_->wait_osd_state(3, false, std::chrono::seconds(60)));
  uint64_t before = acked_ops.load();
  // `cairn status` shows the degraded copies and a progress bar while osd.3 is down.
  bool shown = false;
  for (int i = 0; i < 40 && !shown; ++i) {
    auto st = cluster_->mons.cli({"status"});
    auto js = nlohmann::json::parse(cluster_->mons.cli({"status"}, true).out, nullptr, false);
    shown = st.out.find("recovery:") != std::string::npos && st.out.find("% healthy") != std::string::npos &&
            !js.is_discarded() && js["recovery"].value("degraded_objects", 0u) > 0;
    if (!shown) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(shown);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_TRUE(cluster_->start_osd(3).ok());
  ASSERT_TRUE(cluster_->wait_osd_state(3, true, std::chrono::seconds(60)));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  stop = true;
  writer.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(acked_ops.load(), before + 10);  // writes went on while osd.3 was down and after
  ASSERT_TRUE(cluster_->wait_clean(std::chrono::seconds(120)));
  // Every write returned (no errors), so each object holds exactly its last acknowledged version.
  for (const auto& [name, vs] : acked) {
    auto r = io_->read(name, 0, 0);
    ASSERT_TRUE(r.ok()) << name;
    EXPECT_TRUE(r->to_string() == payload(name, vs.first, vs.second).to_string())
        << name << " does not hold acknowledged version " << vs.first;
  }
  expect_replicas_agree();
}

// Ceph's "wrongly marked me down": the map marks a running OSD down (an operator,
// or failure reports that raced a recovery); the OSD sees itself down, boots
// again, comes back up in a later epoch, and the cluster heals and serves.
TEST_F(OsdTest, AnOsdMarkedDownWhileRunningBootsAgain) {
  ASSERT_TRUE(cluster_->wait_clean(std::chrono::seconds(120)));
  auto up_from = [&](int osd) -> int64_t {  // 0 while down, -1 when unknown
    auto d = nlohmann::json::parse(cluster_->mons.cli({"osd", "dump"}, true, 10).out, nullptr, false);
    if (d.is_discarded()) return -1;
    for (const auto& o : d["osds"])
      if (o.value("osd", -1) == osd) return o.value("up", false) ? o.value("up_from", int64_t{0}) : 0;
    return -1;
  };
  const int64_t before = up_from(2);
  ASSERT_GT(before, 0);
  ASSERT_TRUE(cluster_->cli_ok({"osd", "down", "2"}).ok());
  int64_t after = before;
  for (int i = 0; i < 200 && after <= before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    after = up_from(2);
  }
  EXPECT_GT(after, before) << "osd.2 never came back up";
  EXPECT_TRUE(cluster_->osd_running(2));
  auto log = real_fs().read_file(cluster_->osd_log(2));
  ASSERT_TRUE(log.ok()) << log.status().to_string();
  EXPECT_NE(log->find("booting again"), std::string::npos);
  ASSERT_TRUE(cluster_->wait_clean(std::chrono::seconds(120)));
  ASSERT_TRUE(io_->write_full("after-down", payload("after-down", 1, 5000)).ok());
  auto r = io_->read("after-down", 0, 0);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->to_string() == payload("after-down", 1, 5000).to_string());
  expect_replicas_agree();
}

}  // namespace
}  // namespace cairn::test
