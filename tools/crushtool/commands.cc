#include "tools/crushtool/commands.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "crush/analysis.h"
#include "crush/balancer.h"
#include "crush/builder.h"
#include "crush/text.h"
#include "tools/crushtool/map_io.h"

namespace cairn::crushtool {
namespace {

using crush::ItemId;

std::vector<crush::Weight> reweights(const crush::CrushMap& m, const Options& o) {
  std::vector<crush::Weight> rw;
  if (o.mark_out.empty()) return rw;
  rw.assign(m.devices.empty() ? 0 : static_cast<size_t>(m.devices.rbegin()->first) + 1, crush::kWeightOne);
  for (ItemId id : o.mark_out)
    if (id >= 0 && static_cast<size_t>(id) < rw.size()) rw[static_cast<size_t>(id)] = 0;
  return rw;
}

void print_mappings(const crush::Mappings& t, const Options& o) {
  for (size_t i = 0; i < t.count(); ++i) {
    std::printf("CRUSH rule %d x %zu [", o.rule, t.min_x + i);
    auto r = t.row(i);
    for (size_t j = 0; j < r.size(); ++j) {
      if (r[j] == crush::kNoItem) continue;
      std::printf("%s%d", j ? "," : "", r[j]);
    }
    std::printf("]\n");
  }
}

// Stored vs expected replicas per device; expected is by weight over the
// devices that received anything or are in the rule's reach.
void print_utilization(const crush::CrushMap& m, const crush::Utilization& u, uint64_t inputs,
                       uint32_t num_rep) {
  uint64_t total_w = 0;
  for (const auto& [id, d] : m.devices) total_w += d.weight;
  double sq = 0, worst = 0;
  for (const auto& [id, d] : m.devices) {
    double expected = total_w ? static_cast<double>(u.replicas) * d.weight / static_cast<double>(total_w) : 0;
    uint64_t got = u.per_device.contains(id) ? u.per_device.at(id) : 0;
    double dev = expected > 0 ? static_cast<double>(got) / expected - 1 : 0;
    sq += dev * dev;
    worst = std::max(worst, std::abs(dev));
    std::printf("  device %d (%s): stored %lu expected %.1f (%+.2f%%)\n", id, d.name.c_str(),
                static_cast<unsigned long>(got), expected, dev * 100);
  }
  std::printf("utilization: %lu replicas for %lu inputs x %u; stddev %.2f%%, worst %.2f%%\n",
              static_cast<unsigned long>(u.replicas), static_cast<unsigned long>(inputs), num_rep,
              m.devices.empty() ? 0.0 : std::sqrt(sq / static_cast<double>(m.devices.size())) * 100,
              worst * 100);
}

Result<crush::Mappings> timed_table(const crush::CrushMap& m, const Options& o, double* secs) {
  CAIRN_ASSIGN_OR_RETURN(crush::Mapper mapper, crush::Mapper::build(m));
  auto rw = reweights(m, o);
  auto t0 = std::chrono::steady_clock::now();
  auto t = crush::map_range(mapper, o.rule, o.min_x, o.max_x, o.num_rep, rw);
  *secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

}  // namespace

Status run_build(const Options& o) {
  CAIRN_ASSIGN_OR_RETURN(crush::CrushMap m, crush::build_map(crush::BuildSpec{o.hosts, o.osds_per_host,
                                                                              o.weight, o.device_class}));
  return save_binary(m, o.output);
}

Status run_compile(const Options& o) {
  CAIRN_ASSIGN_OR_RETURN(crush::CrushMap m, load_map(o.input));
  return save_binary(m, o.output);
}

Status run_decompile(const Options& o) {
  CAIRN_ASSIGN_OR_RETURN(crush::CrushMap m, load_map(o.input));
  return save_text(crush::decompile(m), o.output);
}

Status run_test(const Options& o) {
  CAIRN_ASSIGN_OR_RETURN(crush::CrushMap m, load_map(o.input));
  double secs = 0;
  CAIRN_ASSIGN_OR_RETURN(crush::Mappings t, timed_table(m, o, &secs));
  if (o.show_mappings) print_mappings(t, o);
  crush::Utilization u = crush::utilization(t);
  if (o.show_utilization) print_utilization(m, u, t.count(), o.num_rep);
  std::printf("rule %d num_rep %u x %u..%u: %zu mappings in %.3f s (%.0f mappings/s), bad mappings %lu\n",
              o.rule, o.num_rep, o.min_x, o.max_x, t.count(), secs,
              secs > 0 ? static_cast<double>(t.count()) / secs : 0.0,
              static_cast<unsigned long>(u.bad_mappings));
  return ok_status();
}

Status run_diff(const Options& o) {
  CAIRN_ASSIGN_OR_RETURN(crush::CrushMap a, load_map(o.input));
  CAIRN_ASSIGN_OR_RETURN(crush::CrushMap b, load_map(o.compare));
  double secs = 0;
  CAIRN_ASSIGN_OR_RETURN(crush::Mappings ta, timed_table(a, o, &secs));
  CAIRN_ASSIGN_OR_RETURN(crush::Mappings tb, timed_table(b, o, &secs));
  CAIRN_ASSIGN_OR_RETURN(crush::MoveStats d, crush::diff(ta, tb, o.positional));
  std::printf("inputs %lu, replicas %lu, moved %lu (fraction %.6f), inputs changed %lu (%.4f)\n",
              static_cast<unsigned long>(d.inputs), static_cast<unsigned long>(d.replicas),
              static_cast<unsigned long>(d.moved), d.moved_fraction(),
              static_cast<unsigned long>(d.changed_inputs),
              d.inputs ? static_cast<double>(d.changed_inputs) / static_cast<double>(d.inputs) : 0.0);
  for (const auto& [id, n] : d.gained)
    std::printf("  to   device %d: %lu\n", id, static_cast<unsigned long>(n));
  for (const auto& [id, n] : d.lost)
    std::printf("  from device %d: %lu\n", id, static_cast<unsigned long>(n));
  return ok_status();
}

Status run_balance(const Options& o) {
  CAIRN_ASSIGN_OR_RETURN(crush::CrushMap m, load_map(o.input));
  CAIRN_ASSIGN_OR_RETURN(crush::Mapper mapper, crush::Mapper::build(m));
  crush::Pool pool{o.pool_id, o.pg_num, o.num_rep, o.rule, false};
  crush::DeviceStates st;
  st.in_weight = reweights(m, o);
  CAIRN_ASSIGN_OR_RETURN(crush::BalanceResult r, crush::balance(mapper, pool, st, crush::Overrides{},
                                                                crush::BalanceOptions{o.max_moves}));
  for (const auto& [pg, items] : r.overrides.pg_upmap_items) {
    std::printf("pg_upmap_items %ld.%x", static_cast<long>(pg.pool), pg.seed);
    for (const auto& [from, to] : items) std::printf(" %d->%d", from, to);
    std::printf("\n");
  }
  std::printf("PGs per unit weight: mean %.3f, fullest %.3f -> %.3f (limit %.3f), %u moves, target %s\n",
              r.mean_load / 65536.0, r.max_load_before / 65536.0, r.max_load_after / 65536.0,
              crush::balance_limit(r.mean_load) / 65536.0, r.moves, r.target_met ? "met" : "NOT met");
  return ok_status();
}

Status run_edit(const Options& o) {
  CAIRN_ASSIGN_OR_RETURN(crush::CrushMap m, load_map(o.input));
  if (o.add_osd) CAIRN_RETURN_IF_ERROR(crush::add_osd(m, *o.add_osd, o.host, o.weight, o.device_class));
  if (o.remove_osd) CAIRN_RETURN_IF_ERROR(m.remove_device(*o.remove_osd));
  if (o.reweight_osd) CAIRN_RETURN_IF_ERROR(m.set_weight(*o.reweight_osd, o.weight));
  return save_binary(m, o.output);
}

}  // namespace cairn::crushtool
