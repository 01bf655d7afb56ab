// Crash consistency of the BlockStore. A writer process (store_crash_writer)
// runs a deterministic workload and reports each committed transaction; it is
// killed with SIGKILL at a random moment, or stops itself at a chosen point of
// the write path. After each crash the store is remounted and compared with a
// MemStore that applied exactly the durable prefix of the workload: every
// reported commit must be there, no transaction may be partly visible, and fsck
// must be clean.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "osd/store/block_store.h"
#include "osd/store/mem_store.h"
#include "store_test_util.h"
#include "workload.h"

namespace cairn::store {
namespace {

using testing::kWorkloadColl;

// CAIRN_CRASH_SEED and CAIRN_CRASH_ROUNDS override these for longer soaks.
uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}
const uint64_t kSeed = env_or("CAIRN_CRASH_SEED", 20261122);
const int kRounds = static_cast<int>(env_or("CAIRN_CRASH_ROUNDS", 24));

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opts_.path = dir_.path();
    opts_.device_bytes = 16ull << 20;  // small: the allocator wraps and reuses freed blocks often
    opts_.cache_bytes = 16ull << 20;
    ASSERT_TRUE(BlockStore::mkfs(opts_).ok());
    auto s = BlockStore::open(opts_);
    ASSERT_TRUE(s.ok());
    Transaction t;
    t.create_collection(kWorkloadColl);
    ASSERT_TRUE(apply_transaction(**s, kWorkloadColl, std::move(t)).ok());
    Transaction m;
    m.create_collection(kWorkloadColl);
    ASSERT_TRUE(apply_transaction(model_, kWorkloadColl, std::move(m)).ok());
  }

  // Runs the writer from transaction `start`; returns one past the last reported commit.
  uint64_t run_writer(uint64_t start, uint64_t count, std::optional<std::pair<int, int>> crash,
                      int kill_after_ms) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      std::vector<std::string> args{CAIRN_CRASH_WRITER,    opts_.path,
                                    std::to_string(kSeed), std::to_string(start),
                                    std::to_string(count), "16"};
      if (crash) {
        args.push_back(std::to_string(crash->first));
        args.push_back(std::to_string(crash->second));
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    uint64_t acked_end = start;
    std::string buf;
    auto drain = [&](int timeout_ms) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, timeout_ms) <= 0) return false;
      char tmp[4096];
      ssize_t n = read(fds[0], tmp, sizeof(tmp));
      if (n <= 0) return true;  // EOF
      buf.append(tmp, static_cast<size_t>(n));
      return false;
    };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kill_after_ms);
    while (kill_after_ms >= 0 && std::chrono::steady_clock::now() < deadline) {
      if (drain(5)) break;
    }
    if (kill_after_ms >= 0) kill(pid, SIGKILL);
    while (!drain(1000)) {
    }
    int status = 0;
    waitpid(pid, &status, 0);
    close(fds[0]);
    if (kill_after_ms < 0) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer status " << status;
    }
    for (size_t off = 0; off + 8 <= buf.size(); off += 8) {
      uint64_t i;
      std::memcpy(&i, buf.data() + off, 8);
      EXPECT_EQ(i, acked_end) << "commits reported out of order";
      acked_end = i + 1;
    }
    return acked_end;
  }

  // Remounts, checks against the model; returns the durable prefix length.
  uint64_t verify(uint64_t acked_end) {
    auto s = BlockStore::open(opts_);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    if (!s.ok()) return applied_;
    ObjectStore& store = **s;
    uint64_t durable = 0;
    auto seq = store.omap_get_values(kWorkloadColl, testing::workload_meta(), {"seq"});
    if (seq.ok() && seq->count("seq")) durable = std::stoull(seq->at("seq").to_string()) + 1;
    EXPECT_GE(durable, acked_end) << "a reported commit is missing";
    EXPECT_GE(durable, applied_);
    for (; applied_ < durable; ++applied_) {
      EXPECT_TRUE(apply_transaction(model_, kWorkloadColl, testing::make_workload_txn(kSeed, applied_)).ok());
    }
    compare(store);
    s->reset();
    auto report = BlockStore::fsck(opts_, true);
    EXPECT_TRUE(report.ok());
    if (report.ok()) {
      EXPECT_TRUE(report->clean()) << (report->errors.empty() ? "" : report->errors[0]);
    }
    return durable;
  }

  void compare(ObjectStore& store) {
    auto want = model_.list_objects(kWorkloadColl, ObjectId::min(), 1000);
    auto got = store.list_objects(kWorkloadColl, ObjectId::min(), 1000);
    ASSERT_TRUE(want.ok() && got.ok());
    ASSERT_EQ(got->objects, want->objects);
    for (const ObjectId& o : want->objects) {
      auto wd = model_.read(kWorkloadColl, o, 0, 0);
      auto gd = store.read(kWorkloadColl, o, 0, 0);
      ASSERT_TRUE(gd.ok()) << o.to_string() << ": " << gd.status().to_string();
      EXPECT_TRUE(*gd == *wd) << o.to_string() << " data differs (" << gd->size() << " vs " << wd->size()
                              << ")";
      auto wa = model_.getattrs(kWorkloadColl, o);
      auto ga = store.getattrs(kWorkloadColl, o);
      EXPECT_TRUE(ga.ok() && *ga == *wa) << o.to_string() << " xattrs differ";
      auto wo = model_.omap_list(kWorkloadColl, o, "", 1000);
      auto go = store.omap_list(kWorkloadColl, o, "", 1000);
      EXPECT_TRUE(go.ok() && go->entries == wo->entries) << o.to_string() << " omap differs";
      EXPECT_TRUE(*store.omap_get_header(kWorkloadColl, o) == *model_.omap_get_header(kWorkloadColl, o));
    }
  }

  void stop_at_each_step();

  testing::TempDir dir_;
  BlockStoreOptions opts_;
  MemStore model_;
  uint64_t applied_ = 0;
};

TEST_F(CrashTest, RandomSigkillRounds) {
  SeededRandom r(kSeed);
  uint64_t next = 0;
  for (int round = 0; round < kRounds && !HasFailure(); ++round) {
    int kill_ms = 40 + static_cast<int>(r.uniform(400));
    uint64_t acked = run_writer(next, 1000000, std::nullopt, kill_ms);
    uint64_t start = next;
    next = verify(acked);
    std::fprintf(stderr, "round %d: killed after %d ms, %llu reported, %llu durable\n", round, kill_ms,
                 static_cast<unsigned long long>(acked - start),
                 static_cast<unsigned long long>(next - start));
  }
  EXPECT_GT(next, 100u) << "the workload barely ran";
}

// RocksDB's WAL in files written ahead with zeros: after each kill its log
// reader meets the records and then a zero tail (or, past the small spare, a
// file that grew). Every WAL, the plain first one included, gets replayed.
TEST_F(CrashTest, RandomSigkillRoundsWithWalSpares) {
  constexpr uint64_t kSpare = 256 << 10;  // small: the WAL outgrows it within a round
  setenv("CAIRN_STORE_WAL_SPARE", std::to_string(kSpare).c_str(), 1);
  opts_.wal_spare_bytes = kSpare;
  SeededRandom r(kSeed + 1);
  uint64_t next = 0;
  for (int round = 0; round < kRounds / 2 && !HasFailure(); ++round) {
    int kill_ms = 40 + static_cast<int>(r.uniform(400));
    uint64_t acked = run_writer(next, 1000000, std::nullopt, kill_ms);
    next = verify(acked);
  }
  unsetenv("CAIRN_STORE_WAL_SPARE");
  EXPECT_GT(next, 50u) << "the workload barely ran";
  struct stat st {};
  ASSERT_EQ(::stat((dir_.path() + "/db/cairn-wal-spare").c_str(), &st), 0) << "no spare waits in db/";
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), kSpare);
}

TEST_F(CrashTest, StopAtEachWritePathStep) { stop_at_each_step(); }

TEST_F(CrashTest, StopAtEachWritePathStepWithDsyncWrites) {
  setenv("CAIRN_STORE_DSYNC", "1", 1);
  opts_.dsync_data_writes = true;
  stop_at_each_step();
  unsetenv("CAIRN_STORE_DSYNC");
}

// A power cut at each step: device writes no flush has covered are garbled
// before the process ends (the simulated disk's fault model).
// 'D' records are deleted two at a time, so deletions (which must follow a
// completed flush of their in-place blocks) meet the power cuts.
TEST_F(CrashTest, StopAtEachWritePathStepLosingUnflushedWrites) {
  setenv("CAIRN_STORE_POWERLOSS", "1", 1);
  setenv("CAIRN_STORE_RETIRE_BATCH", "2", 1);
  stop_at_each_step();
  unsetenv("CAIRN_STORE_RETIRE_BATCH");
  unsetenv("CAIRN_STORE_POWERLOSS");
}

// The same with written-ahead WAL files: a held group's WAL pages are written
// while the next group's data is in flight, and the WAL's Sync waits for that
// data before its flush (a crash point fires inside it).
TEST_F(CrashTest, StopAtEachWritePathStepLosingUnflushedWritesWithWalSpares) {
  setenv("CAIRN_STORE_POWERLOSS", "1", 1);
  setenv("CAIRN_STORE_RETIRE_BATCH", "2", 1);
  setenv("CAIRN_STORE_WAL_SPARE", "262144", 1);
  opts_.wal_spare_bytes = 262144;
  stop_at_each_step();
  unsetenv("CAIRN_STORE_WAL_SPARE");
  unsetenv("CAIRN_STORE_RETIRE_BATCH");
  unsetenv("CAIRN_STORE_POWERLOSS");
}

// Without share_wal_flush (a raw device, RocksDB on another file system) the
// WAL's sync is no flush of the data device, for the store and for the
// simulated disk alike: deferred records are retired only after a flush of the
// device itself.
TEST_F(CrashTest, StopAtEachWritePathStepLosingUnflushedWritesWithoutASharedFlush) {
  setenv("CAIRN_STORE_POWERLOSS", "1", 1);
  setenv("CAIRN_STORE_RETIRE_BATCH", "2", 1);
  setenv("CAIRN_STORE_SHARE", "0", 1);
  opts_.share_wal_flush = false;
  stop_at_each_step();
  unsetenv("CAIRN_STORE_SHARE");
  unsetenv("CAIRN_STORE_RETIRE_BATCH");
  unsetenv("CAIRN_STORE_POWERLOSS");
}

void CrashTest::stop_at_each_step() {
  uint64_t next = 0;
  for (int point = 0; point <= static_cast<int>(CrashPoint::kBeforeWalFlush); ++point) {
    for (int nth : {1, 4, 13}) {
      uint64_t start = next;
      uint64_t acked = run_writer(next, 400, std::make_pair(point, nth), -1);
      next = verify(acked);
      std::fprintf(stderr, "crash point %d (occurrence %d): %llu reported, %llu durable\n", point, nth,
                   static_cast<unsigned long long>(acked - start),
                   static_cast<unsigned long long>(next - start));
      ASSERT_FALSE(HasFailure()) << "crash point " << point << " nth " << nth;
    }
  }
}

}  // namespace
}  // namespace cairn::store
