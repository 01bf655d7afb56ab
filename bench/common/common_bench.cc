// Micro-benchmarks of common/: checksums (bytes/s) and versioned encode/decode.
// Run: build/bin/common_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "common/buffer.h"
#include "common/checksum.h"
#include "common/encoding.h"

namespace cairn {
namespace {

std::string payload(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + 7);
  return s;
}

void BM_Crc32c(benchmark::State& state) {
  std::string s = payload(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crc32c(0, s.data(), s.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32c)->Arg(4096)->Arg(64 << 10)->Arg(4 << 20);

void BM_Xxh3(benchmark::State& state) {
  std::string s = payload(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(xxh3_64(s.data(), s.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Xxh3)->Arg(4096)->Arg(64 << 10)->Arg(4 << 20);

// A struct shaped like an OSD op header: a few ints, a name, a small map.
struct OpLike {
  uint64_t tid = 12345, epoch = 77, offset = 4096 * 1000;
  uint32_t pool = 3, flags = 0x11, len = 4096;
  std::string oid = "rbd_data.1f2e3d4c.0000000000000abc";
  std::map<std::string, std::string> attrs{{"_", "v1"}, {"snapset", "x"}};
  void encode(Encoder& e) const {
    auto m = e.begin_struct(1, 1);
    e.put(tid);
    e.put(epoch);
    e.put(offset);
    e.put(pool);
    e.put(flags);
    e.put(len);
    e.put(oid);
    e.put(attrs);
    e.end_struct(m);
  }
  void decode(Decoder& d) {
    auto s = d.begin_struct(1);
    d.get(tid);
    d.get(epoch);
    d.get(offset);
    d.get(pool);
    d.get(flags);
    d.get(len);
    d.get(oid);
    d.get(attrs);
    d.end_struct(s);
  }
};

void BM_EncodeOp(benchmark::State& state) {
  OpLike op;
  for (auto _ : state) {
    BufferList bl = encode_to_buffer(op);
    benchmark::DoNotOptimize(bl.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_EncodeOp);

void BM_DecodeOp(benchmark::State& state) {
  std::string bytes = encode_to_buffer(OpLike{}).to_string();
  for (auto _ : state) {
    auto r = decode_from<OpLike>(bytes);
    benchmark::DoNotOptimize(r.ok());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DecodeOp);

void BM_BufferListAppendSlice(benchmark::State& state) {
  BufferPtr block = BufferPtr::copy_of(payload(4096));
  for (auto _ : state) {
    BufferList bl;
    for (int i = 0; i < 16; ++i) bl.append(block);
    benchmark::DoNotOptimize(bl.slice(1000, 40000).size());
  }
}
BENCHMARK(BM_BufferListAppendSlice);

}  // namespace
}  // namespace cairn

BENCHMARK_MAIN();
