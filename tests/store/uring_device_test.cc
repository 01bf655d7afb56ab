#include "osd/store/uring_device.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>

#include "store_test_util.h"

namespace cairn::store {
namespace {

class UringDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/dev";
    int fd = ::open(path_.c_str(), O_RDWR | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, 1 << 20), 0);
    ::close(fd);
    auto d = UringDevice::open(path_, {8, false});
    ASSERT_TRUE(d.ok()) << d.status().to_string();
    dev_ = std::move(*d);
  }
  // A device that remembers unflushed writes (the crash tests' power-cut model).
  static std::unique_ptr<UringDevice> tracking(const std::string& path) {
    auto d = UringDevice::open(path, {8, false, false, true});
    EXPECT_TRUE(d.ok());
    return d.ok() ? std::move(*d) : nullptr;
  }
  static void put(UringDevice& d, uint64_t off, char c) {
    BufferPtr b = BufferPtr::create_aligned(4096);
    std::memset(b.data(), c, 4096);
    d.write(off, BufferList(b), [](Status st) { EXPECT_TRUE(st.ok()); });
    EXPECT_TRUE(d.run_until_idle().ok());
  }
  // poll() leaves the eventfd to whoever waits on it: read it as they would.
  static void drain(const UringDevice& d) {
    uint64_t n;
    (void)!::read(d.event_fd(), &n, sizeof n);
  }
  static char byte_at(const UringDevice& d, uint64_t off) {
    BufferPtr r = BufferPtr::create_aligned(4096);
    EXPECT_TRUE(d.pread_direct(off, r.data(), 4096).ok());
    return r.data()[7];
  }
  testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<UringDevice> dev_;
};

TEST_F(UringDeviceTest, WritesFlushesAndReadsBackWithManyInFlight) {
  EXPECT_EQ(dev_->size(), 1u << 20);
  int done = 0, errors = 0;
  auto cb = [&](Status st) {
    ++done;
    if (!st.ok()) ++errors;
  };
  for (int i = 0; i < 40; ++i) {  // more than the queue depth: the backlog drains
    BufferPtr b = BufferPtr::create_aligned(4096);
    std::memset(b.data(), 'a' + i % 26, 4096);
    dev_->write(static_cast<uint64_t>(i) * 4096, BufferList(b), cb);
  }
  EXPECT_EQ(done, 0) << "callbacks never run inline";
  ASSERT_TRUE(dev_->run_until_idle().ok());
  drain(*dev_);
  dev_->flush(cb);
  // The eventfd becomes readable when completions are ready.
  pollfd p{dev_->event_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 5000), 1);
  ASSERT_TRUE(dev_->run_until_idle().ok());
  EXPECT_EQ(done, 41);
  EXPECT_EQ(errors, 0);
  BufferPtr r = BufferPtr::create_aligned(4096);
  Status got = error(Errc::kInternal, "not run");
  dev_->read(39 * 4096, r, [&](Status st) { got = st; });
  ASSERT_TRUE(dev_->run_until_idle().ok());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(r.data()[100], 'a' + 39 % 26);
  BufferPtr s = BufferPtr::create_aligned(4096);
  ASSERT_TRUE(dev_->pread_direct(4096, s.data(), 4096).ok());
  EXPECT_EQ(s.data()[0], 'b');
}

// Batched submission: requests wait for submit(), and the owner is asked once per
// batch to arrange it.
TEST_F(UringDeviceTest, BatchedSubmissionWaitsForSubmitAndAsksOncePerBatch) {
  BufferPtr w = BufferPtr::create_aligned(5 * 4096);
  for (int i = 0; i < 5; ++i) std::memset(w.data() + i * 4096, 'k' + i, 4096);
  int writes = 0;
  dev_->write(0, BufferList(w), [&](Status st) { writes += st.ok(); });
  ASSERT_TRUE(dev_->run_until_idle().ok());
  ASSERT_EQ(writes, 1);
  int asked = 0, done = 0;
  dev_->set_batched_submit([&] { ++asked; });
  std::vector<BufferPtr> bufs;
  for (int i = 0; i < 5; ++i) {
    bufs.push_back(BufferPtr::create_aligned(4096));
    dev_->read(static_cast<uint64_t>(i) * 4096, bufs.back(), [&](Status st) { done += st.ok(); });
  }
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(dev_->in_flight(), 5u);
  drain(*dev_);
  pollfd p{dev_->event_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 100), 0) << "nothing reaches the kernel before submit()";
  dev_->submit();
  ASSERT_TRUE(dev_->run_until_idle().ok());
  EXPECT_EQ(done, 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bufs[static_cast<size_t>(i)].data()[7], 'k' + i) << i;
  dev_->read(0, bufs[0], [&](Status st) { done += st.ok(); });
  EXPECT_EQ(asked, 2) << "a new batch asks again";
  dev_->submit();
  ASSERT_TRUE(dev_->run_until_idle().ok());
  EXPECT_EQ(done, 6);
}

// Plugged: writes queue until unplug(), which hands them to the kernel together.
TEST_F(UringDeviceTest, PluggedWritesWaitForUnplug) {
  int done = 0;
  dev_->plug();
  for (int i = 0; i < 12; ++i) {  // more than the queue depth (8): the rest follow in poll
    BufferPtr b = BufferPtr::create_aligned(4096);
    std::memset(b.data(), 'p' + i % 8, 4096);
    dev_->write(static_cast<uint64_t>(i) * 4096, BufferList(b), [&](Status st) { done += st.ok(); });
  }
  EXPECT_EQ(dev_->in_flight(), 12u);
  drain(*dev_);
  pollfd p{dev_->event_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 100), 0) << "nothing reaches the kernel while plugged";
  dev_->unplug();
  ASSERT_TRUE(dev_->run_until_idle().ok());
  EXPECT_EQ(done, 12);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(byte_at(*dev_, static_cast<uint64_t>(i) * 4096), 'p' + i % 8) << i;
}

// Reads a callback makes inside poll() are submitted when it returns, and a wait
// from inside a callback still makes progress (it would spin on a plugged backlog).
TEST_F(UringDeviceTest, RequestsFromCallbacksGoTogetherAndNestedWaitsProgress) {
  put(*dev_, 0, 'x');
  std::vector<BufferPtr> bufs;
  for (int i = 0; i < 4; ++i) bufs.push_back(BufferPtr::create_aligned(4096));
  int done = 0;
  dev_->read(0, bufs[0], [&](Status st) {
    ASSERT_TRUE(st.ok());
    for (int i = 1; i < 3; ++i)
      dev_->read(0, bufs[static_cast<size_t>(i)], [&](Status s) { done += s.ok(); });
    // A nested wait on the ring: submits what is queued rather than spinning.
    dev_->read(0, bufs[3], [&](Status s) { done += s.ok(); });
    ASSERT_TRUE(dev_->run_until_idle().ok());
  });
  ASSERT_TRUE(dev_->run_until_idle().ok());
  EXPECT_EQ(done, 3);
  for (const BufferPtr& b : bufs) EXPECT_EQ(b.data()[7], 'x');
}

TEST_F(UringDeviceTest, RejectsUnalignedAndOutOfRangeWithoutCrashing) {
  std::vector<Errc> codes;
  auto cb = [&](Status st) { codes.push_back(st.code()); };
  dev_->write(100, BufferList(BufferPtr::create_aligned(4096)), cb);
  dev_->read(1 << 20, BufferPtr::create_aligned(4096), cb);
  EXPECT_TRUE(codes.empty());
  ASSERT_TRUE(dev_->run_until_idle().ok());
  (void)dev_->poll(false);
  EXPECT_EQ(codes, (std::vector<Errc>{Errc::kInvalid, Errc::kInvalid}));
}

// The power-cut model the crash tests use: only writes a completed flush covers survive.
TEST_F(UringDeviceTest, ScribbleUnflushedGarblesOnlyUncoveredWrites) {
  auto d = tracking(path_);
  ASSERT_TRUE(d);
  put(*d, 0, 'x');
  d->flush([](Status st) { EXPECT_TRUE(st.ok()); });
  ASSERT_TRUE(d->run_until_idle().ok());
  put(*d, 8192, 'y');
  ASSERT_TRUE(d->scribble_unflushed().ok());
  EXPECT_EQ(byte_at(*d, 0), 'x');
  EXPECT_NE(byte_at(*d, 8192), 'y');
}

// flush_now() (fdatasync on the caller's thread) covers exactly what a ring flush does.
TEST_F(UringDeviceTest, FlushNowCoversTheWritesCompletedBeforeIt) {
  auto d = tracking(path_);
  ASSERT_TRUE(d);
  put(*d, 0, 'x');
  put(*d, 4096, 'z');
  ASSERT_TRUE(d->flush_now().ok());
  put(*d, 8192, 'y');
  ASSERT_TRUE(d->scribble_unflushed().ok());
  EXPECT_EQ(byte_at(*d, 0), 'x');
  EXPECT_EQ(byte_at(*d, 4096), 'z');
  EXPECT_NE(byte_at(*d, 8192), 'y');
}

}  // namespace
}  // namespace cairn::store
