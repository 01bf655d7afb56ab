// Weight-proportional distribution, checked with a chi-square bound.
//
// For k cells with expected counts E_i, X2 = sum (O_i - E_i)^2 / E_i is
// approximately chi-square with k-1 degrees of freedom (mean df, variance 2 df)
// if the mapping behaves like the model. We accept X2 <= df + 6 sqrt(2 df): a
// correct mapper fails it with probability below 1e-6, while a relative bias of
// b on one cell of expectation E adds about b^2 E, i.e. a 2% bias on a device
// with E = 50000 adds 20 (df = 11: bound 39): a real bias fails loudly.
#include <cmath>
#include <cstdio>

#include "tests/crush/test_util.h"

namespace cairn::crush {
namespace {

using testing::mapper;
using testing::table;

double chi2_bound(size_t cells) {
  double df = static_cast<double>(cells - 1);
  return df + 6 * std::sqrt(2 * df);
}

// 6 hosts with 1-3 devices each; weights 0.5 .. 4.0.
CrushMap mixed_map() {
  CrushMap m = testing::built(6, 3);
  const Weight ws[] = {0x8000, 0x10000, 0x18000, 0x20000, 0x30000, 0x40000};
  for (auto& [id, d] : m.devices) d.weight = ws[(static_cast<uint32_t>(id) * 7 + 3) % 6];
  std::erase(m.buckets[-2].items, 2);  // host0 has 2 devices, host1 has 1
  std::erase(m.buckets[-3].items, 4);
  std::erase(m.buckets[-3].items, 5);
  m.devices.erase(2);
  m.devices.erase(4);
  m.devices.erase(5);
  EXPECT_TRUE(m.validate().ok());
  return m;
}

double chi2(const std::map<ItemId, double>& expected, const std::map<ItemId, uint64_t>& observed) {
  double x2 = 0;
  for (const auto& [id, e] : expected) {
    auto it = observed.find(id);
    double o = it == observed.end() ? 0 : static_cast<double>(it->second);
    x2 += (o - e) * (o - e) / e;
  }
  return x2;
}

TEST(CrushDistribution, OneReplicaIsWeightProportional) {
  CrushMap m = mixed_map();
  const uint32_t n = 300000;
  for (int32_t rule : {kRuleReplicatedOsd, kRuleReplicatedHost}) {
    Utilization u = utilization(table(m, rule, n, 1));
    double total = static_cast<double>(m.weight(-1));
    std::map<ItemId, double> expected;
    for (const auto& [id, d] : m.devices) expected[id] = static_cast<double>(n) * d.weight / total;
    double x2 = chi2(expected, u.per_device);
    std::printf("[ chi2     ] rule %d, 1 replica: X2 %.1f bound %.1f\n", rule, x2,
                chi2_bound(expected.size()));
    EXPECT_LE(x2, chi2_bound(expected.size()));
  }
}

TEST(CrushDistribution, PrimaryIsWeightProportional) {
  CrushMap m = mixed_map();
  const uint32_t n = 300000;
  Mappings t = table(m, kRuleReplicatedHost, n, 3);
  std::map<ItemId, uint64_t> primaries;
  for (size_t i = 0; i < t.count(); ++i) ++primaries[t.row(i)[0]];
  double total = static_cast<double>(m.weight(-1));
  std::map<ItemId, double> expected;
  for (const auto& [id, d] : m.devices) expected[id] = static_cast<double>(n) * d.weight / total;
  EXPECT_LE(chi2(expected, primaries), chi2_bound(expected.size()));
}

// With 3 replicas in distinct hosts the model is sampling without replacement,
// weight-proportional at each draw (as for Ceph's straw2): a host's inclusion
// probability is sum over ordered picks; a device's is its host's times its
// share of the host. We check the mapper against that model exactly.
TEST(CrushDistribution, ThreeReplicasFollowTheSamplingModel) {
  CrushMap m = mixed_map();
  const uint32_t n = 300000;
  std::vector<ItemId> hosts = m.buckets[-1].items;
  std::vector<double> w;
  for (ItemId h : hosts) w.push_back(m.weight(h));
  double total = 0;
  for (double x : w) total += x;
  std::vector<double> incl(hosts.size(), 0);
  for (size_t a = 0; a < w.size(); ++a)
    for (size_t b = 0; b < w.size(); ++b)
      for (size_t c = 0; c < w.size(); ++c) {
        if (a == b || b == c || a == c) continue;
        double p = w[a] / total * w[b] / (total - w[a]) * w[c] / (total - w[a] - w[b]);
        incl[a] += p;
        incl[b] += p;
        incl[c] += p;
      }
  std::map<ItemId, double> expected;
  double worst_bias = 0;
  for (size_t h = 0; h < hosts.size(); ++h)
    for (ItemId d : m.buckets[hosts[h]].items) {
      expected[d] = n * incl[h] * m.weight(d) / w[h];
      worst_bias = std::max(worst_bias, std::abs(incl[h] / (3 * w[h] / total) - 1));
    }
  Utilization u = utilization(table(m, kRuleReplicatedHost, n, 3));
  double x2 = chi2(expected, u.per_device);
  std::printf(
      "[ chi2     ] 3 replicas vs model: X2 %.1f bound %.1f; model's largest deviation from "
      "pure weight share %.1f%%\n",
      x2, chi2_bound(expected.size()), worst_bias * 100);
  EXPECT_LE(x2, chi2_bound(expected.size()));
}

// Many failure domains: the sampling bias vanishes and 3 replicas are
// weight-proportional within the chi-square bound.
TEST(CrushDistribution, ThreeReplicasOverManyHostsAreWeightProportional) {
  CrushMap m = testing::built(40, 2);
  for (auto& [id, d] : m.devices) d.weight = (id % 3 == 0) ? 0x20000 : 0x10000;
  const uint32_t n = 200000;
  Utilization u = utilization(table(m, kRuleReplicatedOsd, n, 3));
  double total = static_cast<double>(m.weight(-1));
  std::map<ItemId, double> expected;
  for (const auto& [id, d] : m.devices) expected[id] = 3.0 * n * d.weight / total;
  double x2 = chi2(expected, u.per_device);
  std::printf("[ chi2     ] 80 devices, 3 replicas: X2 %.1f bound %.1f\n", x2, chi2_bound(expected.size()));
  EXPECT_LE(x2, chi2_bound(expected.size()));
}

}  // namespace
}  // namespace cairn::crush
