// The baseline: what `fio --direct=1 --ioengine=io_uring --iodepth=QD --bs=BS
// --rw={randwrite,randread,write,read} [--fsync=N]` does, on the same kind of file
// the BlockStore uses, through the same UringDevice.
#include <cstring>

#include "bench_util.h"
#include "common/env.h"
#include "osd/store/uring_device.h"

namespace cairn::bench {

Sample raw_run(const RawConfig& cfg, const char* name, bool write, bool random, uint32_t bs, uint32_t qd,
               uint32_t fsync_every, bool dsync) {
  auto dev = store::UringDevice::open(cfg.path, {256, false, dsync});
  if (!dev.ok()) {
    std::fprintf(stderr, "raw open: %s\n", dev.status().to_string().c_str());
    return Sample{name};
  }
  SeededRandom rng(42);
  BufferPtr buf = BufferPtr::create_aligned(bs);
  std::memset(buf.data(), 0x5a, bs);
  uint64_t blocks = cfg.file_bytes / bs, seq = 0, done = 0, since_sync = 0, inflight = 0;
  bool syncing = false;
  Meter m;
  auto next_off = [&] { return (random ? rng.uniform(blocks) : (seq++ % blocks)) * bs; };
  std::function<void()> submit_one;
  auto on_done = [&](Status st) {
    if (!st.ok()) std::fprintf(stderr, "raw io: %s\n", st.to_string().c_str());
    --inflight;
    ++done;
    ++since_sync;
  };
  submit_one = [&] {
    ++inflight;
    if (write) {
      (*dev)->write(next_off(), BufferList(buf), on_done);
    } else {
      (*dev)->read(next_off(), BufferPtr::create_aligned(bs), on_done);
    }
  };
  while (m.elapsed() < cfg.seconds) {
    if (fsync_every && since_sync >= fsync_every && !syncing && inflight == 0) {
      syncing = true;
      (*dev)->flush([&](Status) {
        syncing = false;
        since_sync = 0;
      });
    }
    while (!syncing && inflight < qd && !(fsync_every && since_sync + inflight >= fsync_every)) submit_one();
    (void)(*dev)->poll(true);
  }
  (void)(*dev)->run_until_idle();
  return m.finish(name, done, done * bs);
}

}  // namespace cairn::bench
