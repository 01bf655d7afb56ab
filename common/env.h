// The environment: every way Cairn touches the world outside its own memory.
//
// Time, timers, randomness, files and block devices are reached through these
// interfaces (the network through msg/transport.h), so that tests, and later a
// deterministic whole-cluster simulator, can stand in for them. The real
// implementations are the defaults; each costs at most one virtual call.
//
// Thread-safety: Clock and Random implementations are safe to call from any
// thread; a File or BlockDevice is owned by one shard (thread) at a time unless
// its own comment says otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/buffer.h"
#include "common/status.h"

namespace cairn {

// ---- time -----------------------------------------------------------------

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic nanoseconds (for durations and deadlines).
  virtual uint64_t now_ns() const = 0;
  // Wall-clock nanoseconds since the Unix epoch (for display and timestamps only).
  virtual uint64_t wall_ns() const = 0;
};

// The real clock (steady_clock / system_clock).
Clock& real_clock();

// A clock that moves only when told to: for unit tests of timeouts and leases.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t start_ns = 1'000'000'000) : now_(start_ns) {}
  uint64_t now_ns() const override { return now_; }
  uint64_t wall_ns() const override { return now_; }
  void advance_ns(uint64_t d) { now_ += d; }

 private:
  uint64_t now_;
};

// Timers: run a callback once after a delay, on the executor the queue belongs to.
class TimerQueue {
 public:
  using TimerId = uint64_t;
  virtual ~TimerQueue() = default;
  virtual TimerId schedule_after_ns(uint64_t delay_ns, std::function<void()> fn) = 0;
  // True if the timer had not fired yet (it never will now).
  virtual bool cancel(TimerId id) = 0;
};

// ---- randomness -------------------------------------------------------------

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t next_u64() = 0;
  // Uniform in [0, bound) (bound > 0).
  uint64_t uniform(uint64_t bound);
  // True with probability p.
  bool chance(double p) { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53 < p; }
};

// A seeded, reproducible generator (xoshiro256**): same seed, same sequence.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed);
  uint64_t next_u64() override;

 private:
  uint64_t s_[4];
};

// A generator seeded from the operating system's entropy; safe to share across threads.
Random& real_random();

// ---- files --------------------------------------------------------------------

// A file opened for positional I/O (synchronous; used for superblocks, config,
// the monitor's side files). Data paths use BlockDevice.
class File {
 public:
  virtual ~File() = default;
  virtual Result<size_t> pread(uint64_t off, void* buf, size_t len) = 0;
  virtual Status pwrite(uint64_t off, const void* buf, size_t len) = 0;
  virtual Status sync() = 0;
  virtual Result<uint64_t> size() = 0;
  virtual Status truncate(uint64_t len) = 0;
};

struct OpenOptions {
  bool create = false;
  bool exclusive = false;  // fail with kExists if present
  bool direct = false;     // O_DIRECT: buffers, offsets and lengths 4 KiB-aligned
  bool read_only = false;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual Result<std::unique_ptr<File>> open(const std::string& path, const OpenOptions& opts) = 0;
  virtual Status mkdirs(const std::string& path) = 0;
  virtual Status remove(const std::string& path) = 0;
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Result<bool> exists(const std::string& path) = 0;
  virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;
  // Writes a whole file durably: temp file, fsync, rename, fsync of the directory.
  virtual Status write_file_atomic(const std::string& path, std::string_view contents) = 0;
  virtual Result<std::string> read_file(const std::string& path) = 0;
};

FileSystem& real_fs();

// ---- block devices --------------------------------------------------------------

// Asynchronous, positional I/O on a block file or raw device, many requests in
// flight. Buffers, offsets and lengths are multiples of block_size() (O_DIRECT).
// Completions run on the device owner's executor (for the io_uring device: the
// shard's io_context, woken through the ring's eventfd), never inline in submit.
class BlockDevice {
 public:
  using Callback = std::function<void(Status)>;
  virtual ~BlockDevice() = default;
  virtual uint64_t size() const = 0;
  virtual uint32_t block_size() const = 0;
  // Reads into `buf` (aligned, len bytes). The buffer stays alive until the callback.
  virtual void read(uint64_t off, BufferPtr buf, Callback cb) = 0;
  // Writes `data` (aligned segments). Durable only after a flush completes,
  // unless the device was opened with write-through semantics.
  virtual void write(uint64_t off, BufferList data, Callback cb) = 0;
  // Makes every write completed before this call durable.
  virtual void flush(Callback cb) = 0;
};

// Names the calling thread (15 characters at most show): what top -H, perf and
// /proc/PID/task/*/comm report instead of the process name.
void set_thread_name(const std::string& name);

}  // namespace cairn
