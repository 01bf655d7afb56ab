// CRUSH mappings per second, one core: 3 replicas on the 3x4 map and on a
// 100 host x 10 OSD (1000 device) map, host and OSD failure domains, and
// erasure-coded 4+2 (indep). Each iteration maps one input.
#include <benchmark/benchmark.h>

#include <vector>

#include "crush/builder.h"
#include "crush/mapper.h"

namespace cairn::crush {
namespace {

void run(benchmark::State& state, uint32_t hosts, uint32_t osds, int32_t rule, uint32_t num_rep) {
  auto map = build_map(BuildSpec{hosts, osds, kWeightOne, "hdd"});
  auto m = Mapper::build(*map);
  if (!m.ok()) {
    state.SkipWithError("build failed");
    return;
  }
  std::vector<ItemId> out;
  out.reserve(num_rep);
  uint32_t x = 0;
  for (auto _ : state) {
    Status st = m->map(rule, x++, num_rep, {}, out);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Map3x4Host(benchmark::State& s) { run(s, 3, 4, kRuleReplicatedHost, 3); }
void BM_Map3x4Osd(benchmark::State& s) { run(s, 3, 4, kRuleReplicatedOsd, 3); }
void BM_Map3x4Indep6(benchmark::State& s) { run(s, 3, 4, kRuleErasureOsd, 6); }
void BM_Map100x10Host(benchmark::State& s) { run(s, 100, 10, kRuleReplicatedHost, 3); }
void BM_Map100x10Osd(benchmark::State& s) { run(s, 100, 10, kRuleReplicatedOsd, 3); }
void BM_Map100x10Indep6(benchmark::State& s) { run(s, 100, 10, kRuleErasureHost, 6); }

BENCHMARK(BM_Map3x4Host);
BENCHMARK(BM_Map3x4Osd);
BENCHMARK(BM_Map3x4Indep6);
BENCHMARK(BM_Map100x10Host);
BENCHMARK(BM_Map100x10Osd);
BENCHMARK(BM_Map100x10Indep6);

}  // namespace
}  // namespace cairn::crush

BENCHMARK_MAIN();
