// Shared bits of the store benchmark: timing, CPU accounting and result lines.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace cairn::bench {

struct Sample {
  std::string name;
  uint64_t ops = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  double cpu_seconds = 0;  // user + system of the whole process
  void print() const {
    std::printf("%-34s %10.0f ops/s %9.1f MiB/s %8.1f cpu-us/op\n", name.c_str(), ops / seconds,
                bytes / seconds / (1 << 20), ops ? cpu_seconds * 1e6 / static_cast<double>(ops) : 0.0);
    std::fflush(stdout);
  }
};

inline double cpu_now() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

class Meter {
 public:
  Meter() : t0_(std::chrono::steady_clock::now()), c0_(cpu_now()) {}
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }
  Sample finish(std::string name, uint64_t ops, uint64_t bytes) const {
    return Sample{std::move(name), ops, bytes, elapsed(), cpu_now() - c0_};
  }

 private:
  std::chrono::steady_clock::time_point t0_;
  double c0_;
};

struct RawConfig {
  std::string path;  // a file of `file_bytes` on the file system under test
  uint64_t file_bytes;
  double seconds;
};

// fio-like O_DIRECT io_uring runs on a plain file: the baseline.
Sample raw_run(const RawConfig& cfg, const char* name, bool write, bool random, uint32_t bs, uint32_t qd,
               uint32_t fsync_every, bool dsync = false);

}  // namespace cairn::bench
