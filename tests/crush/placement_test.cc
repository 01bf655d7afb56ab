// Pools, PGs, overrides and the upmap balancer.
#include "crush/placement.h"

#include <set>

#include "crush/balancer.h"
#include "tests/crush/test_util.h"

namespace cairn::crush {
namespace {

using testing::built;
using testing::mapper;

TEST(CrushPlacement, PgNumMask) {
  EXPECT_EQ(pg_num_mask(1), 0u);
  EXPECT_EQ(pg_num_mask(2), 1u);
  EXPECT_EQ(pg_num_mask(12), 15u);
  EXPECT_EQ(pg_num_mask(16), 15u);
  EXPECT_EQ(pg_num_mask(17), 31u);
}

TEST(CrushPlacement, GrowingPgNumSplitsInsteadOfReshuffling) {
  for (uint32_t n = 1; n < 70; ++n) {
    Pool small{1, n, 3, 0}, big{1, n + 1, 3, 0};
    std::vector<uint64_t> per_pg(n + 1, 0);
    for (int i = 0; i < 3000; ++i) {
      std::string name = "obj" + std::to_string(i);
      PgId a = object_to_pg(small, name), b = object_to_pg(big, name);
      ASSERT_LT(a.seed, n);
      ASSERT_TRUE(b.seed == a.seed || b.seed == n) << "pg_num " << n << ": " << a.seed << " -> " << b.seed;
      ++per_pg[b.seed];
    }
    for (uint64_t c : per_pg) ASSERT_GT(c, 0u);
  }
}

TEST(CrushPlacement, UpActingAndOverrides) {
  Mapper m = mapper(built(4, 3));
  Pool pool{7, 64, 3, kRuleReplicatedHost};
  DeviceStates st;
  Overrides none;
  auto base = pg_to_up_acting(m, pool, 5, st, none);
  ASSERT_TRUE(base.ok());
  ASSERT_EQ(base->up.size(), 3u);
  EXPECT_EQ(base->acting, base->up);
  EXPECT_EQ(base->up_primary, base->up[0]);

  // A down device leaves the up set (replicated) but is not replaced: that is
  // the monitors' job once it is marked out.
  st.up.assign(12, true);
  st.up[static_cast<size_t>(base->up[1])] = false;
  auto down = pg_to_up_acting(m, pool, 5, st, none);
  EXPECT_EQ(down->up, (std::vector<ItemId>{base->up[0], base->up[2]}));
  Pool ec = pool;
  ec.erasure = true;
  ec.rule = kRuleErasureHost;
  auto ec_down = pg_to_up_acting(m, ec, 5, st, none);
  ASSERT_EQ(ec_down->up.size(), 3u);
  st.up.clear();

  // pg_upmap_items: replace a device, unless the target is out or already there.
  ItemId spare = -1;
  for (ItemId id = 0; id < 12; ++id)
    if (std::find(base->up.begin(), base->up.end(), id) == base->up.end()) spare = id;
  Overrides o;
  o.pg_upmap_items[PgId{7, 5}] = {{base->up[1], spare}, {base->up[0], base->up[2]}};
  auto up = pg_to_up_acting(m, pool, 5, st, o);
  EXPECT_EQ(up->up, (std::vector<ItemId>{base->up[0], spare, base->up[2]}));
  st.in_weight.assign(12, kWeightOne);
  st.in_weight[static_cast<size_t>(spare)] = 0;
  auto ignored = pg_to_up_acting(m, pool, 5, st, o);
  EXPECT_EQ(std::count(ignored->up.begin(), ignored->up.end(), spare), 0);
  st.in_weight.clear();

  // pg_temp sets acting; primary_temp picks the primary within acting.
  o.pg_temp[PgId{7, 5}] = {base->up[2], base->up[0]};
  o.primary_temp[PgId{7, 5}] = base->up[0];
  auto temp = pg_to_up_acting(m, pool, 5, st, o);
  EXPECT_EQ(temp->acting, (std::vector<ItemId>{base->up[2], base->up[0]}));
  EXPECT_EQ(temp->acting_primary, base->up[0]);
  EXPECT_EQ(temp->up_primary, base->up[0]);

  // An out OSD (being drained) stays in pg_temp; a down one leaves it; none left: up.
  o.primary_temp.clear();
  st.in_weight.assign(12, kWeightOne);
  st.in_weight[static_cast<size_t>(base->up[2])] = 0;
  auto drained = pg_to_up_acting(m, pool, 5, st, o);
  EXPECT_EQ(drained->acting, (std::vector<ItemId>{base->up[2], base->up[0]}));
  EXPECT_EQ(drained->acting_primary, base->up[2]);
  st.in_weight.clear();
  st.up.assign(12, true);
  st.up[static_cast<size_t>(base->up[2])] = false;
  auto one_down = pg_to_up_acting(m, pool, 5, st, o);
  EXPECT_EQ(one_down->acting, (std::vector<ItemId>{base->up[0]}));
  st.up[static_cast<size_t>(base->up[0])] = false;
  auto all_down = pg_to_up_acting(m, pool, 5, st, o);
  EXPECT_EQ(all_down->acting, all_down->up);
  st.up.clear();
}

TEST(CrushPlacement, OverridesCodec) {
  Overrides o;
  o.pg_temp[PgId{1, 2}] = {3, 4};
  o.primary_temp[PgId{1, 2}] = 4;
  o.pg_upmap_items[PgId{2, 9}] = {{1, 5}};
  BufferList bl = encode_to_buffer(o);
  auto back = decode_from<Overrides>(bl);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, o);
  std::string bytes(bl.contiguous().view());
  for (size_t n = 0; n < bytes.size(); ++n) ASSERT_FALSE(decode_from<Overrides>(bytes.substr(0, n)).ok());
}

// Balances, then checks the target and that every PG still has distinct
// failure domains after the exceptions are applied.
void check_balance(const CrushMap& cm, const Pool& pool, uint32_t domain_type) {
  Mapper m = mapper(cm);
  DeviceStates st;
  auto r = balance(m, pool, st, Overrides{});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::printf("[ balance  ] %zu devices, %u pgs: max %.3f -> %.3f (mean %.3f, limit %.3f) in %u moves\n",
              cm.devices.size(), pool.pg_num, r->max_load_before / 65536.0, r->max_load_after / 65536.0,
              r->mean_load / 65536.0, balance_limit(r->mean_load) / 65536.0, r->moves);
  EXPECT_TRUE(r->target_met);
  std::map<ItemId, uint64_t> count;
  for (uint32_t seed = 0; seed < pool.pg_num; ++seed) {
    auto pm = pg_to_up_acting(m, pool, seed, st, r->overrides);
    ASSERT_TRUE(pm.ok());
    ASSERT_EQ(pm->up.size(), pool.size);
    std::set<ItemId> domains;
    for (ItemId id : pm->up) {
      domains.insert(*cm.ancestor_of_type(id, domain_type));
      ++count[id];
    }
    ASSERT_EQ(domains.size(), pool.size) << "seed " << seed;
  }
  uint64_t total_w = cm.weight(-1);
  for (const auto& [id, c] : count) {
    uint64_t load = (c << 32) / cm.devices.at(id).weight;
    EXPECT_LE(load, balance_limit(((uint64_t{pool.pg_num} * pool.size) << 32) / total_w)) << id;
  }
}

TEST(CrushBalancer, EvensOutPgsWithinFailureDomains) {
  check_balance(built(3, 4), Pool{1, 256, 3, kRuleReplicatedHost}, 1);
  check_balance(built(3, 4), Pool{1, 512, 3, kRuleReplicatedOsd}, 0);
  check_balance(built(10, 8), Pool{2, 2048, 3, kRuleReplicatedHost}, 1);
  CrushMap mixed = built(6, 4);
  for (auto& [id, d] : mixed.devices) d.weight = id % 2 ? 0x10000 : 0x20000;
  check_balance(mixed, Pool{3, 1024, 3, kRuleReplicatedHost}, 1);
}

TEST(CrushBalancer, RejectsUnsupportedRules) {
  Mapper m = mapper(built(3, 4));
  auto r = balance(m, Pool{1, 64, 3, 99}, DeviceStates{}, Overrides{});
  EXPECT_EQ(r.code(), Errc::kNotFound);
  EXPECT_EQ(balance(m, Pool{1, 0, 3, 0}, DeviceStates{}, Overrides{}).code(), Errc::kInvalid);
  EXPECT_EQ(balance(m, Pool{1, 1u << 30, 3, 0}, DeviceStates{}, Overrides{}).code(), Errc::kInvalid);
  CrushMap multi = built(3, 4);
  multi.rules[0].steps.insert(multi.rules[0].steps.begin() + 1,
                              Step{StepOp::kChoose, 0, "", ChooseMode::kFirstn, 1, 6});
  EXPECT_EQ(balance(mapper(multi), Pool{1, 64, 3, 0}, DeviceStates{}, Overrides{}).code(),
            Errc::kNotSupported);
}

}  // namespace
}  // namespace cairn::crush
