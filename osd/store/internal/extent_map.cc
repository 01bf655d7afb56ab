#include "osd/store/internal/extent_map.h"

#include <algorithm>
#include <atomic>

namespace cairn::store {

namespace {
// Logical blocks a map can hold: shard numbers are 32 bits. decode() refuses
// more; lookup() and set_crc() need no check (a wrapped shard number finds no
// extent holding the block: find_holding compares whole block numbers).
constexpr uint64_t kMaxLBlocks = (uint64_t{1} << 32) * kShardBlocks;
uint32_t shard_of(uint64_t lblock) { return static_cast<uint32_t>(lblock / kShardBlocks); }
uint64_t shard_begin(uint32_t shard) { return uint64_t{shard} * kShardBlocks; }

// The extent of `m` holding `lblock`, or m.end().
template <class Map>
auto find_holding(Map& m, uint64_t lblock) {
  auto it = m.upper_bound(lblock);
  if (it == m.begin()) return m.end();
  --it;
  return lblock - it->first < it->second.crcs.size() ? it : m.end();
}
}  // namespace

std::optional<BlockRef> ExtentMap::lookup(uint64_t lblock) const {
  size_t s = shards_.find(shard_of(lblock));
  if (s == shards_.size()) return std::nullopt;
  const auto& m = shards_.shard(s).m;
  auto it = find_holding(m, lblock);
  if (it == m.end()) return std::nullopt;
  uint64_t i = lblock - it->first;
  return BlockRef{it->second.dev_block + i, it->second.crcs[i]};
}

ExtentMap::Shard& ExtentMap::mut(uint32_t shard) {
  ShardPtr& p = shards_.ptr(shards_.find_or_insert(shard));
  // use_count() 1: no other map holds it, and none can start to (only this map
  // reaches it), so it may change in place. The count is read relaxed; the
  // fence orders our writes after the reads of a map that let go of it on
  // another thread (its release came with the decrement we saw).
  if (!p) {
    p = std::make_shared<Shard>();
  } else if (p.use_count() > 1) {
    p = std::make_shared<Shard>(*p);
  } else {
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  return const_cast<Shard&>(*p);
}

void ExtentMap::drop_if_empty(uint32_t shard) {
  size_t i = shards_.find(shard);
  if (i < shards_.size() && shards_.shard(i).m.empty()) shards_.erase_at(i);
}

void ExtentMap::split_at(Shard& sh, uint64_t lblock) {
  auto it = find_holding(sh.m, lblock);
  if (it == sh.m.end() || it->first == lblock) return;
  uint64_t cut = lblock - it->first;
  Extent& e = it->second;
  Extent tail;
  tail.dev_block = e.dev_block + cut;
  tail.crcs.assign(e.crcs.begin() + static_cast<long>(cut), e.crcs.end());
  e.crcs.resize(cut);
  sh.m.emplace(lblock, std::move(tail));
}

std::vector<DevExtent> ExtentMap::punch(uint64_t begin, uint64_t end) {
  std::vector<DevExtent> freed;
  if (begin >= end) return freed;
  // Only the shards that exist in the range (a punch to "the end" of a huge
  // range must not visit every shard number in it).
  for (size_t s = shards_.lower(shard_of(begin)); s < shards_.size() && shard_begin(shards_.key(s)) < end;) {
    const uint32_t shard = shards_.key(s);
    uint64_t lo = std::max(begin, shard_begin(shard)), hi = std::min(end, shard_begin(shard) + kShardBlocks);
    const Shard& view = shards_.shard(s);
    auto first = view.m.upper_bound(lo);
    if (first != view.m.begin()) --first;
    bool touches = false;
    for (auto it = first; it != view.m.end() && it->first < hi; ++it) {
      if (it->first + it->second.crcs.size() > lo) touches = true;
    }
    if (!touches) {
      ++s;
      continue;
    }
    Shard& sh = mut(shard);
    split_at(sh, lo);
    split_at(sh, hi);
    for (auto it = sh.m.lower_bound(lo); it != sh.m.end() && it->first < hi;) {
      uint64_t n = it->second.crcs.size();
      mark_dirty(it->first, n);
      if (!freed.empty() && freed.back().block + freed.back().count == it->second.dev_block) {
        freed.back().count += n;  // continues the previous piece (across a shard's edge)
      } else {
        freed.push_back(DevExtent{it->second.dev_block, n});
      }
      sh.blocks -= n;
      it = sh.m.erase(it);
    }
    drop_if_empty(shard);
    // mut() and drop_if_empty() may have moved the index: find the next shard anew.
    s = shard == UINT32_MAX ? shards_.size() : shards_.lower(shard + 1);
  }
  return freed;
}

void ExtentMap::insert(uint64_t lblock, uint64_t dev_block, std::vector<uint32_t> crcs) {
  if (crcs.empty()) return;
  mark_dirty(lblock, crcs.size());
  join(lblock, dev_block, std::move(crcs));
}

void ExtentMap::join(uint64_t lblock, uint64_t dev_block, std::vector<uint32_t> crcs) {
  uint64_t pos = 0, n = crcs.size();
  while (pos < n) {
    uint64_t l = lblock + pos;
    uint32_t shard = shard_of(l);
    uint64_t take = std::min(n - pos, shard_begin(shard) + kShardBlocks - l);
    std::vector<uint32_t> piece;
    if (pos == 0 && take == n) {
      piece = std::move(crcs);
    } else {
      piece.assign(crcs.begin() + static_cast<long>(pos), crcs.begin() + static_cast<long>(pos + take));
    }
    Shard& sh = mut(shard);
    sh.blocks += take;
    // Merge with the previous extent of the shard when both sides are
    // contiguous: keeps onodes small.
    auto it = sh.m.lower_bound(l);
    bool merged = false;
    if (it != sh.m.begin()) {
      auto prev = std::prev(it);
      uint64_t pn = prev->second.crcs.size();
      if (prev->first + pn == l && prev->second.dev_block + pn == dev_block + pos) {
        prev->second.crcs.insert(prev->second.crcs.end(), piece.begin(), piece.end());
        merged = true;
      }
    }
    if (!merged) sh.m.emplace(l, Extent{dev_block + pos, std::move(piece)});
    pos += take;
  }
}

bool ExtentMap::set_crc(uint64_t lblock, uint32_t crc) {
  size_t s = shards_.find(shard_of(lblock));
  if (s == shards_.size() || find_holding(shards_.shard(s).m, lblock) == shards_.shard(s).m.end())
    return false;
  Shard& sh = mut(shards_.key(s));
  auto it = find_holding(sh.m, lblock);
  it->second.crcs[lblock - it->first] = crc;
  mark_dirty(lblock, 1);
  return true;
}

std::vector<std::pair<uint64_t, ExtentMap::Extent>> ExtentMap::extents() const {
  std::vector<std::pair<uint64_t, Extent>> out;
  for (size_t s = 0; s < shards_.size(); ++s) {
    for (const auto& [l, e] : shards_.shard(s).m) {
      if (!out.empty()) {
        auto& [pl, pe] = out.back();
        uint64_t pn = pe.crcs.size();
        if (pl + pn == l && pe.dev_block + pn == e.dev_block) {
          pe.crcs.insert(pe.crcs.end(), e.crcs.begin(), e.crcs.end());
          continue;
        }
      }
      out.emplace_back(l, e);
    }
  }
  return out;
}

uint64_t ExtentMap::end_block() const {
  if (shards_.empty()) return 0;
  const auto& last = *shards_.shard(shards_.size() - 1).m.rbegin();
  return last.first + last.second.crcs.size();
}

uint64_t ExtentMap::mapped_blocks() const {
  uint64_t n = 0;
  for (size_t s = 0; s < shards_.size(); ++s) n += shards_.shard(s).blocks;
  return n;
}

size_t ExtentMap::memory_bytes() const {
  // Per shard: its index entry, the Shard, and per extent a map node and 4 bytes a block.
  size_t n = 0;
  for (size_t s = 0; s < shards_.size(); ++s)
    n += 128 + shards_.shard(s).m.size() * 64 + shards_.shard(s).blocks * 4;
  return n;
}

void ExtentMap::mark_dirty(uint64_t lblock, uint64_t count) {
  if (count == 0) return;
  for (uint64_t s = lblock / kShardBlocks; s <= (lblock + count - 1) / kShardBlocks; ++s)
    dirty_.insert(static_cast<uint32_t>(s));
}

std::vector<uint32_t> ExtentMap::shards() const {
  std::vector<uint32_t> out;
  out.reserve(shards_.size());
  for (size_t s = 0; s < shards_.size(); ++s) out.push_back(shards_.key(s));
  return out;
}

// Shard encoding (versioned struct): u32 count, then per extent piece:
// u32 offset of its first block within the shard | u64 dev_block | vector<u32> crcs.
void ExtentMap::encode_shard(uint32_t shard, Encoder& e) const {
  uint64_t begin = shard_begin(shard);
  size_t s = shards_.find(shard);
  auto m = e.begin_struct(1, 1);
  if (s == shards_.size()) {
    e.u32(0);
  } else {
    e.u32(static_cast<uint32_t>(shards_.shard(s).m.size()));
    for (const auto& [l, ext] : shards_.shard(s).m) {
      e.u32(static_cast<uint32_t>(l - begin));
      e.u64(ext.dev_block);
      e.put(ext.crcs);
    }
  }
  e.end_struct(m);
}

void ExtentMap::decode_shard(uint32_t shard, Decoder& d) {
  auto s = d.begin_struct(1, "ExtentMap shard");
  uint64_t begin = shard_begin(shard);
  if (!shards_.empty() && shards_.key(shards_.size() - 1) >= shard) {
    d.fail("extent map shard: out of order");
    d.end_struct(s);
    return;
  }
  uint64_t next_free = begin;
  uint32_t n = d.count(16);
  for (uint32_t i = 0; i < n && !d.failed(); ++i) {
    uint64_t lblock = begin + d.u32();
    uint64_t dev_block = d.u64();
    std::vector<uint32_t> crcs(d.count(4));
    for (auto& c : crcs) c = d.u32();
    if (d.failed()) break;
    uint64_t len = crcs.size();
    if (len == 0 || lblock < next_free || lblock + len > begin + kShardBlocks ||
        dev_block + len < dev_block) {
      d.fail("extent map shard: empty, overlapping or out-of-shard extent");
      break;
    }
    next_free = lblock + len;
    join(lblock, dev_block, std::move(crcs));
  }
  d.end_struct(s);
}

// Inline encoding (objects of one shard or less, and every v1 onode): u32
// count, then per extent u64 lblock | u64 dev_block | vector<u32> crcs, extents
// joined across shard edges.
void ExtentMap::encode(Encoder& e) const {
  std::vector<std::pair<uint64_t, Extent>> all = extents();
  auto m = e.begin_struct(1, 1);
  e.u32(static_cast<uint32_t>(all.size()));
  for (const auto& [lblock, ext] : all) {
    e.u64(lblock);
    e.u64(ext.dev_block);
    e.put(ext.crcs);
  }
  e.end_struct(m);
}

void ExtentMap::decode(Decoder& d) {
  auto s = d.begin_struct(1, "ExtentMap");
  shards_.clear();
  uint32_t n = d.count(20);
  uint64_t next_free = 0;  // first logical block after the previous extent
  for (uint32_t i = 0; i < n && !d.failed(); ++i) {
    uint64_t lblock = d.u64();
    Extent ext;
    ext.dev_block = d.u64();
    d.get(ext.crcs);
    if (d.failed()) break;
    uint64_t len = ext.crcs.size();
    if (len == 0 || lblock < next_free || lblock + len < lblock || lblock + len > kMaxLBlocks ||
        ext.dev_block + len < ext.dev_block) {
      d.fail("extent map: empty, overlapping or overflowing extent");
      break;
    }
    next_free = lblock + len;
    join(lblock, ext.dev_block, std::move(ext.crcs));
  }
  d.end_struct(s);
}

}  // namespace cairn::store
