// BlockStore internals: key order, extent maps, the allocator, and decoding of
// corrupt metadata (an error, never a crash).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "common/env.h"
#include "osd/store/internal/allocator.h"
#include "osd/store/internal/block_cache.h"
#include "osd/store/internal/extent_map.h"
#include "osd/store/internal/keys.h"
#include "osd/store/internal/onode.h"
#include "osd/store/internal/superblock.h"
#include "osd/store/internal/wal_files.h"

namespace cairn::store {
namespace {

TEST(Keys, OnodeKeysSortLikeObjectIdsAndRoundTrip) {
  SeededRandom r(7);
  std::vector<ObjectId> ids;
  using namespace std::string_literals;
  const std::string names[] = {""s, "a"s, "a\0"s, "a\0b"s, "ab"s, "b"s, "\xff"s, "\0\0"s};
  for (int i = 0; i < 400; ++i) {
    ObjectId o;
    o.hash = static_cast<uint32_t>(r.uniform(4));
    o.nspace = names[r.uniform(8)].substr(0, r.uniform(3));
    o.name = names[r.uniform(8)].substr(0, r.uniform(4));
    o.snap = r.uniform(3) == 0 ? kHeadSnap : r.uniform(5);
    ids.push_back(o);
  }
  CollectionId c{-5, 9};
  std::vector<std::pair<std::string, ObjectId>> keyed;
  for (auto& o : ids) keyed.emplace_back(keys::onode_key(c, o), o);
  std::sort(keyed.begin(), keyed.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < keyed.size(); ++i) EXPECT_LE(keyed[i - 1].second, keyed[i].second);
  for (auto& [k, o] : keyed) {
    CollectionId c2;
    ObjectId o2;
    ASSERT_TRUE(keys::decode_onode_key(k, c2, o2).ok());
    EXPECT_EQ(c2, c);
    EXPECT_EQ(o2, o);
  }
  EXPECT_LT(keys::coll_key(CollectionId{-1, 0}), keys::coll_key(CollectionId{0, 0}));
  CollectionId c3;
  ObjectId o3;
  EXPECT_FALSE(keys::decode_onode_key("O123", c3, o3).ok());
}

TEST(ExtentMap, PunchSplitsAndInsertMerges) {
  ExtentMap m;
  m.insert(0, 100, {1, 2, 3, 4});
  m.insert(4, 104, {5, 6});  // contiguous: merged
  EXPECT_EQ(m.extents().size(), 1u);
  auto freed = m.punch(2, 3);
  ASSERT_EQ(freed.size(), 1u);
  EXPECT_EQ(freed[0].block, 102u);
  EXPECT_EQ(freed[0].count, 1u);
  EXPECT_EQ(m.mapped_blocks(), 5u);
  EXPECT_FALSE(m.lookup(2).has_value());
  EXPECT_EQ(m.lookup(3)->dev_block, 103u);
  EXPECT_EQ(m.lookup(5)->crc, 6u);
  EXPECT_TRUE(m.set_crc(5, 60));
  EXPECT_EQ(m.lookup(5)->crc, 60u);
  auto rest = m.punch(0, ~0ull);
  EXPECT_EQ(rest.size(), 2u);
  EXPECT_TRUE(m.empty());
}

// An extent map stored as shards reads back the same map, an extent that crosses
// shard edges joined again; a change marks only the shards it touched.
TEST(ExtentMap, ShardsRoundTripAndOnlyChangedOnesAreDirty) {
  ExtentMap m;
  std::vector<uint32_t> crcs(150);
  for (size_t i = 0; i < crcs.size(); ++i) crcs[i] = static_cast<uint32_t>(i * 7);
  m.insert(10, 1000, crcs);     // blocks 10..159: shards 0, 1 and 2
  m.insert(300, 5000, {9, 8});  // shard 4
  EXPECT_EQ(m.shards(), (std::vector<uint32_t>{0, 1, 2, 4}));
  for (uint32_t sh = 0; sh < 6; ++sh) EXPECT_EQ(m.maps_any_in_shard(sh), sh != 3 && sh != 5) << sh;
  EXPECT_EQ(m.dirty_shards(), (std::set<uint32_t>{0, 1, 2, 4}));
  ExtentMap back;
  for (uint32_t s : m.shards()) {
    BufferList bl;
    Encoder e(bl);
    m.encode_shard(s, e);
    std::string enc = bl.to_string();
    Decoder d(enc);
    back.decode_shard(s, d);
    ASSERT_TRUE(d.finish(true).ok()) << "shard " << s;
  }
  EXPECT_EQ(back.extents().size(), 2u);  // the three pieces of the first are one again
  EXPECT_EQ(back.lookup(159)->dev_block, 1149u);
  EXPECT_EQ(back.lookup(159)->crc, 149u * 7);
  EXPECT_EQ(back.lookup(301)->crc, 8u);
  EXPECT_TRUE(back.dirty_shards().empty());  // decoding is not a change

  m.clear_dirty();
  EXPECT_TRUE(m.set_crc(70, 1));
  EXPECT_EQ(m.dirty_shards(), (std::set<uint32_t>{1}));
  m.clear_dirty();
  m.punch(120, 140);  // inside shard 1 and 2
  EXPECT_EQ(m.dirty_shards(), (std::set<uint32_t>{1, 2}));
  m.clear_dirty();
  m.punch(200, 250);  // nothing mapped there: nothing changed
  EXPECT_TRUE(m.dirty_shards().empty());

  // A shard whose extent leaves its range, or overlaps one before, is refused.
  auto decode = [](ExtentMap& into, uint32_t shard, uint32_t off, uint32_t len) {
    BufferList bl;
    Encoder e(bl);
    auto st = e.begin_struct(1, 1);
    e.u32(1);
    e.u32(off);
    e.u64(77);
    e.u32(len);
    for (uint32_t i = 0; i < len; ++i) e.u32(i);
    e.end_struct(st);
    std::string enc = bl.to_string();
    Decoder d(enc);
    into.decode_shard(shard, d);
    return d.finish(true);
  };
  ExtentMap x;
  EXPECT_FALSE(decode(x, 0, 60, 5).ok());  // past the shard's 64 blocks
  ExtentMap y;
  ASSERT_TRUE(decode(y, 0, 0, 64).ok());
  ExtentMap z = y;
  EXPECT_FALSE(decode(z, 0, 3, 1).ok());  // overlaps
  EXPECT_TRUE(decode(y, 1, 0, 1).ok());
}

// Copies of a map share its shards until one changes: a transaction's private
// copy of an onode must never change what the published onode (and its
// readers) see, whichever operation it applies.
TEST(ExtentMap, ACopyChangesOnlyItselfAndPiecesJoinAcrossShards) {
  ExtentMap m;
  std::vector<uint32_t> crcs(200);
  for (size_t i = 0; i < crcs.size(); ++i) crcs[i] = static_cast<uint32_t>(i + 1);
  m.insert(0, 1000, crcs);  // shards 0..3, one extent
  m.insert(1000, 9000, {7});
  auto check_original = [&] {
    EXPECT_EQ(m.extents().size(), 2u);
    EXPECT_EQ(m.mapped_blocks(), 201u);
    for (uint64_t b = 0; b < 200; ++b) {
      auto r = m.lookup(b);
      ASSERT_TRUE(r.has_value()) << b;
      EXPECT_EQ(r->dev_block, 1000 + b);
      EXPECT_EQ(r->crc, b + 1);
    }
    EXPECT_EQ(m.lookup(1000)->dev_block, 9000u);
  };
  const size_t bytes = m.memory_bytes();
  {
    ExtentMap c = m;
    EXPECT_TRUE(c.set_crc(70, 99));
    auto freed = c.punch(60, 140);  // across the edges of shards 0, 1 and 2
    // The pieces cut at shard edges come back as one device range.
    ASSERT_EQ(freed.size(), 1u);
    EXPECT_EQ(freed[0].block, 1060u);
    EXPECT_EQ(freed[0].count, 80u);
    c.insert(100, 5000, {42, 43});
    EXPECT_EQ(c.lookup(100)->dev_block, 5000u);
    EXPECT_FALSE(c.lookup(70).has_value());
    EXPECT_EQ(c.mapped_blocks(), 201u - 80 + 2);
    c.punch(0, ~0ull);
    EXPECT_TRUE(c.empty());
    check_original();
  }
  check_original();  // the copy is gone: the shards it shared are still whole
  // A copy's change to a shard the original then changes too: each its own.
  ExtentMap c = m;
  EXPECT_TRUE(m.set_crc(5, 500));
  EXPECT_TRUE(c.set_crc(5, 600));
  EXPECT_EQ(m.lookup(5)->crc, 500u);
  EXPECT_EQ(c.lookup(5)->crc, 600u);
  // Whole-map views join what the shards cut: one extent of 200 blocks.
  auto all = m.extents();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].first, 0u);
  EXPECT_EQ(all[0].second.crcs.size(), 200u);
  EXPECT_EQ(m.end_block(), 1001u);
  // Fragmenting the map costs memory; the figure follows it.
  for (uint64_t b = 0; b < 200; b += 2) m.punch(b, b + 1);
  EXPECT_GT(m.memory_bytes(), bytes);
  EXPECT_EQ(m.extents().size(), 101u);
}

// Logical blocks past what 32-bit shard numbers reach are refused, not wrapped.
TEST(ExtentMap, ExtentsBeyondTheShardRangeAreRefused) {
  BufferList bl;
  Encoder e(bl);
  auto st = e.begin_struct(1, 1);
  e.u32(1);
  e.u64((uint64_t{1} << 32) * kShardBlocks);  // the first block past the range
  e.u64(77);
  e.put(std::vector<uint32_t>{1});
  e.end_struct(st);
  std::string enc = bl.to_string();
  Decoder d(enc);
  ExtentMap m;
  m.decode(d);
  EXPECT_FALSE(d.finish(true).ok());
  // A block whose shard number wraps to a shard that exists is still unmapped.
  ExtentMap m2;
  m2.insert(5, 77, {1});
  EXPECT_FALSE(m2.lookup((uint64_t{1} << 32) * kShardBlocks + 5).has_value());
  EXPECT_FALSE(m2.set_crc((uint64_t{1} << 32) * kShardBlocks + 5, 2));
  EXPECT_EQ(m2.lookup(5)->crc, 1u);
}

TEST(Allocator, AllocatesReleasesAndReportsNoSpace) {
  Allocator a(100);
  a.release(DevExtent{10, 90});
  auto e = a.allocate(30);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0].block, 10u);
  auto f = a.allocate(70);
  EXPECT_EQ(f.code(), Errc::kNoSpace);
  EXPECT_EQ(a.free_blocks(), 60u);
  a.release(DevExtent{20, 5});  // a hole in the middle
  auto g = a.allocate(64);      // fragmented: gathers runs
  ASSERT_TRUE(g.ok());
  uint64_t n = 0;
  for (auto& x : *g) n += x.count;
  EXPECT_EQ(n, 64u);
  EXPECT_EQ(a.free_blocks(), 1u);
}

TEST(Allocator, TakesOnlyTheFreeBlocksOfARangeAndGetsThemBack) {
  Allocator a(100);
  a.release(DevExtent{0, 20});
  a.release(DevExtent{30, 10});
  a.release(DevExtent{50, 50});
  // [15, 60): free are 15-19, 30-39 and 50-59; 20-29 and 40-49 are in use.
  std::vector<DevExtent> taken = a.take_free_in(DevExtent{15, 45});
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(taken[0].block, 15u);
  EXPECT_EQ(taken[0].count, 5u);
  EXPECT_EQ(taken[1].block, 30u);
  EXPECT_EQ(taken[1].count, 10u);
  EXPECT_EQ(taken[2].block, 50u);
  EXPECT_EQ(taken[2].count, 10u);
  EXPECT_EQ(a.free_blocks(), 15u + 40u);
  // What is left is outside the range, and allocation never hands out a taken block.
  ASSERT_EQ(a.free_runs().size(), 2u);
  EXPECT_EQ(a.free_runs().begin()->first, 0u);
  EXPECT_EQ(a.free_runs().begin()->second, 15u);
  EXPECT_EQ(a.free_runs().rbegin()->first, 60u);
  EXPECT_EQ(a.free_runs().rbegin()->second, 40u);
  auto e = a.allocate(55);
  ASSERT_TRUE(e.ok());
  for (const DevExtent& x : *e) EXPECT_TRUE(x.block + x.count <= 15 || x.block >= 60) << x.block;
  for (const DevExtent& x : taken) a.release(x);
  EXPECT_EQ(a.free_blocks(), 25u);
  EXPECT_TRUE(a.take_free_in(DevExtent{60, 40}).empty());  // all in use now
}

TEST(BlockCache, HitsOnlyWithTheExpectedCrcAndEvictsTheLeastRecentlyUsed) {
  BlockCache c(3 * 4096 + 100);  // 3 slots
  ASSERT_EQ(c.capacity_blocks(), 3u);
  auto block = [](char fill) { return std::string(4096, fill); };
  std::string out(4096, '\0');
  c.put(10, 0xa, block('a').data());
  c.put(11, 0xb, block('b').data());
  c.put(12, 0xc, block('c').data());
  EXPECT_FALSE(c.get(10, 0xbad, out.data())) << "another crc: the block was rewritten since";
  ASSERT_TRUE(c.get(10, 0xa, out.data()));
  EXPECT_EQ(out, block('a'));
  c.put(13, 0xd, block('d').data());  // evicts 11, the least recently used
  EXPECT_FALSE(c.get(11, 0xb, out.data()));
  EXPECT_TRUE(c.get(12, 0xc, out.data()));
  EXPECT_TRUE(c.get(13, 0xd, out.data()));
  c.put(10, 0xe, block('e').data());  // replaces in place
  ASSERT_TRUE(c.get(10, 0xe, out.data()));
  EXPECT_EQ(out, block('e'));
  EXPECT_FALSE(c.get(10, 0xa, out.data()));
  EXPECT_EQ(c.hits(), 4u);
  EXPECT_EQ(c.misses(), 3u);
  c.erase(12, 1);
  EXPECT_FALSE(c.get(12, 0xc, out.data()));
  c.erase(0, 1000);  // more blocks than entries: the cache is walked instead
  EXPECT_FALSE(c.get(10, 0xe, out.data()));
  EXPECT_FALSE(c.get(13, 0xd, out.data()));
  for (uint64_t b = 0; b < 3; ++b) c.put(b, 1, block('x').data());  // the freed slots are used again
  for (uint64_t b = 0; b < 3; ++b) EXPECT_TRUE(c.get(b, 1, out.data())) << b;
  BlockCache none(100);
  none.put(1, 1, block('z').data());
  EXPECT_FALSE(none.get(1, 1, out.data()));
}

TEST(WalSpareFileSystem, KnowsRocksDbWalNames) {
  EXPECT_TRUE(WalSpareFileSystem::is_wal_name("/x/db/000012.log"));
  EXPECT_TRUE(WalSpareFileSystem::is_wal_name("000001.log"));
  EXPECT_FALSE(WalSpareFileSystem::is_wal_name("/x/db/LOG"));
  EXPECT_FALSE(WalSpareFileSystem::is_wal_name("/x/db/.log"));
  EXPECT_FALSE(WalSpareFileSystem::is_wal_name("/x/db/000012.sst"));
  EXPECT_FALSE(WalSpareFileSystem::is_wal_name("/x/db/LOG.old.1.log"));
  EXPECT_FALSE(WalSpareFileSystem::is_wal_name("/x/db/MANIFEST-000005"));
}

TEST(AllocBitmap, GroupsRoundTrip) {
  AllocBitmap b(5000);
  b.set(DevExtent{3, 2000}, true);
  b.set(DevExtent{100, 10}, false);
  EXPECT_EQ(b.used_blocks(), 1990u);
  AllocBitmap c(5000);
  for (uint64_t g = 0; g < b.groups(); ++g) ASSERT_TRUE(c.load_group(g, b.group_value(g)).ok());
  EXPECT_EQ(c.used_blocks(), 1990u);
  EXPECT_FALSE(c.load_group(99, b.group_value(0)).ok());
  EXPECT_FALSE(c.load_group(0, "short").ok());
  auto runs = c.free_runs();
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[1].block, 100u);
}

TEST(Onode, CorruptEncodingsAreErrorsNotCrashes) {
  Onode o;
  o.nid = 5;
  o.size = 3 * 4096;
  o.xattrs["x"] = BufferList::copy_of("y");
  o.extents.insert(0, 40, {1, 2, 3});
  std::string enc = encode_to_buffer(o).to_string();
  auto back = decode_from<Onode>(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->extents.lookup(2)->dev_block, 42u);
  SeededRandom r(3);
  for (int i = 0; i < 2000; ++i) {
    std::string bad = enc;
    for (int k = 0; k < 3; ++k) bad[r.uniform(bad.size())] = static_cast<char>(r.next_u64());
    if (r.chance(0.3)) bad.resize(r.uniform(bad.size()));
    (void)decode_from<Onode>(bad);  // must not crash or over-read (run under ASan in CI)
  }
  Onode beyond = o;
  beyond.size = 4096;  // extents reach past the object's end
  EXPECT_FALSE(decode_from<Onode>(encode_to_buffer(beyond).to_string()).ok());

  // A sharded onode lists its shards, ascending; its extents are read apart.
  Onode big;
  big.nid = 6;
  big.size = 4 << 20;
  big.sharded = true;
  big.stored_shards = {0, 3, 15};
  auto sb = decode_from<Onode>(encode_to_buffer(big).to_string());
  ASSERT_TRUE(sb.ok());
  EXPECT_TRUE(sb->sharded);
  EXPECT_EQ(sb->stored_shards, big.stored_shards);
  big.stored_shards = {3, 0};
  EXPECT_FALSE(decode_from<Onode>(encode_to_buffer(big).to_string()).ok());

  // Version 1 (before shards): the extent map inline, no form byte.
  BufferList v1;
  Encoder e(v1);
  auto m = e.begin_struct(1, 1);
  e.u64(5);
  e.u64(3 * 4096);
  e.put(o.xattrs);
  e.put(o.extents);
  e.end_struct(m);
  auto old = decode_from<Onode>(v1.to_string());
  ASSERT_TRUE(old.ok()) << old.status().to_string();
  EXPECT_FALSE(old->sharded);
  EXPECT_EQ(old->extents.lookup(1)->dev_block, 41u);
}

TEST(Superblock, RoundTripsAndRejectsDamage) {
  Superblock sb;
  sb.uuid_hi = 1;
  sb.uuid_lo = 2;
  sb.device_bytes = 64ull << 20;
  std::string block = sb.to_block();
  auto back = Superblock::from_block(block);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->same_identity(sb));
  block[30] ^= 1;
  EXPECT_EQ(Superblock::from_block(block).code(), Errc::kCorrupt);
  EXPECT_EQ(Superblock::from_block(std::string(4096, '\0')).code(), Errc::kCorrupt);
}

}  // namespace
}  // namespace cairn::store
