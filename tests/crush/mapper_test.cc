// Mapper properties: determinism, distinct devices, failure domains, out and
// zero-weight devices, classes, multi-step rules, indep positions.
#include <set>

#include "crush/text.h"
#include "tests/crush/test_util.h"

namespace cairn::crush {
namespace {

using testing::built;
using testing::mapper;
using testing::table;

TEST(CrushMapper, DeterministicAcrossBuildsAndPinned) {
  CrushMap m = built(3, 4);
  Mapper a = mapper(m), b = mapper(m);
  for (uint32_t x = 0; x < 10000; ++x) {
    for (int32_t rule : {kRuleReplicatedHost, kRuleReplicatedOsd, kRuleErasureOsd}) {
      auto ra = a.map(rule, x, 3), rb = b.map(rule, x, 3);
      ASSERT_TRUE(ra.ok() && rb.ok());
      ASSERT_EQ(*ra, *rb);
    }
  }
  // Pinned results: a change here changes placement on every cluster.
  std::vector<std::vector<ItemId>> pinned;
  for (uint32_t x = 0; x < 4; ++x) pinned.push_back(*a.map(kRuleReplicatedHost, x, 3));
  EXPECT_EQ(pinned, (std::vector<std::vector<ItemId>>{{2, 9, 7}, {11, 6, 3}, {2, 5, 11}, {8, 1, 6}}));
}

TEST(CrushMapper, PinnedWithMixedWeights) {
  // Mixed weights take the fixed-point log path: pin it too.
  CrushMap m = built(3, 4);
  for (auto& [id, d] : m.devices) d.weight = static_cast<Weight>((id % 3 + 1) * 0x8000);
  Mapper a = mapper(m);
  std::vector<std::vector<ItemId>> host, osd;
  for (uint32_t x = 0; x < 4; ++x) {
    host.push_back(*a.map(kRuleReplicatedHost, x, 3));
    osd.push_back(*a.map(kRuleReplicatedOsd, x, 3));
  }
  EXPECT_EQ(host, (std::vector<std::vector<ItemId>>{{2, 8, 7}, {11, 6, 3}, {2, 5, 11}, {8, 1, 6}}));
  EXPECT_EQ(osd, (std::vector<std::vector<ItemId>>{{2, 8, 7}, {11, 6, 5}, {2, 5, 11}, {8, 1, 11}}));
}

void check_domains(const CrushMap& m, int32_t rule, uint32_t type, uint32_t num_rep, uint32_t inputs) {
  Mappings t = table(m, rule, inputs, num_rep);
  for (size_t i = 0; i < t.count(); ++i) {
    std::set<ItemId> devs, domains;
    for (ItemId id : t.row(i)) {
      ASSERT_NE(id, kNoItem) << "x=" << i;
      ASSERT_TRUE(m.device(id)) << id;
      devs.insert(id);
      domains.insert(*m.ancestor_of_type(id, type));
    }
    ASSERT_EQ(devs.size(), num_rep) << "duplicate device, x=" << i;
    ASSERT_EQ(domains.size(), num_rep) << "shared failure domain, x=" << i;
  }
}

TEST(CrushMapper, DistinctDevicesAndFailureDomains) {
  check_domains(built(3, 4), kRuleReplicatedHost, 1, 3, 20000);
  check_domains(built(3, 4), kRuleReplicatedOsd, 0, 3, 20000);
  check_domains(built(3, 4), kRuleErasureOsd, 0, 6, 20000);
  check_domains(built(10, 3), kRuleErasureHost, 1, 6, 20000);
  check_domains(built(100, 10), kRuleReplicatedHost, 1, 3, 3000);
}

TEST(CrushMapper, FewerDomainsThanReplicas) {
  Mapper m = mapper(built(2, 4));
  auto firstn = m.map(kRuleReplicatedHost, 5, 3);
  ASSERT_TRUE(firstn.ok());
  EXPECT_EQ(firstn->size(), 2u);  // firstn: dense, shorter
  CrushMap two = built(2, 4);
  two.rules[kRuleErasureHost].steps[1].count = 3;
  auto indep = mapper(two).map(kRuleErasureHost, 5, 3);
  ASSERT_TRUE(indep.ok());
  ASSERT_EQ(indep->size(), 3u);  // indep: a hole keeps the positions
  EXPECT_EQ(std::count(indep->begin(), indep->end(), kNoItem), 1);
}

TEST(CrushMapper, SkipsOutAndZeroWeightDevices) {
  CrushMap m = built(3, 4);
  ASSERT_TRUE(m.set_weight(5, 0).ok());
  std::vector<Weight> rw(12, kWeightOne);
  rw[2] = 0;
  Mappings t = table(m, kRuleReplicatedOsd, 20000, 3, rw);
  Utilization u = utilization(t);
  EXPECT_EQ(u.bad_mappings, 0u);
  EXPECT_FALSE(u.per_device.contains(2));
  EXPECT_FALSE(u.per_device.contains(5));
  EXPECT_EQ(u.per_device.size(), 10u);
}

TEST(CrushMapper, WholeHostOutStillMapsWithOsdDomain) {
  std::vector<Weight> rw(12, kWeightOne);
  for (int i = 0; i < 4; ++i) rw[static_cast<size_t>(i)] = 0;
  Mappings t = table(built(3, 4), kRuleReplicatedHost, 5000, 3, rw);
  for (size_t i = 0; i < t.count(); ++i) {
    auto r = t.row(i);
    EXPECT_EQ(std::count(r.begin(), r.end(), kNoItem), 1);  // only two hosts left
    for (ItemId id : r) EXPECT_TRUE(id == kNoItem || id >= 4);
  }
}

TEST(CrushMapper, DeviceClassFilter) {
  CrushMap m = built(3, 4);
  for (ItemId id : {1, 5, 9}) m.devices[id].device_class = "ssd";
  m.rules[kRuleReplicatedHost].steps[0].device_class = "ssd";
  Mappings t = table(m, kRuleReplicatedHost, 5000, 3);
  for (size_t i = 0; i < t.count(); ++i) {
    std::set<ItemId> got(t.row(i).begin(), t.row(i).end());
    EXPECT_EQ(got, (std::set<ItemId>{1, 5, 9}));
  }
}

TEST(CrushMapper, MultiStepRule) {
  // 2 racks x 3 hosts x 2 osds; 2 racks, then 2 hosts in each.
  auto m = compile(R"(
tunable choose_total_tries 50
type 0 osd
type 1 host
type 3 rack
type 6 root
device 0 osd.0 weight 1
device 1 osd.1 weight 1
device 2 osd.2 weight 1
device 3 osd.3 weight 1
device 4 osd.4 weight 1
device 5 osd.5 weight 1
device 6 osd.6 weight 1
device 7 osd.7 weight 1
device 8 osd.8 weight 1
device 9 osd.9 weight 1
device 10 osd.10 weight 1
device 11 osd.11 weight 1
host h0 { 
  id -3
  item osd.0
  item osd.1
}
host h1 {
  id -4
  item osd.2
  item osd.3
}
host h2 {
  id -5
  item osd.4
  item osd.5
}
host h3 {
  id -6
  item osd.6
  item osd.7
}
host h4 {
  id -7
  item osd.8
  item osd.9
}
host h5 {
  id -8
  item osd.10
  item osd.11
}
rack r0 {
  id -9
  item h0
  item h1
  item h2
}
rack r1 {
  id -10
  item h3
  item h4
  item h5
}
root default {
  id -1
  item r0
  item r1
}
rule two_racks {
  id 0
  type replicated
  step take default
  step choose firstn 2 type rack
  step chooseleaf firstn 2 type host
  step emit
}
)");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  Mappings t = table(*m, 0, 5000, 4);
  for (size_t i = 0; i < t.count(); ++i) {
    auto r = t.row(i);
    std::set<ItemId> hosts, racks;
    for (ItemId id : r) {
      ASSERT_NE(id, kNoItem);
      hosts.insert(*m->ancestor_of_type(id, 1));
      racks.insert(*m->ancestor_of_type(id, 3));
    }
    ASSERT_EQ(hosts.size(), 4u);
    ASSERT_EQ(racks.size(), 2u);
    ASSERT_EQ(*m->ancestor_of_type(r[0], 3), *m->ancestor_of_type(r[1], 3));
  }
}

TEST(CrushMap, EditsKeepTheMapValid) {
  CrushMap m = built(2, 2);
  EXPECT_EQ(add_osd(m, 0, "host0", kWeightOne).code(), Errc::kExists);
  EXPECT_EQ(add_osd(m, 9, "nohost", kWeightOne).code(), Errc::kNotFound);
  EXPECT_EQ(m.add_device(9, "osd.0", kWeightOne, "", std::nullopt).code(), Errc::kInvalid);  // name taken
  EXPECT_EQ(m.add_bucket(-9, "rack0", 0, std::nullopt).code(), Errc::kInvalid);              // device type
  ASSERT_TRUE(m.add_bucket(-9, "rack0", 3, -1).ok());
  EXPECT_EQ(m.parent(-9), -1);
  EXPECT_EQ(m.weight(-1), 4 * kWeightOne);
  ASSERT_TRUE(add_osd(m, 4, "host1", 0x8000).ok());
  EXPECT_EQ(m.weight(-3), 0x28000u);
  EXPECT_EQ(m.ancestor_of_type(4, 6), -1);
  EXPECT_EQ(m.next_device_id(), 5);
  EXPECT_EQ(m.next_bucket_id(), -10);
  ASSERT_TRUE(m.remove_device(4).ok());
  EXPECT_EQ(m.remove_device(4).code(), Errc::kNotFound);
  m.types[7] = "rule";
  EXPECT_EQ(m.validate().code(), Errc::kInvalid);
}

TEST(CrushMapper, UnknownRuleIsAnError) {
  auto r = mapper(built(3, 4)).map(42, 0, 3);
  EXPECT_EQ(r.code(), Errc::kNotFound);
}

// indep: marking one device out changes only the positions that held it.
void check_indep_out(const CrushMap& m, int32_t rule, uint32_t num_rep, ItemId out_dev, uint32_t inputs) {
  std::vector<Weight> rw(m.devices.size(), kWeightOne);
  rw[static_cast<size_t>(out_dev)] = 0;
  Mappings a = table(m, rule, inputs, num_rep), b = table(m, rule, inputs, num_rep, rw);
  uint64_t replaced = 0;
  for (size_t i = 0; i < a.count(); ++i) {
    for (uint32_t p = 0; p < num_rep; ++p) {
      ItemId before = a.row(i)[p], after = b.row(i)[p];
      if (before == out_dev) {
        ASSERT_NE(after, out_dev);
        ASSERT_NE(after, kNoItem) << "x=" << i;
        ++replaced;
      } else {
        ASSERT_EQ(before, after) << "x=" << i << " position " << p;
      }
    }
  }
  EXPECT_GT(replaced, 0u);
}

TEST(CrushMapper, IndepKeepsSurvivingPositions) {
  check_indep_out(built(3, 4), kRuleErasureOsd, 6, 7, 20000);
  check_indep_out(built(10, 3), kRuleErasureHost, 6, 4, 20000);
  check_indep_out(built(8, 1), kRuleErasureHost, 6, 3, 20000);  // host emptied: position moves host
  // A second device out keeps the first one's replacements (no cascade).
  CrushMap m = built(3, 4);
  std::vector<Weight> one(12, kWeightOne), two(12, kWeightOne);
  one[7] = 0;
  two[7] = two[2] = 0;
  Mappings a = table(m, kRuleErasureOsd, 20000, 6, one), b = table(m, kRuleErasureOsd, 20000, 6, two);
  auto d = diff(a, b, true);
  ASSERT_TRUE(d.ok());
  EXPECT_LE(d->moved, d->lost[2] + d->lost[2] / 20);  // replacement order: <= 5% beyond osd.2
}

}  // namespace
}  // namespace cairn::crush
