// store_crash_writer: runs the deterministic workload against a BlockStore and
// writes the index of every transaction whose commit was reported, as 8 bytes
// to stdout (a pipe). The crash test kills it with SIGKILL, or it stops itself
// with _exit at a chosen CrashPoint.
//
//   store_crash_writer PATH SEED START COUNT INFLIGHT [CRASH_POINT NTH]
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "osd/store/block_store.h"
#include "workload.h"

using namespace cairn;
using namespace cairn::store;

namespace {
std::atomic<BlockStore*> g_store{nullptr};  // for the crash hook (commit thread)
}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 8) {
    std::fprintf(stderr, "usage: %s PATH SEED START COUNT INFLIGHT [CRASH_POINT NTH]\n", argv[0]);
    return 2;
  }
  BlockStoreOptions opts;
  opts.path = argv[1];
  opts.cache_bytes = 16ull << 20;
  // CAIRN_STORE_RETIRE_BATCH=N: 'D' records deleted by N (low: deletions mid-run,
  // not only at idle; the default keeps records, and so held blocks, around long).
  if (const char* batch = std::getenv("CAIRN_STORE_RETIRE_BATCH"))
    opts.deferred_retire_batch = static_cast<uint32_t>(std::strtoul(batch, nullptr, 10));
  const char* dsync = std::getenv("CAIRN_STORE_DSYNC");
  opts.dsync_data_writes = dsync && std::string(dsync) == "1";
  // CAIRN_STORE_SHARE=0: the WAL's sync is not taken for a flush of the data
  // device (as on a raw device or with RocksDB on another file system).
  const char* share = std::getenv("CAIRN_STORE_SHARE");
  opts.share_wal_flush = !(share && std::string(share) == "0");
  // With CAIRN_STORE_POWERLOSS=1 a crash point also garbles unflushed device writes.
  const char* powerloss = std::getenv("CAIRN_STORE_POWERLOSS");
  bool lose_unflushed = powerloss && std::string(powerloss) == "1";
  opts.test_track_unflushed = lose_unflushed;
  // CAIRN_STORE_WAL_SPARE=BYTES: RocksDB's WAL files start written ahead (zeros).
  if (const char* spare = std::getenv("CAIRN_STORE_WAL_SPARE"))
    opts.wal_spare_bytes = std::strtoull(spare, nullptr, 10);
  uint64_t seed = std::strtoull(argv[2], nullptr, 10), start = std::strtoull(argv[3], nullptr, 10);
  uint64_t count = std::strtoull(argv[4], nullptr, 10), inflight = std::strtoull(argv[5], nullptr, 10);
  if (argc == 8) {
    int point = std::atoi(argv[6]);
    auto nth = std::make_shared<std::atomic<long>>(std::atol(argv[7]));
    opts.crash_hook = [point, nth, lose_unflushed](CrashPoint p) {
      if (static_cast<int>(p) != point || --*nth > 0) return;
      BlockStore* s = g_store.load();
      if (lose_unflushed && s && !s->simulate_power_loss().ok()) _exit(5);
      _exit(0);
    };
  }
  auto store = BlockStore::open(opts);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().to_string().c_str());
    return 1;
  }
  g_store = store->get();
  std::mutex mu;
  std::condition_variable cv;
  uint64_t outstanding = 0;
  for (uint64_t i = start; i < start + count; ++i) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return outstanding < inflight; });
      ++outstanding;
    }
    (*store)->queue_transaction(testing::kWorkloadColl, testing::make_workload_txn(seed, i),
                                [&, i](Status st) {
                                  if (!st.ok()) {
                                    std::fprintf(stderr, "txn %llu failed: %s\n",
                                                 static_cast<unsigned long long>(i), st.to_string().c_str());
                                    _exit(3);
                                  }
                                  if (write(1, &i, sizeof(i)) != sizeof(i)) _exit(4);
                                  std::lock_guard lock(mu);
                                  --outstanding;
                                  cv.notify_one();
                                });
  }
  Status st = (*store)->flush();
  return st.ok() ? 0 : 1;
}
