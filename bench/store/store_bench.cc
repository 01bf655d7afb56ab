// store_bench: BlockStore rates next to raw O_DIRECT io_uring I/O on a file of the
// same size in the same directory (the ratio is what matters).
//
//   store_bench [--dir DIR] [--size BYTES] [--seconds S] [--only raw|store] [--dsync 1] [--group-delay US]
//               [--wal-spare BYTES]   (WAL files written ahead, as the OSD has them; 0: off)
//               [--deferred-max BYTES] (the store's deferred-write threshold; 0: every
//                                       overwrite goes to fresh blocks)
//               [--reads 0]            (the store's write runs only)
//
// Both files are written in full first, as fio lays out its file, so neither side
// pays for the file system allocating blocks during the run.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "common/env.h"
#include "common/log.h"
#include "osd/store/block_store.h"
#include "osd/store/uring_device.h"

using namespace cairn;
using namespace cairn::bench;
using store::BlockStore;
using store::CollectionId;
using store::ObjectId;
using store::Transaction;

namespace {

const CollectionId kColl{1, 0};
constexpr uint64_t kObjectBytes = 4ull << 20;  // like RADOS/RBD's default object size

ObjectId obj(const std::string& prefix, uint64_t i) {
  return ObjectId{static_cast<uint32_t>(i * 2654435761u), "", prefix + std::to_string(i), store::kHeadSnap};
}

bool prefill(const std::string& path, uint64_t bytes) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return false;
  std::string chunk(8 << 20, '\x11');
  for (uint64_t off = 0; off < bytes; off += chunk.size()) {
    if (pwrite(fd, chunk.data(), std::min<uint64_t>(chunk.size(), bytes - off), static_cast<off_t>(off)) <
        0) {
      ::close(fd);
      return false;
    }
  }
  fsync(fd);
  ::close(fd);
  return true;
}

// Keeps `qd` transactions in flight for `seconds` or `max_ops`; make(i) builds transaction i.
Sample store_writes(BlockStore& s, const char* name, uint32_t qd, double seconds, uint64_t max_ops,
                    uint64_t bytes_per_op, const std::function<Transaction(uint64_t)>& make) {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t inflight = 0, done = 0, failed = 0;
  const uint64_t kv0 = s.stats().kv_bytes;
  Meter m;
  uint64_t i = 0;
  for (; i < max_ops && m.elapsed() < seconds; ++i) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return inflight < qd; });
      ++inflight;
    }
    s.queue_transaction(kColl, make(i), [&](Status st) {
      std::lock_guard lock(mu);
      --inflight;
      ++done;
      if (!st.ok()) ++failed;
      cv.notify_one();
    });
  }
  (void)s.flush();
  if (failed) std::fprintf(stderr, "%s: %llu transactions failed\n", name, (unsigned long long)failed);
  Sample out = m.finish(name, done, done * bytes_per_op);
  if (done > 0)
    std::printf("store   (%s: %.0f bytes of RocksDB batches per transaction)\n", name,
                double(s.stats().kv_bytes - kv0) / double(done));
  return out;
}

// `threads` readers (store reads are synchronous: threads stand in for queue depth).
Sample store_reads(BlockStore& s, const char* name, uint32_t threads, double seconds, uint64_t objects,
                   uint32_t bs, bool random) {
  std::atomic<uint64_t> ops{0}, errors{0};
  Meter m;
  std::vector<std::thread> ts;
  for (uint32_t t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      SeededRandom r(t + 1);
      uint64_t seq = t;
      while (m.elapsed() < seconds) {
        uint64_t o, off;
        if (random) {
          o = r.uniform(objects);
          off = r.uniform(kObjectBytes / bs) * bs;
        } else {
          uint64_t n = seq++ * threads % (objects * (kObjectBytes / bs));
          o = n / (kObjectBytes / bs);
          off = n % (kObjectBytes / bs) * bs;
        }
        if (!s.read(kColl, obj("s", o), off, bs).ok()) errors++;
        ops++;
      }
    });
  }
  for (auto& t : ts) t.join();
  if (errors) std::fprintf(stderr, "%s: %llu reads failed\n", name, (unsigned long long)errors.load());
  return m.finish(name, ops, ops * bs);
}

// Random reads as the OSD does them: read_async on one ring of the caller's,
// `qd` in flight from one thread (fio's model too); no data cache (off here).
Sample store_reads_ring(BlockStore& s, const char* name, uint32_t qd, double seconds, uint64_t objects,
                        uint32_t bs) {
  auto ring = store::UringDevice::open(s.device_path(), {qd, true});
  if (!ring.ok()) {
    std::fprintf(stderr, "%s: %s\n", name, ring.status().to_string().c_str());
    return Meter().finish(name, 0, 0);
  }
  uint64_t ops = 0, errors = 0, in_flight = 0;
  SeededRandom r(7);
  Meter m;
  std::function<void()> issue = [&] {
    ++in_flight;
    uint64_t o = r.uniform(objects), off = r.uniform(kObjectBytes / bs) * bs;
    s.read_async(**ring, kColl, obj("s", o), off, bs, [&](Result<BufferList> got) {
      --in_flight;
      ++ops;
      if (!got.ok()) ++errors;
      if (m.elapsed() < seconds) issue();
    });
  };
  for (uint32_t i = 0; i < qd; ++i) issue();
  while (in_flight > 0)
    if (!(*ring)->poll(true).ok()) break;
  if (errors) std::fprintf(stderr, "%s: %llu reads failed\n", name, (unsigned long long)errors);
  return m.finish(name, ops, ops * bs);
}

void run_store(const std::string& dir, uint64_t size, double seconds, bool dsync, long group_delay_us,
               uint64_t wal_spare, long deferred_max, bool reads) {
  store::BlockStoreOptions o;
  if (deferred_max >= 0) o.deferred_max_bytes = static_cast<uint64_t>(deferred_max);
  o.path = dir + "/store";
  o.dsync_data_writes = dsync;
  o.wal_spare_bytes = wal_spare;
  if (group_delay_us >= 0) o.group_commit_delay_us = static_cast<uint32_t>(group_delay_us);
  std::filesystem::create_directories(o.path);
  if (!prefill(o.path + "/block", size) || !BlockStore::mkfs(o).ok()) {
    std::fprintf(stderr, "store mkfs failed\n");
    return;
  }
  auto opened = BlockStore::open(o);
  if (!opened.ok()) return;
  BlockStore& s = **opened;
  Transaction c;
  c.create_collection(kColl);
  (void)apply_transaction(s, kColl, std::move(c));
  // Payloads as the OSD hands them to the store: one page-aligned buffer each (its
  // payload pool), so block-aligned writes are not copied again. The store still
  // computes every block's crc (the OSD's received payloads carry theirs; these do not).
  auto aligned = [](size_t len, char c) {
    BufferPtr p = BufferPtr::create_aligned(len);
    std::memset(p.data(), c, len);
    return BufferList(p);
  };
  BufferList mib = aligned(1 << 20, 'w');
  BufferList four_mib = aligned(kObjectBytes, 'm');
  BufferList four_k = BufferList::copy_of(std::string(4096, 'k'));
  // Sequential 1 MiB writes fill 4 MiB objects; they are the data the other runs use.
  uint64_t max_seq = size / 2 / (1 << 20);
  Sample seq = store_writes(s, "store 1MiB seq write QD8", 8, seconds * 4, max_seq, 1 << 20, [&](uint64_t i) {
    Transaction t;
    t.write(kColl, obj("s", i / 4), (i % 4) << 20, mib);
    return t;
  });
  seq.print();
  uint64_t objects = seq.ops / 4;
  // Whole-object writes over a quarter of the device, round and round: each one
  // goes to fresh blocks (the old ones are freed when it commits), for the whole run.
  uint64_t big_objects = std::max<uint64_t>(1, size / 4 / kObjectBytes);
  store_writes(s, "store 4MiB write (fresh blocks) QD4", 4, seconds, ~0ull, kObjectBytes, [&](uint64_t i) {
    Transaction t;
    t.write(kColl, obj("m", i % big_objects), 0, four_mib);
    return t;
  }).print();
  SeededRandom r(7);
  store_writes(s, "store 4KiB rand overwrite QD32", 32, seconds, ~0ull, 4096, [&](uint64_t) {
    Transaction t;
    t.write(kColl, obj("s", r.uniform(objects)), r.uniform(kObjectBytes / 4096) * 4096, four_k);
    return t;
  }).print();
  store_writes(s, "store 4KiB new objects QD32", 32, seconds, 100000, 4096, [&](uint64_t i) {
    Transaction t;
    t.write(kColl, obj("n", i), 0, four_k);
    return t;
  }).print();
  if (reads) {
    store_reads_ring(s, "store 4KiB rand read QD32 (ring)", 32, seconds, objects, 4096).print();
    store_reads(s, "store 4KiB rand read 32 threads", 32, seconds, objects, 4096, true).print();
    store_reads(s, "store 1MiB seq read 8 threads", 8, seconds, objects, 1 << 20, false).print();
    store_reads(s, "store 4MiB seq read 4 threads", 4, seconds, objects, 4 << 20, false).print();
  }
  auto st = s.stats();
  std::printf("store: %llu txns in %llu synced commit groups (%.1f txns/group), %llu deferred blocks\n",
              (unsigned long long)st.committed_txns, (unsigned long long)st.commit_groups,
              st.commit_groups ? double(st.committed_txns) / double(st.commit_groups) : 0.0,
              (unsigned long long)st.deferred_writes);
  std::printf("store: WAL files %llu written ahead, %llu plain\n", (unsigned long long)st.wal_spares_taken,
              (unsigned long long)st.plain_wals);
}

}  // namespace

void run_raw(const RawConfig& raw);

int main(int argc, char** argv) {
  log::set_all_levels(log::Level::kWarn);
  std::string dir = "/tmp";
  uint64_t size = 2ull << 30;
  double seconds = 5;
  std::string only;  // "raw" or "store": run one half
  bool dsync = false;
  long group_delay_us = -1;  // --group-delay US: the store's group commit delay (default: the store's)
  uint64_t wal_spare = 72ull << 20;  // the OSD's osd_store_wal_spare
  long deferred_max = -1;            // --deferred-max BYTES: the store's deferred-write threshold
  bool reads = true;                 // --reads 0: the store's write runs only
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--only") only = argv[i + 1];
    if (a == "--dir") dir = argv[i + 1];
    if (a == "--size") size = std::strtoull(argv[i + 1], nullptr, 0);
    if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    if (a == "--dsync") dsync = std::string(argv[i + 1]) == "1";
    if (a == "--group-delay") group_delay_us = std::atol(argv[i + 1]);
    if (a == "--wal-spare") wal_spare = std::strtoull(argv[i + 1], nullptr, 0);
    if (a == "--deferred-max") deferred_max = std::atol(argv[i + 1]);
    if (a == "--reads") reads = std::string(argv[i + 1]) != "0";
  }
  char tmpl[4096];
  std::snprintf(tmpl, sizeof(tmpl), "%s/cairn-store-bench-XXXXXX", dir.c_str());
  if (!mkdtemp(tmpl)) return 1;
  std::string work = tmpl;
  std::printf("store_bench: dir %s, file %llu MiB, %.0f s per run\n", work.c_str(),
              (unsigned long long)(size >> 20), seconds);
  RawConfig raw{work + "/raw.img", size, seconds};
  if (only != "store" && !prefill(raw.path, size)) return 1;
  if (only != "store") run_raw(raw);
  std::filesystem::remove(raw.path);
  if (only != "raw") run_store(work, size, seconds, dsync, group_delay_us, wal_spare, deferred_max, reads);
  std::filesystem::remove_all(work);
  return 0;
}

void run_raw(const RawConfig& raw) {
  raw_run(raw, "raw 1MiB seq write QD8", true, false, 1 << 20, 8, 0).print();
  raw_run(raw, "raw 1MiB seq write QD8 fsync/8", true, false, 1 << 20, 8, 8).print();
  raw_run(raw, "raw 4MiB seq write QD4 fsync/4", true, false, 4 << 20, 4, 4).print();
  raw_run(raw, "raw 4KiB rand write QD32", true, true, 4096, 32, 0).print();
  raw_run(raw, "raw 4KiB rand write QD32 fsync/32", true, true, 4096, 32, 32).print();
  raw_run(raw, "raw 4KiB rand write QD32 dsync", true, true, 4096, 32, 0, true).print();
  raw_run(raw, "raw 1MiB seq write QD8 dsync", true, false, 1 << 20, 8, 0, true).print();
  raw_run(raw, "raw 4KiB rand read QD32", false, true, 4096, 32, 0).print();
  raw_run(raw, "raw 1MiB seq read QD8", false, false, 1 << 20, 8, 0).print();
  raw_run(raw, "raw 4MiB seq read QD4", false, false, 4 << 20, 4, 0).print();
}
