#include "osd/store/internal/extent_map.h"

namespace cairn::store {

std::optional<BlockRef> ExtentMap::lookup(uint64_t lblock) const {
  auto it = m_.upper_bound(lblock);
  if (it == m_.begin()) return std::nullopt;
  --it;
  uint64_t i = lblock - it->first;
  if (i >= it->second.crcs.size()) return std::nullopt;
  return BlockRef{it->second.dev_block + i, it->second.crcs[i]};
}

void ExtentMap::split_at(uint64_t lblock) {
  auto it = m_.upper_bound(lblock);
  if (it == m_.begin()) return;
  --it;
  uint64_t start = it->first;
  Extent& e = it->second;
  if (lblock == start || lblock >= start + e.crcs.size()) return;
  uint64_t cut = lblock - start;
  Extent tail;
  tail.dev_block = e.dev_block + cut;
  tail.crcs.assign(e.crcs.begin() + static_cast<long>(cut), e.crcs.end());
  e.crcs.resize(cut);
  m_.emplace(lblock, std::move(tail));
}

std::vector<DevExtent> ExtentMap::punch(uint64_t begin, uint64_t end) {
  std::vector<DevExtent> freed;
  if (begin >= end) return freed;
  split_at(begin);
  split_at(end);
  auto it = m_.lower_bound(begin);
  while (it != m_.end() && it->first < end) {
    mark_dirty(it->first, it->second.crcs.size());
    freed.push_back(DevExtent{it->second.dev_block, it->second.crcs.size()});
    it = m_.erase(it);
  }
  return freed;
}

void ExtentMap::insert(uint64_t lblock, uint64_t dev_block, std::vector<uint32_t> crcs) {
  if (crcs.empty()) return;
  mark_dirty(lblock, crcs.size());
  join(lblock, dev_block, std::move(crcs));
}

void ExtentMap::join(uint64_t lblock, uint64_t dev_block, std::vector<uint32_t> crcs) {
  // Merge with the previous extent when both sides are contiguous: keeps onodes small.
  auto it = m_.lower_bound(lblock);
  if (it != m_.begin()) {
    auto prev = std::prev(it);
    uint64_t n = prev->second.crcs.size();
    if (prev->first + n == lblock && prev->second.dev_block + n == dev_block) {
      prev->second.crcs.insert(prev->second.crcs.end(), crcs.begin(), crcs.end());
      return;
    }
  }
  m_.emplace(lblock, Extent{dev_block, std::move(crcs)});
}

bool ExtentMap::set_crc(uint64_t lblock, uint32_t crc) {
  auto it = m_.upper_bound(lblock);
  if (it == m_.begin()) return false;
  --it;
  uint64_t i = lblock - it->first;
  if (i >= it->second.crcs.size()) return false;
  it->second.crcs[i] = crc;
  mark_dirty(lblock, 1);
  return true;
}

uint64_t ExtentMap::mapped_blocks() const {
  uint64_t n = 0;
  for (const auto& [l, e] : m_) n += e.crcs.size();
  return n;
}

void ExtentMap::mark_dirty(uint64_t lblock, uint64_t count) {
  if (count == 0) return;
  for (uint64_t s = lblock / kShardBlocks; s <= (lblock + count - 1) / kShardBlocks; ++s)
    dirty_.insert(static_cast<uint32_t>(s));
}

std::vector<uint32_t> ExtentMap::shards() const {
  std::vector<uint32_t> out;
  for (const auto& [lblock, ext] : m_) {
    uint64_t first = lblock / kShardBlocks, last = (lblock + ext.crcs.size() - 1) / kShardBlocks;
    for (uint64_t s = first; s <= last; ++s) {
      if (out.empty() || out.back() < s) out.push_back(static_cast<uint32_t>(s));
    }
  }
  return out;
}

bool ExtentMap::maps_any_in_shard(uint32_t shard) const {
  uint64_t begin = uint64_t{shard} * kShardBlocks, end = begin + kShardBlocks;
  auto it = m_.lower_bound(end);  // the first extent starting at or past the shard's end
  if (it == m_.begin()) return false;
  --it;  // the last extent starting before it: it reaches into the shard, or none does
  return it->first + it->second.crcs.size() > begin;
}

// Shard encoding (versioned struct): u32 count, then per extent piece:
// u32 offset of its first block within the shard | u64 dev_block | vector<u32> crcs.
void ExtentMap::encode_shard(uint32_t shard, Encoder& e) const {
  uint64_t begin = uint64_t{shard} * kShardBlocks, end = begin + kShardBlocks;
  auto first = m_.upper_bound(begin);
  if (first != m_.begin() && std::prev(first)->first + std::prev(first)->second.crcs.size() > begin) --first;
  auto last = m_.lower_bound(end);
  auto m = e.begin_struct(1, 1);
  e.u32(static_cast<uint32_t>(std::distance(first, last)));
  for (auto it = first; it != last; ++it) {
    uint64_t lo = std::max(begin, it->first), hi = std::min(end, it->first + it->second.crcs.size());
    e.u32(static_cast<uint32_t>(lo - begin));
    e.u64(it->second.dev_block + (lo - it->first));
    e.u32(static_cast<uint32_t>(hi - lo));
    for (uint64_t b = lo; b < hi; ++b) e.u32(it->second.crcs[b - it->first]);
  }
  e.end_struct(m);
}

void ExtentMap::decode_shard(uint32_t shard, Decoder& d) {
  auto s = d.begin_struct(1, "ExtentMap shard");
  uint64_t begin = uint64_t{shard} * kShardBlocks;
  uint64_t next_free = begin;
  if (!m_.empty()) {
    const auto& [l, e] = *m_.rbegin();
    next_free = std::max(next_free, l + e.crcs.size());
  }
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
    join(lblock, dev_block, std::move(crcs));  // a piece meets its other half again
  }
  d.end_struct(s);
}

void ExtentMap::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.u32(static_cast<uint32_t>(m_.size()));
  for (const auto& [lblock, ext] : m_) {
    e.u64(lblock);
    e.u64(ext.dev_block);
    e.put(ext.crcs);
  }
  e.end_struct(m);
}

void ExtentMap::decode(Decoder& d) {
  auto s = d.begin_struct(1, "ExtentMap");
  m_.clear();
  uint32_t n = d.count(20);
  uint64_t next_free = 0;  // first logical block after the previous extent
  for (uint32_t i = 0; i < n && !d.failed(); ++i) {
    uint64_t lblock = d.u64();
    Extent ext;
    ext.dev_block = d.u64();
    d.get(ext.crcs);
    if (d.failed()) break;
    uint64_t len = ext.crcs.size();
    if (len == 0 || lblock < next_free || lblock + len < lblock || ext.dev_block + len < ext.dev_block) {
      d.fail("extent map: empty, overlapping or overflowing extent");
      break;
    }
    next_free = lblock + len;
    m_.emplace(lblock, std::move(ext));
  }
  d.end_struct(s);
}

}  // namespace cairn::store
