// BlockStore behaviour that MemStore does not have: checksums against bit rot, a
// full device, deferred overwrites, identity and corruption checks at mount.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <rocksdb/db.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/checksum.h"
#include "common/encoding.h"
#include "osd/store/block_store.h"
#include "store_test_util.h"

namespace cairn::store {
namespace {

using testing::bl;
using testing::oid;
using testing::pattern;

class BlockStoreTest : public ::testing::Test {
 protected:
  void format(uint64_t bytes) {
    opts_.path = dir_.path();
    opts_.device_bytes = bytes;
    opts_.cache_bytes = 8ull << 20;
    ASSERT_TRUE(BlockStore::mkfs(opts_).ok());
    mount();
    Transaction t;
    t.create_collection(c_);
    ASSERT_TRUE(apply(std::move(t)).ok());
  }
  void mount() {
    auto s = BlockStore::open(opts_);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(*s);
  }
  Status apply(Transaction t) { return apply_transaction(*store_, c_, std::move(t)); }
  Status write(const ObjectId& o, uint64_t off, const std::string& data) {
    Transaction t;
    t.write(c_, o, off, bl(data));
    return apply(std::move(t));
  }
  void expect_fsck_clean(bool deep = true) {
    store_.reset();
    auto r = BlockStore::fsck(opts_, deep);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_TRUE(r->clean()) << (r->errors.empty() ? "" : r->errors[0]);
    mount();
  }
  // read_async of `name` on `ring`, polled to completion.
  Result<BufferList> read_on(UringDevice& ring, const std::string& name, uint64_t off, uint64_t len) {
    std::optional<Result<BufferList>> got;
    store_->read_async(ring, c_, oid(name), off, len, [&](Result<BufferList> r) { got = std::move(r); });
    while (!got) EXPECT_TRUE(ring.poll(true).ok());
    return std::move(*got);
  }
  // Offset in the block file of the first occurrence of `needle`.
  off_t find_on_device(const std::string& needle) {
    int fd = ::open((dir_.path() + "/block").c_str(), O_RDONLY);
    std::string buf(1 << 20, '\0');
    off_t found = -1;
    for (off_t off = 0; found < 0; off += static_cast<off_t>(buf.size() - needle.size())) {
      ssize_t n = pread(fd, buf.data(), buf.size(), off);
      if (n <= 0) break;
      size_t at = std::string_view(buf.data(), static_cast<size_t>(n)).find(needle);
      if (at != std::string::npos) found = off + static_cast<off_t>(at);
    }
    ::close(fd);
    return found;
  }
  void flip_byte(off_t at) {
    int fd = ::open((dir_.path() + "/block").c_str(), O_RDWR);
    char c;
    ASSERT_EQ(pread(fd, &c, 1, at), 1);
    c ^= 0x5a;
    ASSERT_EQ(pwrite(fd, &c, 1, at), 1);
    fsync(fd);
    ::close(fd);
  }

  testing::TempDir dir_;
  BlockStoreOptions opts_;
  std::unique_ptr<BlockStore> store_;
  CollectionId c_{3, 1};
};

TEST_F(BlockStoreTest, BitRotReadsFailWithEioNeverWrongBytes) {
  format(32ull << 20);
  std::string data = pattern(3 * 4096, 'r');
  data.replace(5000, 16, "NEEDLE-IN-BLOCK1");
  ASSERT_TRUE(write(oid("rot"), 0, data).ok());
  ASSERT_TRUE(write(oid("fine"), 0, pattern(8192, 'f')).ok());
  store_.reset();
  off_t at = find_on_device("NEEDLE-IN-BLOCK1");
  ASSERT_GE(at, 0);
  flip_byte(at + 3);
  mount();
  EXPECT_EQ(store_->read(c_, oid("rot"), 0, 0).code(), Errc::kIo);
  EXPECT_EQ(store_->read(c_, oid("rot"), 4096, 10).code(), Errc::kIo);
  auto first = store_->read(c_, oid("rot"), 0, 4096);  // block 0 is intact
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->to_string(), data.substr(0, 4096));
  EXPECT_TRUE(store_->read(c_, oid("fine"), 0, 0).ok());
  EXPECT_GE(store_->stats().checksum_errors, 2u);
  // A partial overwrite of the bad block must not launder it into good data.
  EXPECT_EQ(write(oid("rot"), 4100, "x").code(), Errc::kIo);
  store_.reset();
  auto r = BlockStore::fsck(opts_, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bad_checksums, 1u);
  EXPECT_FALSE(r->clean());
  // Rewriting the whole block repairs it (what recovery from a replica does).
  mount();
  ASSERT_TRUE(write(oid("rot"), 4096, data.substr(4096, 4096)).ok());
  auto fixed = store_->read(c_, oid("rot"), 0, 0);
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->to_string(), data);
}

TEST_F(BlockStoreTest, FullDeviceFailsCleanlyAndRecovers) {
  format(16ull << 20);
  std::string mib = pattern(1 << 20, 'm');
  int written = 0;
  Status st;
  while ((st = write(oid("o" + std::to_string(written)), 0, mib)).ok()) ++written;
  EXPECT_EQ(st.code(), Errc::kNoSpace);
  EXPECT_GE(written, 14);
  auto fs = store_->statfs();
  ASSERT_TRUE(fs.ok());
  EXPECT_LT(fs->available, 1u << 20);
  // A transaction that does not fit leaves no trace, not even its first op.
  Transaction t;
  t.write(c_, oid("partial"), 0, bl("small")).write(c_, oid("big"), 0, bl(mib));
  EXPECT_EQ(apply(std::move(t)).code(), Errc::kNoSpace);
  EXPECT_EQ(store_->stat(c_, oid("partial")).code(), Errc::kNotFound);
  // Small overwrites in place still work on a full device (deferred path).
  ASSERT_TRUE(write(oid("o0"), 100, "in place").ok());
  std::string o0 = mib;
  o0.replace(100, 8, "in place");
  for (int i = 0; i < written; ++i) {
    auto r = store_->read(c_, oid("o" + std::to_string(i)), 0, 0);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->to_string() == (i == 0 ? o0 : mib)) << i;
  }
  expect_fsck_clean();
  Transaction rm;
  rm.remove(c_, oid("o1")).remove(c_, oid("o2"));
  ASSERT_TRUE(apply(std::move(rm)).ok());
  ASSERT_TRUE(store_->flush().ok());
  EXPECT_TRUE(write(oid("again"), 0, mib).ok());
  expect_fsck_clean();
  auto again = store_->read(c_, oid("again"), 0, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->to_string() == mib);
}

uint64_t allocated_bytes(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST_F(BlockStoreTest, PreparerWritesHolesAheadAndNeverTouchesData) {
  // mkfs and fsck leave the block file sparse; a mount writes free space ahead.
  opts_.path = dir_.path();
  opts_.device_bytes = 64ull << 20;
  // One step's worth: the preparer works right next to the allocator's cursor.
  opts_.prepare_ahead_bytes = 2ull << 20;
  ASSERT_TRUE(BlockStore::mkfs(opts_).ok());
  auto fsck = BlockStore::fsck(opts_, false);
  ASSERT_TRUE(fsck.ok());
  std::string block = dir_.path() + "/block";
  EXPECT_LT(allocated_bytes(block), 1u << 20);
  mount();
  Transaction c;
  c.create_collection(c_);
  ASSERT_TRUE(apply(std::move(c)).ok());
  for (int i = 0; i < 500 && store_->stats().prepared_bytes < (1u << 20); ++i) usleep(10000);
  uint64_t first = store_->stats().prepared_bytes;
  EXPECT_GE(first, 1u << 20);
  EXPECT_GE(allocated_bytes(block), 1u << 20);
  // New data at a pace the preparer keeps up with, so it works among the writes
  // and past the first margin.
  std::vector<std::string> want;
  for (int batch = 0; batch < 40; ++batch) {
    for (int i = 0; i < 100; ++i) {
      want.push_back(pattern(4096 * (1 + (i % 3)), static_cast<char>('a' + (want.size() % 26))));
      want.back().replace(0, 8, std::to_string(10000000 + want.size()));
      Transaction t;
      t.write(c_, oid("n" + std::to_string(want.size() - 1)), 0, bl(want.back()));
      store_->queue_transaction(c_, std::move(t), [](Status st) { ASSERT_TRUE(st.ok()) << st.to_string(); });
    }
    usleep(20000);
  }
  ASSERT_TRUE(store_->flush().ok());
  EXPECT_GT(store_->stats().prepared_bytes, first);
  auto check = [&] {
    for (size_t i = 0; i < want.size(); ++i) {
      auto r = store_->read(c_, oid("n" + std::to_string(i)), 0, 0);
      ASSERT_TRUE(r.ok()) << i << ": " << r.status().to_string();
      ASSERT_TRUE(r->to_string() == want[i]) << i;
    }
  };
  check();
  expect_fsck_clean();
  check();
}

TEST_F(BlockStoreTest, AWriteShortOfSpaceWaitsForThePreparersBlocks) {
  opts_.path = dir_.path();
  opts_.device_bytes = 32ull << 20;
  opts_.test_prepare_hold_ms = 300;  // each step holds its 2 MiB for 300 ms more
  ASSERT_TRUE(BlockStore::mkfs(opts_).ok());
  mount();
  Transaction c;
  c.create_collection(c_);
  ASSERT_TRUE(apply(std::move(c)).ok());
  uint64_t held = 0;
  for (int i = 0; i < 200 && (held = store_->stats().prepare_held_bytes) == 0; ++i) usleep(5000);
  ASSERT_GT(held, 0u) << "the preparer never held anything";
  auto fs = store_->statfs();
  ASSERT_TRUE(fs.ok());
  EXPECT_LT(fs->used, 1u << 20);
  // Needs nearly all the free space, part of which the preparer has right now:
  // the write waits for it instead of failing with ENOSPC.
  uint64_t want = fs->available - (256u << 10);
  ASSERT_GT(want + held, fs->available);
  std::string big = pattern(want, 'b');
  ASSERT_TRUE(write(oid("big"), 0, big).ok());
  auto r = store_->read(c_, oid("big"), 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->to_string() == big);
  expect_fsck_clean();
}

TEST_F(BlockStoreTest, GroupCommitDelayGathersBusyWritersAndNeverHoldsALoneOne) {
  opts_.group_commit_delay_us = 300000;  // long enough to see, short enough to wait out
  format(64ull << 20);
  // A lone writer (groups of one) never waits: 20 commits in a row take far less
  // than the 6 s they would if each waited.
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(write(oid("lone" + std::to_string(i)), 0, "x").ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  // Busy writers: a burst queued behind a big write makes a group of several,
  // then transactions queued one by one, 2 ms apart, are gathered into one or
  // two groups rather than one each.
  auto queue = [&](const std::string& name, const std::string& data) {
    Transaction t;
    t.write(c_, oid(name), 0, bl(data));
    store_->queue_transaction(c_, std::move(t), [](Status st) { ASSERT_TRUE(st.ok()); });
  };
  queue("big", pattern(16 << 20, 'g'));
  for (int i = 0; i < 8; ++i) queue("burst" + std::to_string(i), "busy");
  ASSERT_TRUE(store_->flush().ok());
  uint64_t g0 = store_->stats().commit_groups;
  for (int i = 0; i < 10; ++i) {
    queue("trickle" + std::to_string(i), "busy");
    usleep(2000);
  }
  ASSERT_TRUE(store_->flush().ok());
  EXPECT_LE(store_->stats().commit_groups - g0, 3u);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(store_->stat(c_, oid("trickle" + std::to_string(i))).ok());
}

TEST_F(BlockStoreTest, SharedWalFlushCoversTheNextGroupsDataAndLosesNothing) {
  opts_.prepare_ahead_bytes = 0;  // the block file keeps its holes unless a write fills them
  format(64ull << 20);
  // 4 KiB objects queued all at once, so commit groups keep coming.
  auto queue_many = [&](const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      Transaction t;
      t.write(c_, oid(prefix + std::to_string(i)), 0, bl(pattern(4096, static_cast<char>('a' + i % 26))));
      store_->queue_transaction(c_, std::move(t), [](Status st) { ASSERT_TRUE(st.ok()); });
    }
    ASSERT_TRUE(store_->flush().ok());
  };
  auto expect_all = [&](const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      auto r = store_->read(c_, oid(prefix + std::to_string(i)), 0, 0);
      ASSERT_TRUE(r.ok()) << prefix << i;
      EXPECT_TRUE(r->to_string() == pattern(4096, static_cast<char>('a' + i % 26))) << prefix << i;
    }
  };
  // Into holes of the file: each write is seen as such, and each group gets the
  // block file's own flush (its allocation), never a WAL sync's.
  queue_many("hole", 100);
  EXPECT_EQ(store_->stats().hole_writes, 100u);
  EXPECT_EQ(store_->stats().shared_flushes, 0u);
  // Most of the file written, then freed: after a remount the allocator starts at
  // the front again, among blocks the file has.
  ASSERT_TRUE(write(oid("fill"), 0, pattern(40 << 20, 'f')).ok());
  Transaction rm;
  rm.remove(c_, oid("fill"));
  ASSERT_TRUE(apply(std::move(rm)).ok());
  store_.reset();
  mount();
  queue_many("w", 400);
  BlockStoreStats st = store_->stats();
  EXPECT_EQ(st.hole_writes, 0u);
  EXPECT_GT(st.shared_flushes, 0u) << st.commit_groups << " groups";
  EXPECT_LT(st.commit_groups, 400u);
  expect_all("hole", 100);
  expect_all("w", 400);
  expect_fsck_clean();
  expect_all("w", 400);
  // With written-ahead WAL files the held group's WAL pages go out while the
  // next group's data is in flight; its Sync waits for that data, then flushes.
  store_.reset();
  opts_.wal_spare_bytes = 1 << 20;
  mount();
  queue_many("spare", 400);
  st = store_->stats();
  EXPECT_EQ(st.wal_spares_taken, 1u);
  EXPECT_EQ(st.hole_writes, 0u);
  EXPECT_GT(st.shared_flushes, 0u) << st.commit_groups << " groups";
  expect_all("spare", 400);
  expect_fsck_clean();
  expect_all("spare", 400);
  // Switched off: the same workload, every group flushes the device itself.
  store_.reset();
  opts_.wal_spare_bytes = 0;
  opts_.share_wal_flush = false;
  mount();
  queue_many("off", 100);
  EXPECT_EQ(store_->stats().shared_flushes, 0u);
  expect_all("off", 100);
}

TEST_F(BlockStoreTest, AGroupsContiguousWritesGoAsOneRequest) {
  format(64ull << 20);
  auto queue = [&](const std::string& name, const std::string& data) {
    Transaction t;
    t.write(c_, oid(name), 0, bl(data));
    store_->queue_transaction(c_, std::move(t), [](Status st) { ASSERT_TRUE(st.ok()); });
  };
  // A burst queued behind a big write commits as one or two groups; its 4 KiB
  // objects got consecutive blocks, so they reach the device in a few writevs.
  queue("big", pattern(8 << 20, 'g'));
  // A 3-block (12 KiB) object in the middle of the 4 KiB ones: a run crosses
  // writes of different sizes and keeps each object's bytes in place.
  for (int i = 0; i < 48; ++i) {
    if (i == 24) queue("mid", pattern(12288, 'm'));
    queue("small" + std::to_string(i), pattern(4096, static_cast<char>('a' + i % 26)));
  }
  ASSERT_TRUE(store_->flush().ok());
  BlockStoreStats st = store_->stats();
  EXPECT_LE(st.data_write_requests, 1u + 8u + 8u) << st.commit_groups << " groups";
  for (int i = 0; i < 48; ++i) {
    auto r = store_->read(c_, oid("small" + std::to_string(i)), 0, 0);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->to_string() == pattern(4096, static_cast<char>('a' + i % 26))) << i;
  }
  auto m = store_->read(c_, oid("mid"), 0, 0);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->to_string() == pattern(12288, 'm'));
  expect_fsck_clean();
  m = store_->read(c_, oid("mid"), 0, 0);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->to_string() == pattern(12288, 'm'));
}

// RocksDB's WAL files written ahead (wal_spare_bytes): a mount's WAL starts as a
// spare of zeros and a background thread writes the next spare. Records written
// into the spare, and past its end, replay after a remount (the log reader skips
// the zero tail). A spare left half-written, or of another size, is replaced.
TEST_F(BlockStoreTest, WalFilesStartWrittenAheadAndReplayThroughTheirZeroTail) {
  constexpr uint64_t kSpare = 64 << 10;
  opts_.wal_spare_bytes = kSpare;
  format(32ull << 20);
  const std::string db = dir_.path() + "/db", spare = db + "/cairn-wal-spare";
  auto file_size = [](const std::string& path) -> int64_t {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
  };
  auto wait_for_spare = [&] {
    for (int i = 0; i < 1000 && file_size(spare) != int64_t(kSpare); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return file_size(spare) == int64_t(kSpare);
  };
  EXPECT_EQ(store_->stats().wal_spares_taken, 1u);
  EXPECT_EQ(store_->stats().plain_wals, 0u);
  ASSERT_TRUE(wait_for_spare()) << "no next spare";
  {
    std::string bytes(kSpare, 'x');
    int fd = ::open(spare.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(::pread(fd, bytes.data(), bytes.size(), 0), ssize_t(kSpare));
    ::close(fd);
    EXPECT_EQ(bytes, std::string(kSpare, '\0')) << "a spare holds only zeros";
  }
  std::string wal;  // the newest WAL: the one in use, taken from a spare
  for (auto& e : std::filesystem::directory_iterator(db))
    if (e.path().extension() == ".log" && e.path().string() > wal) wal = e.path().string();
  ASSERT_FALSE(wal.empty());
  EXPECT_GE(file_size(wal), int64_t(kSpare)) << wal << " did not start as a spare";

  // New objects, then small overwrites (deferred: their data rides in the WAL),
  // more bytes than the spare holds.
  std::map<std::string, std::string> want;
  for (int i = 0; i < 40; ++i) {
    std::string name = "w" + std::to_string(i);
    want[name] = pattern(4096, static_cast<char>('a' + i % 26));
    ASSERT_TRUE(write(oid(name), 0, want[name]).ok());
  }
  for (int i = 0; i < 40; ++i) {
    std::string name = "w" + std::to_string(i), patch = "patch" + std::to_string(i);
    ASSERT_TRUE(write(oid(name), 100, patch).ok());
    want[name].replace(100, patch.size(), patch);
  }
  EXPECT_GT(file_size(wal), int64_t(kSpare)) << "the WAL should have outgrown its spare";
  store_.reset();  // no memtable flush: the remount replays the WAL

  int fd = ::open((spare + ".tmp").c_str(), O_WRONLY | O_CREAT, 0644);  // a spare being written
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "junk", 4), 4);
  ::close(fd);
  ASSERT_EQ(::truncate(spare.c_str(), 4096), 0);  // and one of another size
  mount();
  EXPECT_EQ(file_size(spare + ".tmp"), -1);
  EXPECT_EQ(store_->stats().wal_spares_taken, 1u) << "mount wrote a fresh spare for its WAL";
  for (auto& [name, data] : want) {
    auto r = store_->read(c_, oid(name), 0, 0);
    ASSERT_TRUE(r.ok()) << name;
    EXPECT_TRUE(r->to_string() == data) << name;
  }
  ASSERT_TRUE(wait_for_spare());
  expect_fsck_clean();
}

TEST_F(BlockStoreTest, SmallOverwritesAreDeferredAndSurviveRemount) {
  format(32ull << 20);
  std::string data = pattern(64 * 1024, 'd');
  ASSERT_TRUE(write(oid("d"), 0, data).ok());
  for (int i = 0; i < 50; ++i) {
    std::string patch = "patch" + std::to_string(i);
    uint64_t off = static_cast<uint64_t>(i) * 1237 % 60000;
    ASSERT_TRUE(write(oid("d"), off, patch).ok());
    data.replace(off, patch.size(), patch);
  }
  EXPECT_GE(store_->stats().deferred_writes, 1u);
  auto r = store_->read(c_, oid("d"), 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->to_string() == data);
  expect_fsck_clean();
  auto r2 = store_->read(c_, oid("d"), 0, 0);
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2->to_string() == data);
}

// Objects past one extent-map shard (256 KiB) keep their map in shard keys and
// rewrite only the shards a write changes; growing, shrinking back, moving,
// cloning and removing keep every byte and leave no shard behind (fsck counts
// shard keys that no onode lists).
TEST_F(BlockStoreTest, ShardedExtentMapsSurviveEveryChangeOfForm) {
  format(64ull << 20);
  const CollectionId c2{1, 7};
  {
    Transaction t;
    t.create_collection(c2);
    ASSERT_TRUE(apply_transaction(*store_, c2, std::move(t)).ok());
  }
  std::map<std::string, std::string> model;
  auto put = [&](const std::string& name, uint64_t off, const std::string& data) {
    ASSERT_TRUE(write(oid(name), off, data).ok());
    std::string& m = model[name];
    if (m.size() < off + data.size()) m.resize(off + data.size(), '\0');
    m.replace(off, data.size(), data);
  };
  auto check = [&](const CollectionId& c, const std::string& name, const std::string& want) {
    auto r = store_->read(c, oid(name), 0, 0);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().to_string();
    EXPECT_TRUE(r->to_string() == want) << name;
  };
  put("big", 0, pattern(4 << 20, 'b'));  // 16 shards
  {
    // A 4 KiB overwrite of a 4 MiB object commits its block, the onode and one
    // ~280-byte shard, not the object's whole 4 KiB map.
    const uint64_t kv0 = store_->stats().kv_bytes;
    for (int i = 0; i < 8; ++i)
      put("big", static_cast<uint64_t>(i) * 300000 / 4096 * 4096, pattern(4096, 'o'));
    const uint64_t per = (store_->stats().kv_bytes - kv0) / 8;
    EXPECT_GT(per, 4096u);
    EXPECT_LT(per, 5200u) << "bytes committed per 4 KiB overwrite";
  }
  SeededRandom r(11);
  for (int i = 0; i < 60; ++i) {
    uint64_t off = r.uniform(4 << 20);
    std::string patch = pattern(1 + r.uniform(i % 3 == 0 ? 70000 : 5000), static_cast<char>('a' + i % 26));
    off = std::min<uint64_t>(off, (4 << 20) - patch.size());
    put("big", off, patch);  // deferred and fresh-block writes, across shard edges
  }
  put("grows", 0, pattern(100000, 'g'));     // inline ...
  put("grows", 300000, pattern(5000, 'h'));  // ... sharded, a hole between
  {
    Transaction t;
    t.truncate(c_, oid("big"), 1 << 20);
    t.zero(c_, oid("big"), 200000, 300000);
    ASSERT_TRUE(apply(std::move(t)).ok());
    model["big"].resize(1 << 20);
    std::fill_n(model["big"].begin() + 200000, 300000, '\0');
  }
  check(c_, "big", model["big"]);
  check(c_, "grows", model["grows"]);
  expect_fsck_clean();
  check(c_, "big", model["big"]);
  check(c_, "grows", model["grows"]);
  {
    Transaction t;
    t.truncate(c_, oid("grows"), 10000);  // back inline: its shards go
    t.clone(c_, oid("big"), oid("copy"));
    ASSERT_TRUE(apply(std::move(t)).ok());
    model["grows"].resize(10000);
  }
  {
    Transaction t;
    t.move(c_, oid("big"), c2, oid("moved"));  // same nid: the shards stay where they are
    ASSERT_TRUE(apply(std::move(t)).ok());
  }
  expect_fsck_clean();
  check(c_, "grows", model["grows"]);
  check(c_, "copy", model["big"]);
  check(c2, "moved", model["big"]);
  ASSERT_TRUE(write(oid("copy"), 999999, "x").ok());  // a copy's shards are its own
  check(c2, "moved", model["big"]);
  {
    Transaction t;
    t.remove(c2, oid("moved"));
    ASSERT_TRUE(apply_transaction(*store_, c2, std::move(t)).ok());
    Transaction t2;
    t2.remove(c_, oid("copy"));
    ASSERT_TRUE(apply(std::move(t2)).ok());
  }
  expect_fsck_clean();
  // A lost shard key is corruption: reads and fsck say so rather than serve holes.
  put("last", 0, pattern(300000, 'l'));  // two shards
  store_.reset();
  {
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.path() + "/db", &db).ok());
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->Seek("X");
    ASSERT_TRUE(it->Valid() && it->key().starts_with("X")) << "no shard keys stored";
    std::string victim = it->key().ToString();
    it.reset();
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ASSERT_TRUE(db->Delete(wo, victim).ok());
    delete db;
  }
  auto f = BlockStore::fsck(opts_, false);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->bad_onodes, 1u);
  mount();
  check(c_, "grows", model["grows"]);
  auto bad = store_->read(c_, oid("last"), 0, 0);
  EXPECT_EQ(bad.code(), Errc::kCorrupt) << bad.status().to_string();
}

// 'D' records normally ride in a later group's batch; when writes stop, the
// store deletes them itself after a short quiet spell, and the blocks they
// named (freed meanwhile, so held) become free again. A clean unmount leaves
// no record behind.
// Space that is about to be free is not ENOSPC: a write that needs the blocks
// of an object just removed waits for them, both when the removal has not
// committed yet and when its blocks are still named by deferred-write records
// (held until those records are deleted).
TEST_F(BlockStoreTest, AWriteShortOfSpaceWaitsForBlocksBeingFreed) {
  opts_.prepare_ahead_bytes = 0;  // free space moves only with our writes
  format(16ull << 20);
  const uint64_t room = store_->statfs()->available;
  const std::string big = pattern(room - (64u << 10), 'a');
  ASSERT_TRUE(write(oid("a"), 0, big).ok());
  // Built first, queued back to back: in-place overwrites of "a" (records
  // naming its blocks, deleted only later), its removal, and "b" as big, which
  // needs the blocks "a" frees.
  std::vector<Transaction> txns;
  for (int i = 0; i < 8; ++i) {
    txns.emplace_back();
    txns.back().write(c_, oid("a"), static_cast<uint64_t>(i) * 8192, bl("patch"));
  }
  txns.emplace_back();
  txns.back().remove(c_, oid("a"));
  const std::string want = pattern(big.size(), 'b');
  txns.emplace_back();
  txns.back().write(c_, oid("b"), 0, bl(want));
  std::mutex mu;
  std::vector<Status> done;
  for (Transaction& t : txns) {
    store_->queue_transaction(c_, std::move(t), [&](Status st) {
      std::lock_guard lock(mu);
      done.push_back(st);
    });
  }
  ASSERT_TRUE(store_->flush().ok());
  ASSERT_EQ(done.size(), txns.size());
  for (const Status& st : done) EXPECT_TRUE(st.ok()) << st.to_string();
  EXPECT_GE(store_->stats().deferred_writes, 8u);  // the patches went the deferred way
  auto r = store_->read(c_, oid("b"), 0, 0);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->to_string() == want);
  // Truly full is still ENOSPC.
  EXPECT_EQ(write(oid("c"), 0, pattern(256u << 10, 'c')).code(), Errc::kNoSpace);
  expect_fsck_clean();
}

TEST_F(BlockStoreTest, AQuietStoreRetiresDeferredRecordsAndFreesTheirBlocks) {
  opts_.prepare_ahead_bytes = 0;  // free space moves only with our writes
  format(32ull << 20);
  auto available = [&] { return store_->statfs()->available; };
  const uint64_t before = available();
  ASSERT_TRUE(write(oid("d"), 0, pattern(64 * 1024, 'd')).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(write(oid("d"), static_cast<uint64_t>(i) * 4096, "patch").ok());
  Transaction t;
  t.remove(c_, oid("d"));
  ASSERT_TRUE(apply(std::move(t)).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (available() != before && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(available(), before) << "blocks named by deferred records were never freed";
  EXPECT_GE(store_->stats().deferred_writes, 10u);  // the patches did go the deferred way
  // More overwrites, then an unmount straight away: no record survives it.
  ASSERT_TRUE(write(oid("e"), 0, pattern(64 * 1024, 'e')).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(write(oid("e"), static_cast<uint64_t>(i) * 4096, "patch").ok());
  store_.reset();
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.path() + "/db", &db).ok());
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  int records = 0;
  for (it->Seek("D"); it->Valid() && it->key().starts_with("D"); it->Next()) ++records;
  it.reset();
  delete db;
  EXPECT_EQ(records, 0);
}

// A 'D' record may be deleted only once a flush has made its in-place write
// durable. The power cut comes in the group that would delete it too early:
// overwrite one (its in-place write completes while the next commits), overwrite
// two, then a third group stops before its WAL flush, with every device write no
// flush covered garbled. Both acknowledged overwrites must read back (their
// records replay at mount). The child process is the one that loses power.
TEST_F(BlockStoreTest, ADeferredRecordOutlivesItsInPlaceWriteUntilAFlush) {
  opts_.wal_spare_bytes = 256 << 10;  // a crash point between the WAL's pages and its flush
  opts_.deferred_retire_batch = 1;    // records are deleted as soon as the store may
  opts_.prepare_ahead_bytes = 0;
  format(32ull << 20);
  std::string data = pattern(64 * 1024, 'a');
  ASSERT_TRUE(write(oid("a"), 0, data).ok());
  store_.reset();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    BlockStoreOptions o = opts_;
    o.test_track_unflushed = true;
    std::atomic<BlockStore*> armed{nullptr};
    o.crash_hook = [&](CrashPoint p) {
      BlockStore* s = armed.load();
      if (!s || p != CrashPoint::kBeforeWalFlush) return;
      _exit(s->simulate_power_loss().ok() ? 0 : 5);
    };
    auto s = BlockStore::open(o);
    if (!s.ok()) _exit(2);
    auto apply_now = [&](Transaction t) { return apply_transaction(**s, c_, std::move(t)).ok(); };
    Transaction t1;
    t1.write(c_, oid("a"), 0, bl(std::string(4096, 'X')));
    if (!apply_now(std::move(t1))) _exit(3);
    // The second overwrite's callback fires before its group submits its own
    // in-place write (and so completes the first's): the third is queued from
    // there, with no idle gap in which the store would flush and retire.
    std::promise<void> third_done;
    Transaction t2;
    t2.write(c_, oid("a"), 4096, bl(std::string(4096, 'Y')));
    (*s)->queue_transaction(c_, std::move(t2), [&](Status st) {
      if (!st.ok()) _exit(3);
      armed = s->get();
      Transaction t3;
      t3.setattrs(c_, oid("a"), {{"k", bl("v")}});
      (*s)->queue_transaction(c_, std::move(t3), [&](Status) { third_done.set_value(); });
    });
    third_done.get_future().wait();
    _exit(4);  // the third group never reached its WAL flush
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 0);
  data.replace(0, 4096, std::string(4096, 'X'));
  data.replace(4096, 4096, std::string(4096, 'Y'));
  mount();
  auto r = store_->read(c_, oid("a"), 0, 0);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->to_string() == data);
  expect_fsck_clean();
}

// Without share_wal_flush (a raw device, or RocksDB on another file system) the
// WAL's sync flushes nothing of the data device, so it must not count as the
// flush that lets a 'D' record go: only a flush of the device itself does. A
// chain of groups with no idle gap (the idle path flushes the device anyway):
// two overwrites, then metadata-only groups whose batches may delete records.
TEST_F(BlockStoreTest, WithoutASharedFlushOnlyADeviceFlushRetiresDeferredRecords) {
  opts_.share_wal_flush = false;
  opts_.deferred_retire_batch = 1;
  opts_.prepare_ahead_bytes = 0;
  format(32ull << 20);
  ASSERT_TRUE(write(oid("a"), 0, pattern(64 * 1024, 'a')).ok());
  store_.reset();
  mount();  // no data written since this mount: no device flush is due
  const BlockStoreStats before = store_->stats();
  constexpr int kGroups = 8;
  std::promise<BlockStoreStats> last;
  std::function<void(int)> queue = [&](int i) {
    Transaction t;
    if (i < 2) {
      t.write(c_, oid("a"), i * 4096, bl(std::string(4096, static_cast<char>('X' + i))));
    } else {
      t.setattrs(c_, oid("a"), {{"k", bl(std::to_string(i))}});
    }
    store_->queue_transaction(c_, std::move(t), [&, i](Status st) {
      EXPECT_TRUE(st.ok()) << st.to_string();
      if (i + 1 < kGroups) {
        queue(i + 1);
      } else {
        last.set_value(store_->stats());  // before any idle retirement
      }
    });
  };
  queue(0);
  const BlockStoreStats after = last.get_future().get();
  const uint64_t retired = after.deferred_retired - before.deferred_retired;
  const uint64_t flushes = after.device_flushes - before.device_flushes;
  EXPECT_GT(retired, 0u) << "records are retired while groups keep coming";
  EXPECT_GT(flushes, 0u) << retired << " records retired with no flush of the device";
  std::string want = pattern(64 * 1024, 'a');
  want.replace(0, 4096, std::string(4096, 'X'));
  want.replace(4096, 4096, std::string(4096, 'Y'));
  auto r = store_->read(c_, oid("a"), 0, 0);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->to_string() == want);
  expect_fsck_clean();
}

TEST_F(BlockStoreTest, MkfsRefusesFormattedAndMountChecksIdentity) {
  format(16ull << 20);
  store_.reset();
  EXPECT_EQ(BlockStore::mkfs(opts_).code(), Errc::kExists);
  // A superblock with a flipped byte is refused, not trusted.
  flip_byte(20);
  auto bad = BlockStore::open(opts_);
  EXPECT_EQ(bad.code(), Errc::kCorrupt);
  flip_byte(20);
  mount();
  // Another store's device with this store's metadata: refused.
  testing::TempDir other;
  BlockStoreOptions o2 = opts_;
  o2.path = other.path();
  ASSERT_TRUE(BlockStore::mkfs(o2).ok());
  store_.reset();
  BlockStoreOptions mixed = opts_;
  mixed.device = other.path() + "/block";
  EXPECT_EQ(BlockStore::open(mixed).code(), Errc::kCorrupt);
}

// Edits the allocation bitmap behind the store's back, as a bug or bit rot in
// RocksDB could, and checks that fsck reports it.
TEST_F(BlockStoreTest, FsckFindsLeaksAndBlocksMappedButFree) {
  // The object must land on the first data block: no preparer holding it meanwhile.
  opts_.prepare_ahead_bytes = 0;
  format(16ull << 20);
  ASSERT_TRUE(write(oid("a"), 0, pattern(8 * 4096, 'a')).ok());
  store_.reset();
  auto flip_bit = [&](uint64_t block) {
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.path() + "/db", &db).ok());
    std::string key("B");
    key.append(7, '\0');
    key.push_back('\0');  // group 0, big-endian
    std::string v;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &v).ok());
    v[block / 8] = static_cast<char>(v[block / 8] ^ (1 << (block % 8)));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ASSERT_TRUE(db->Put(wo, key, v).ok());
    delete db;
  };
  flip_bit(1000);  // free -> used by nobody: a leak
  auto r = BlockStore::fsck(opts_, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->leaked_blocks, 1u);
  EXPECT_EQ(r->unallocated_mapped, 0u);
  EXPECT_FALSE(r->clean());
  flip_bit(1000);
  flip_bit(16);  // the object's first block (the first data block) -> marked free
  r = BlockStore::fsck(opts_, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->leaked_blocks, 0u);
  EXPECT_EQ(r->unallocated_mapped, 1u);
  EXPECT_FALSE(r->clean());
}

// Reads through a shard's own ring agree with read(), holes and in-memory
// deferred blocks included, and fail with kIo on a bad block.
// A payload-sized read wholly from the device keeps its blocks' verified crcs (so
// the reply's frame crc is combined, not recomputed); a read with a hole does not.
TEST_F(BlockStoreTest, LargeReadsKeepTheirBlockCrcs) {
  format(32ull << 20);
  std::string data = pattern(2 << 20, 'L');
  ASSERT_TRUE(write(oid("big"), 0, data).ok());
  ASSERT_TRUE(write(oid("holey"), (2 << 20) - 4096, "end").ok());
  auto ring = UringDevice::open(store_->device_path(), {32, true});
  ASSERT_TRUE(ring.ok());
  for (bool async : {false, true}) {
    SCOPED_TRACE(async);
    auto read = [&](const char* name) -> Result<BufferList> {
      if (!async) return store_->read(c_, oid(name), 0, 0);
      std::optional<Result<BufferList>> got;
      store_->read_async(**ring, c_, oid(name), 0, 0, [&](Result<BufferList> r) { got = std::move(r); });
      while (!got) EXPECT_TRUE((*ring)->poll(true).ok());
      return std::move(*got);
    };
    auto r = read("big");
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(*r == data);
    const char* p = r->segments()[0].data();
    std::vector<uint32_t> crcs;
    ASSERT_TRUE(get_block_crcs(p, 512, crcs));
    for (size_t k = 0; k < 512; k += 37) EXPECT_EQ(crcs[k], crc32c(0, p + k * 4096, 4096)) << k;
    EXPECT_EQ(crc32c(0, *r), crc32c(data));
    auto h = read("holey");
    ASSERT_TRUE(h.ok());
    EXPECT_FALSE(get_block_crcs(h->segments()[0].data(), 1, crcs));
  }
}

TEST_F(BlockStoreTest, AsyncReadsOnTheCallersRing) {
  format(32ull << 20);
  std::string data = pattern(40000, 'q');
  data.replace(20000, 16, "ASYNC-NEEDLE-XYZ");  // unique on the device (the pattern repeats)
  ASSERT_TRUE(write(oid("r"), 0, data).ok());
  ASSERT_TRUE(write(oid("r"), 100000, "tail after a hole").ok());
  ASSERT_TRUE(write(oid("r"), 5, "patch").ok());  // deferred
  auto ring = UringDevice::open(store_->device_path(), {32, true});
  ASSERT_TRUE(ring.ok()) << ring.status().to_string();
  auto read_async = [&](uint64_t off, uint64_t len) { return read_on(**ring, "r", off, len); };
  for (auto [off, len] :
       std::vector<std::pair<uint64_t, uint64_t>>{{0, 0}, {3, 9000}, {39990, 70000}, {200000, 5}}) {
    auto want = store_->read(c_, oid("r"), off, len);
    auto got = read_async(off, len);
    ASSERT_TRUE(want.ok() && got.ok()) << got.status().to_string();
    EXPECT_TRUE(*got == *want) << off << "+" << len;
  }
  std::optional<Result<BufferList>> missing;
  store_->read_async(**ring, c_, oid("nope"), 0, 0, [&](Result<BufferList> r) { missing = std::move(r); });
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->code(), Errc::kNotFound);
  store_.reset();
  ring->reset();
  off_t at = find_on_device("ASYNC-NEEDLE-XYZ");
  ASSERT_GE(at, 0);
  flip_byte(at);
  mount();
  ring = UringDevice::open(store_->device_path(), {32, true});
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(read_async(0, 0).code(), Errc::kIo);
  EXPECT_TRUE(read_async(0, 4096).ok());
}

// The data cache (data_cache_bytes): small read_async reads keep their verified
// blocks and later ones are served from memory; read() still goes to the device
// (bit rot under a cached block is what scrub must see); an entry whose block has
// since been overwritten in place, or freed and given to another object, is never
// returned; and the cache holds no more than its size.
TEST_F(BlockStoreTest, DataCacheServesRepeatedSmallReadsAndNeverStaleBytes) {
  opts_.data_cache_bytes = 64 * 4096;  // 64 blocks
  format(32ull << 20);
  auto ring = UringDevice::open(store_->device_path(), {32, true});
  ASSERT_TRUE(ring.ok()) << ring.status().to_string();
  auto read_async = [&](const std::string& name, uint64_t off, uint64_t len) {
    return read_on(**ring, name, off, len);
  };
  std::string a = pattern(8192, 'a');
  a.replace(100, 16, "CACHE-NEEDLE-ABC");
  ASSERT_TRUE(write(oid("a"), 0, a).ok());
  auto r = read_async("a", 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->to_string(), a);
  // One lookup: a run of blocks contiguous on the device is read as one I/O
  // from its first block that missed, and cached whole.
  EXPECT_EQ(store_->stats().data_cache_misses, 1u);
  EXPECT_EQ(store_->stats().data_cache_hits, 0u);
  r = read_async("a", 50, 4000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->to_string(), a.substr(50, 4000));
  EXPECT_EQ(store_->stats().data_cache_hits, 1u);

  // Bit rot under a cached block: read_async returns the verified copy, read()
  // reads the device and fails.
  off_t at = find_on_device("CACHE-NEEDLE-ABC");
  ASSERT_GE(at, 0);
  flip_byte(at);
  r = read_async("a", 0, 4096);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->to_string(), a.substr(0, 4096));
  EXPECT_EQ(store_->read(c_, oid("a"), 0, 4096).code(), Errc::kIo);
  flip_byte(at);

  // A small overwrite goes in place (deferred): the cached block is old. Until
  // the in-place write completes (after the commit) reads take the block from
  // memory; wait for it, so this read meets the cached block and the device.
  ASSERT_TRUE(write(oid("a"), 10, "overwritten").ok());
  ASSERT_TRUE(store_->flush().ok());
  for (int i = 0; i < 500 && store_->stats().deferred_writes == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(store_->stats().deferred_writes, 1u);
  a.replace(10, 11, "overwritten");
  r = read_async("a", 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->to_string(), a) << "stale cached bytes after an in-place overwrite";

  // Freed blocks go to new objects: each read returns its own object's bytes.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 8; ++i) {
      std::string name = "f" + std::to_string(i);
      std::string data = pattern(4096, static_cast<char>('k' + round * 8 + i));
      Transaction t;
      if (round > 0) t.remove(c_, oid(name));
      t.write(c_, oid(name), 0, bl(data));
      ASSERT_TRUE(apply(std::move(t)).ok());
      auto got = read_async(name, 0, 0);
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(got->to_string(), data) << name << " round " << round;
    }
  }

  // More distinct blocks than the cache holds: all read back right, twice.
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < 100; ++i) {
      std::string name = "e" + std::to_string(i);
      if (pass == 0) {
        ASSERT_TRUE(write(oid(name), 0, pattern(4096, static_cast<char>('A' + i % 26))).ok());
      }
      auto got = read_async(name, 0, 0);
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(got->to_string(), pattern(4096, static_cast<char>('A' + i % 26))) << name;
    }
  }
  // Hits: a's second read, the read over bit rot. The second pass over 100
  // blocks found none (LRU with 64: each was evicted before it came round
  // again). Misses: a, a's rewritten block (its run goes on over the unchanged
  // one), 24 new f objects, 200 e reads.
  BlockStoreStats st = store_->stats();
  EXPECT_EQ(st.data_cache_hits, 2u);
  EXPECT_EQ(st.data_cache_misses, 1u + 1u + 24u + 200u);
}

TEST_F(BlockStoreTest, BadOptionsAreRejected) {
  BlockStoreOptions o;
  o.path = dir_.path();
  o.device_bytes = 16ull << 20;
  o.max_group_txns = 0;
  EXPECT_EQ(BlockStore::mkfs(o).code(), Errc::kInvalid);
  o.max_group_txns = 64;
  o.device_bytes = 1 << 20;  // too small to hold anything
  EXPECT_EQ(BlockStore::mkfs(o).code(), Errc::kInvalid);
  BlockStoreOptions none;
  EXPECT_EQ(BlockStore::open(none).code(), Errc::kInvalid);
}

// What the onode cache holds is what it charges: an xattr built by small appends
// (as an encoded object info is, inside a 4 KiB append segment) or decoded from a
// replicated transaction costs about its own size, not a segment per object. The
// OSD's RSS grew by ~4 KiB per object written before values were copied exactly.
TEST_F(BlockStoreTest, CachedXattrsCostTheirSizeNotTheirEncodeBuffer) {
  opts_.cache_bytes = 256ull << 20;  // nothing evicted: every onode stays cached
  format(256ull << 20);
  constexpr int kObjects = 4000;
  auto heap = [] { return static_cast<int64_t>(mallinfo2().uordblks + mallinfo2().hblkhd); };
  int64_t before = heap();
  uint64_t cache_before = store_->stats().onode_cache_bytes;
  for (int i = 0; i < kObjects; ++i) {
    BufferList info;
    for (int k = 0; k < 12; ++k) info.append(pattern(10, char('a' + k)));  // 120 bytes, in small appends
    Transaction t;
    ObjectId o = oid("obj-" + std::to_string(i));
    t.write(c_, o, 0, bl(pattern(4096, char(i))));
    t.setattrs(c_, o, AttrMap{{"_", std::move(info)}});
    if (i % 2 == 1) {  // as a replica gets it: decoded from the primary's message
      auto d = decode_from<Transaction>(encode_to_buffer(t));
      ASSERT_TRUE(d.ok()) << d.status().to_string();
      t = std::move(*d);
    }
    ASSERT_TRUE(apply(std::move(t)).ok()) << i;
  }
  int64_t per_object = (heap() - before) / kObjects;
  uint64_t charged = (store_->stats().onode_cache_bytes - cache_before) / kObjects;
  // The cache charges a few hundred bytes per onode; RocksDB's memtable adds its
  // share. A 4 KiB segment pinned per object would put this well over 4 KiB.
  EXPECT_GT(charged, 120u);
  EXPECT_LT(per_object, 3 * 1024) << "cache charges " << charged << " bytes per object";
  auto r = store_->getattr(c_, oid("obj-7"), "_");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 120u);
}

TEST_F(BlockStoreTest, FsckCleanAfterMixedWorkload) {
  format(64ull << 20);
  for (int i = 0; i < 200; ++i) {
    Transaction t;
    ObjectId o = oid("w" + std::to_string(i % 13));
    t.write(c_, o, static_cast<uint64_t>(i * 7919 % 200000), bl(pattern(1 + i * 613 % 70000, char(i))));
    if (i % 5 == 0) t.truncate(c_, o, static_cast<uint64_t>(i * 104729 % 150000));
    if (i % 7 == 0) t.zero(c_, o, 4096, 20000);
    if (i % 11 == 0) t.remove(c_, o);
    if (i % 17 == 0) t.clone(c_, oid("w0"), oid("clone"));
    Status st = apply(std::move(t));
    EXPECT_TRUE(st.ok() || st.code() == Errc::kNotFound) << st.to_string();
  }
  expect_fsck_clean();
  auto fs = store_->statfs();
  ASSERT_TRUE(fs.ok());
  EXPECT_EQ(fs->used + fs->available, fs->total);
}

}  // namespace
}  // namespace cairn::store
