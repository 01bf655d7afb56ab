// Resource bounds. A cluster whose disks fill up: writes fail with ENOSPC and lose
// nothing, deletes still work, and writes resume once space is freed. And the bound
// on client bytes in progress: clients pause, nothing fails.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "client/rados.h"
#include "osd_cluster.h"

namespace cairn::test {
namespace {

TEST(OsdFull, WritesStopCleanlyWhenFullAndResumeAfterDeletes) {
  // 64 MiB devices: a few dozen 1 MiB objects fill them (every OSD holds every object).
  OsdCluster c(1, 3, {}, {"--osd-stats-interval", "1s"}, "64M");
  ASSERT_TRUE(c.start().ok());
  ASSERT_TRUE(c.create_pool("full", 8, 3).ok());
  ASSERT_TRUE(c.wait_clean(std::chrono::seconds(60)));
  client::ClusterOptions o;
  o.mon_host = c.mons.mon_host();
  auto cl = client::Cluster::connect(o);
  ASSERT_TRUE(cl.ok()) << cl.status().to_string();
  auto io = (*cl)->io_ctx("full");
  ASSERT_TRUE(io.ok());
  auto payload = [](int i) { return std::string(1 << 20, static_cast<char>('A' + i % 26)); };
  int acked = 0;
  Status last;
  for (int i = 0; i < 200; ++i) {
    last = io->write_full("fill-" + std::to_string(i), BufferList::copy_of(payload(i)));
    if (!last.ok()) break;
    ++acked;
  }
  ASSERT_EQ(last.code(), Errc::kNoSpace) << last.to_string();
  EXPECT_GT(acked, 20);
  // Nothing acknowledged is lost, nothing half-written is visible.
  for (int i = 0; i < acked; ++i) {
    auto r = io->read("fill-" + std::to_string(i), 0, 0);
    ASSERT_TRUE(r.ok()) << i;
    ASSERT_TRUE(r->to_string() == payload(i)) << i;
  }
  EXPECT_EQ(io->stat("fill-" + std::to_string(acked)).status().code(), Errc::kNotFound);
  // The monitors see it: OSD_FULL, and the cluster-wide full flag.
  bool flagged = false;
  for (int i = 0; i < 40 && !flagged; ++i) {
    auto h = c.mons.cli({"health", "detail"}).out;
    flagged = h.find("OSD_FULL") != std::string::npos;
    if (!flagged) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(flagged);
  // Deletes work while full; once usage drops, writes resume.
  for (int i = 0; i < 15; ++i) ASSERT_TRUE(io->remove("fill-" + std::to_string(i)).ok()) << i;
  Status again;
  for (int i = 0; i < 80; ++i) {
    again = io->write_full("after", BufferList::copy_of("space again"));
    if (again.ok()) break;
    EXPECT_EQ(again.code(), Errc::kNoSpace);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(again.ok()) << again.to_string();
  EXPECT_EQ(io->read("after", 0, 0)->to_string(), "space again");
  for (int i = 15; i < acked; ++i) ASSERT_TRUE(io->read("fill-" + std::to_string(i), 0, 0).ok()) << i;
}

// osd_client_message_size_cap: with 6 MiB of client requests allowed in progress,
// 24 concurrent 4 MiB writes make the OSDs pause reading their clients, and every
// write still completes and reads back (replication is not held up by the bound).
TEST(OsdClientCap, ConcurrentLargeWritesPauseClientsAndAllComplete) {
  OsdCluster c(1, 3, {}, {"--osd-client-message-size-cap", "6M"}, "1G");
  ASSERT_TRUE(c.start_with_pool("cap", 8, 3, 2).ok());
  auto cl = client::Cluster::connect(c.client_options());
  ASSERT_TRUE(cl.ok()) << cl.status().to_string();
  auto io = (*cl)->io_ctx("cap");
  ASSERT_TRUE(io.ok());
  auto payload = [](int i) { return std::string(4 << 20, static_cast<char>('a' + i % 26)); };
  constexpr int kWrites = 24;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, failed = 0;
  for (int i = 0; i < kWrites; ++i) {
    client::WriteOp op;
    op.write_full(BufferList::copy_of(payload(i)));
    io->aio_operate("big-" + std::to_string(i), op, [&](Result<client::OpReply> r) {
      std::lock_guard lock(mu);
      ++done;
      if (!r.ok() || r->result != 0) ++failed;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(120), [&] { return done == kWrites; }));
  }
  EXPECT_EQ(failed, 0);
  uint64_t waits = 0;
  for (int i = 0; i < 3; ++i) {
    auto j = nlohmann::json::parse(c.osd_admin(i, "status"), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << i;
    waits += j.value("client_throttle_waits", 0u);
    EXPECT_EQ(j.value("client_bytes_held", 1u), 0u) << "osd." << i << " still holds client bytes";
  }
  EXPECT_GT(waits, 0u) << "no OSD ever paused: the bound was not exercised";
  for (int i = 0; i < kWrites; ++i) {
    auto r = io->read("big-" + std::to_string(i), 0, 0);
    ASSERT_TRUE(r.ok()) << i;
    ASSERT_TRUE(r->to_string() == payload(i)) << i;
  }
}

}  // namespace
}  // namespace cairn::test
