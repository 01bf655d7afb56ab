#include "crush/osd_map.h"

#include <gtest/gtest.h>

#include <set>

#include "common/env.h"
#include "crush/builder.h"

namespace cairn::crush {
namespace {

// 3 hosts x 2 OSDs, all up and in, one size-3 pool over hosts.
OsdMap make_map() {
  OsdMap m;
  m.epoch = 1;
  m.fsid = "test-fsid";
  m.crush = *build_map(BuildSpec{3, 2});
  for (int32_t i = 0; i < 6; ++i)
    m.osds[i] = OsdInfo{true, kWeightOne, "127.0.0.1:" + std::to_string(6800 + i)};
  PoolInfo p;
  p.placement = Pool{1, 32, 3, kRuleReplicatedHost, false};
  p.name = "rbd";
  p.min_size = 2;
  m.pools[1] = p;
  m.pool_max = 1;
  EXPECT_TRUE(m.rebuild().ok());
  return m;
}

TEST(OsdMap, MapsEveryPgToThreeHosts) {
  OsdMap m = make_map();
  for (const PgId& pg : m.all_pgs()) {
    auto r = m.map_pg(pg);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->acting.size(), 3u);
    std::set<int32_t> hosts;
    for (int32_t osd : r->acting) hosts.insert(osd / 2);
    EXPECT_EQ(hosts.size(), 3u);
    EXPECT_EQ(r->acting_primary, r->acting[0]);
  }
  EXPECT_EQ(m.map_pg(PgId{7, 0}).code(), Errc::kNotFound);
  EXPECT_EQ(m.map_pg(PgId{1, 32}).code(), Errc::kNotFound);
}

TEST(OsdMap, IncrementalsChangeStateAndPlacement) {
  OsdMap m = make_map();
  PgId pg = m.object_to_pg(1, "some-object");
  auto before = *m.map_pg(pg);
  int32_t victim = before.acting[0];

  OsdMapIncremental inc;
  inc.epoch = 2;
  OsdInfo down = m.osds[victim];
  down.up = false;
  down.down_at = 2;
  inc.new_osds[victim] = down;
  ASSERT_TRUE(m.apply(inc).ok());
  EXPECT_EQ(m.epoch, 2u);
  EXPECT_FALSE(m.is_up(victim));
  EXPECT_TRUE(m.is_in(victim));
  auto after = *m.map_pg(pg);
  EXPECT_EQ(after.acting.size(), 2u) << "a down OSD leaves the acting set (firstn)";
  for (int32_t o : after.acting) EXPECT_NE(o, victim);

  OsdMapIncremental temp;
  temp.epoch = 3;
  temp.new_pg_temp[pg] = {before.acting[1], before.acting[2], victim};
  ASSERT_TRUE(m.apply(temp).ok());
  // pg_temp decides the acting set, minus OSDs that are down.
  EXPECT_EQ(m.map_pg(pg)->acting, (std::vector<ItemId>{before.acting[1], before.acting[2]}));
  OsdMapIncremental untemp;
  untemp.epoch = 4;
  untemp.new_pg_temp[pg] = {};
  ASSERT_TRUE(m.apply(untemp).ok());
  EXPECT_TRUE(m.overrides.pg_temp.empty());
}

TEST(OsdMap, BadIncrementalsLeaveTheMapUnchanged) {
  OsdMap m = make_map();
  OsdMapIncremental skip;
  skip.epoch = 3;  // not epoch + 1
  EXPECT_EQ(m.apply(skip).code(), Errc::kInvalid);
  OsdMapIncremental bad_pool;
  bad_pool.epoch = 2;
  PoolInfo p = m.pools[1];
  p.placement.id = 9;  // id mismatch with key and beyond pool_max
  bad_pool.new_pools[9] = p;
  EXPECT_EQ(m.apply(bad_pool).code(), Errc::kInvalid);
  EXPECT_EQ(m.epoch, 1u);
  EXPECT_EQ(m.pools.size(), 1u);
}

TEST(OsdMap, RemovingAPoolDropsItsOverrides) {
  OsdMap m = make_map();
  OsdMapIncremental a;
  a.epoch = 2;
  a.new_pg_temp[PgId{1, 3}] = {0, 2, 4};
  ASSERT_TRUE(m.apply(a).ok());
  OsdMapIncremental rm;
  rm.epoch = 3;
  rm.removed_pools.push_back(1);
  ASSERT_TRUE(m.apply(rm).ok());
  EXPECT_TRUE(m.pools.empty());
  EXPECT_TRUE(m.overrides.pg_temp.empty());
}

TEST(OsdMap, EncodeRoundTripAndGarbage) {
  OsdMap m = make_map();
  std::string bytes = encode_to_buffer(m).to_string();
  auto r = decode_from<OsdMap>(bytes);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->epoch, 1u);
  EXPECT_EQ(r->osds, m.osds);
  EXPECT_EQ(r->pools, m.pools);
  EXPECT_EQ(r->crush, m.crush);
  for (const PgId& pg : m.all_pgs()) EXPECT_EQ(r->map_pg(pg)->acting, m.map_pg(pg)->acting);
  OsdMapIncremental inc;
  inc.epoch = 2;
  inc.new_flags = kFlagNoOut;
  inc.new_osds[6] = OsdInfo{false, 0, "", 42};
  inc.new_osds[6].fullness = kOsdBackfillfull | kOsdNearfull;
  inc.new_backfillfull_permille = 500;
  auto ri = decode_from<OsdMapIncremental>(encode_to_buffer(inc));
  ASSERT_TRUE(ri.ok());
  EXPECT_EQ(*ri->new_flags, static_cast<uint32_t>(kFlagNoOut));
  EXPECT_EQ(ri->new_osds.at(6).fullness, kOsdBackfillfull | kOsdNearfull);
  EXPECT_STREQ(osd_fullness_name(ri->new_osds.at(6).fullness), "backfillfull");
  ASSERT_TRUE(ri->new_backfillfull_permille.has_value());
  EXPECT_FALSE(ri->new_full_permille.has_value());
  OsdMap next = m;
  ASSERT_TRUE(next.apply(*ri).ok());
  EXPECT_EQ(next.backfillfull_permille, 500u);
  EXPECT_EQ(next.full_permille, m.full_permille);
  EXPECT_EQ(next.osd(6)->fullness, kOsdBackfillfull | kOsdNearfull);
  SeededRandom rng(3);
  for (int i = 0; i < 3000; ++i) {
    std::string s = bytes;
    s[rng.uniform(s.size())] = static_cast<char>(rng.next_u64());
    auto x = decode_from<OsdMap>(s);
    if (x.ok()) {
      for (const PgId& pg : x->all_pgs()) {
        if (pg.seed > 64) break;
        (void)x->map_pg(pg);  // a map that decodes must map without crashing
      }
    }
  }
}

TEST(OsdMap, Flags) {
  EXPECT_EQ(*parse_map_flag("noout"), kFlagNoOut);
  EXPECT_FALSE(parse_map_flag("nosuch").has_value());
  EXPECT_STREQ(map_flag_name(kFlagNoDown), "nodown");
}

}  // namespace
}  // namespace cairn::crush
