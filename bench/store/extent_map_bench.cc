// Micro-benchmarks of the BlockStore's in-memory extent map: the lookup every
// read makes, and the copy-and-change every write makes (a transaction edits a
// private copy of each onode it touches).
// Run: build/bin/extent_map_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "osd/store/internal/extent_map.h"

namespace cairn::store {
namespace {

constexpr uint64_t kObjectBlocks = 1024;  // a 4 MiB object

// `maps` maps of 4 MiB objects, each one contiguous extent, or one extent per
// block (`fragmented`: what random 4 KiB writes through fresh blocks leave).
std::vector<std::unique_ptr<ExtentMap>> make_maps(size_t maps, bool fragmented) {
  std::vector<std::unique_ptr<ExtentMap>> out;
  for (size_t i = 0; i < maps; ++i) {
    auto m = std::make_unique<ExtentMap>();
    uint64_t base = 1000 + i * 4 * kObjectBlocks;
    if (fragmented) {
      for (uint64_t b = 0; b < kObjectBlocks; ++b) m->insert(b, base + 2 * b, {static_cast<uint32_t>(b)});
    } else {
      m->insert(0, base, std::vector<uint32_t>(kObjectBlocks, 7));
    }
    out.push_back(std::move(m));
  }
  return out;
}

// One random block of one random map: range(0) maps (256: the maps stay in the
// CPU's caches; 65 536: most lookups miss them, as a random read of a large data set does).
void BM_Lookup(benchmark::State& state) {
  auto maps = make_maps(static_cast<size_t>(state.range(0)), false);
  std::mt19937_64 r(1);
  for (auto _ : state) {
    const ExtentMap& m = *maps[r() % maps.size()];
    benchmark::DoNotOptimize(m.lookup(r() % kObjectBlocks));
  }
}
BENCHMARK(BM_Lookup)->Arg(256)->Arg(65536);

// A transaction's 4 KiB write through fresh blocks: copy the map, punch one
// block, map it elsewhere; the copy is then dropped (the published map stays).
void BM_CopyAndRewriteOneBlock(benchmark::State& state) {
  auto maps = make_maps(1, state.range(0) != 0);
  const ExtentMap& base = *maps[0];
  std::mt19937_64 r(2);
  for (auto _ : state) {
    ExtentMap copy = base;
    uint64_t b = r() % kObjectBlocks;
    benchmark::DoNotOptimize(copy.punch(b, b + 1));
    copy.insert(b, 1, {1});
    benchmark::DoNotOptimize(copy.mapped_blocks());
  }
}
BENCHMARK(BM_CopyAndRewriteOneBlock)->Arg(0)->Arg(1);

}  // namespace
}  // namespace cairn::store

BENCHMARK_MAIN();
