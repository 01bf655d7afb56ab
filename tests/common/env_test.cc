#include "common/env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "common/asio.h"
#include "common/timer_queue.h"

namespace cairn {
namespace {

TEST(Random, SeededIsReproducibleAndUniformIsBounded) {
  SeededRandom a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differs |= x != c.next_u64();
  }
  EXPECT_TRUE(differs);
  std::vector<int> hist(10);
  for (int i = 0; i < 100000; ++i) {
    uint64_t v = a.uniform(10);
    ASSERT_LT(v, 10u);
    ++hist[v];
  }
  for (int h : hist) EXPECT_NEAR(h, 10000, 600);
  EXPECT_LT(real_random().uniform(5), 5u);
}

TEST(Clock, RealIsMonotonicManualMovesWhenTold) {
  uint64_t t0 = real_clock().now_ns();
  EXPECT_GE(real_clock().now_ns(), t0);
  EXPECT_GT(real_clock().wall_ns(), 1'600'000'000ull * 1'000'000'000ull);
  ManualClock m(100);
  m.advance_ns(50);
  EXPECT_EQ(m.now_ns(), 150u);
}

class FsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn-fs-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::string cmd = "rm -rf " + dir_;
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  std::string dir_;
};

TEST_F(FsTest, FilesAndAtomicWrite) {
  FileSystem& fs = real_fs();
  ASSERT_TRUE(fs.mkdirs(dir_ + "/a/b").ok());
  std::string p = dir_ + "/a/b/f";
  EXPECT_FALSE(*fs.exists(p));
  ASSERT_TRUE(fs.write_file_atomic(p, "v1").ok());
  ASSERT_TRUE(fs.write_file_atomic(p, "version two").ok());
  EXPECT_EQ(*fs.read_file(p), "version two");
  EXPECT_FALSE(*fs.exists(p + ".tmp"));
  auto f = fs.open(p, OpenOptions{});
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->pwrite(100, "x", 1).ok());
  EXPECT_EQ(*(*f)->size(), 101u);
  char buf[200];
  EXPECT_EQ(*(*f)->pread(0, buf, sizeof buf), 101u);
  EXPECT_EQ(fs.open(p, OpenOptions{.create = true, .exclusive = true}).code(), Errc::kExists);
  EXPECT_EQ(fs.open(dir_ + "/missing", OpenOptions{}).code(), Errc::kNotFound);
  EXPECT_EQ(fs.read_file(dir_ + "/missing").code(), Errc::kNotFound);
  EXPECT_EQ(fs.list(dir_ + "/a/b")->size(), 1u);
}

TEST(ThreadName, ShowsInProcAndIsCutTo15Characters) {
  std::string seen;
  std::thread t([&] {
    set_thread_name("store-commit-and-more");
    std::ifstream f("/proc/thread-self/comm");
    std::getline(f, seen);
  });
  t.join();
  EXPECT_EQ(seen, "store-commit-an");
}

TEST(TimerQueue, FiresInOrderAndCancels) {
  asio::io_context io;
  auto tq = make_asio_timer_queue(io);
  std::vector<int> fired;
  tq->schedule_after_ns(20'000'000, [&] { fired.push_back(2); });
  tq->schedule_after_ns(1'000'000, [&] { fired.push_back(1); });
  auto id = tq->schedule_after_ns(5'000'000, [&] { fired.push_back(99); });
  EXPECT_TRUE(tq->cancel(id));
  EXPECT_FALSE(tq->cancel(id));
  io.run_for(std::chrono::seconds(2));
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
}

}  // namespace
}  // namespace cairn
