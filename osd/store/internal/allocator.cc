#include "osd/store/internal/allocator.h"

#include <algorithm>
#include <cassert>
#include <string>

namespace cairn::store {

void Allocator::take(std::map<uint64_t, uint64_t>::iterator it, uint64_t count, std::vector<DevExtent>& out) {
  uint64_t start = it->first, len = it->second;
  uint64_t n = count < len ? count : len;
  free_.erase(it);
  if (n < len) free_.emplace(start + n, len - n);
  free_blocks_ -= n;
  cursor_ = start + n;
  if (!out.empty() && out.back().block + out.back().count == start) {
    out.back().count += n;
  } else {
    out.push_back(DevExtent{start, n});
  }
}

Result<std::vector<DevExtent>> Allocator::allocate(uint64_t count) {
  if (count == 0) return std::vector<DevExtent>{};
  if (count > free_blocks_) {
    return error(Errc::kNoSpace,
                 "need " + std::to_string(count) + " blocks, " + std::to_string(free_blocks_) + " free");
  }
  std::vector<DevExtent> out;
  // First a single run that fits, from the cursor on, then from the start.
  for (int pass = 0; pass < 2; ++pass) {
    auto it = pass == 0 ? free_.lower_bound(cursor_) : free_.begin();
    for (; it != free_.end(); ++it) {
      if (it->second >= count) {
        take(it, count, out);
        return out;
      }
    }
  }
  // Fragmented: gather runs from the start.
  uint64_t left = count;
  while (left > 0) {
    auto it = free_.begin();
    uint64_t n = it->second < left ? it->second : left;
    take(it, n, out);
    left -= n;
  }
  return out;
}

std::vector<DevExtent> Allocator::take_free_in(const DevExtent& range) {
  std::vector<DevExtent> out;
  uint64_t end = range.block + range.count;
  auto it = free_.lower_bound(range.block);
  if (it != free_.begin() && std::prev(it)->first + std::prev(it)->second > range.block) --it;
  while (it != free_.end() && it->first < end) {
    uint64_t start = it->first, len = it->second;
    uint64_t b = std::max(start, range.block), e = std::min(start + len, end);
    it = free_.erase(it);
    if (start < b) free_.emplace(start, b - start);
    if (e < start + len) it = free_.emplace(e, start + len - e).first;
    free_blocks_ -= e - b;
    out.push_back(DevExtent{b, e - b});
  }
  return out;
}

void Allocator::release(const DevExtent& e) {
  if (e.count == 0) return;
  uint64_t start = e.block, len = e.count;
  auto next = free_.lower_bound(start);
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    assert(prev->first + prev->second <= start && "double free");
    if (prev->first + prev->second == start) {
      start = prev->first;
      len += prev->second;
      free_.erase(prev);
    }
  }
  if (next != free_.end() && start + len == next->first) {
    len += next->second;
    free_.erase(next);
  }
  free_.emplace(start, len);
  free_blocks_ += e.count;
}

AllocBitmap::AllocBitmap(uint64_t total_blocks)
    : total_(total_blocks), words_((groups() * kBlocksPerGroup) / 64, 0) {}

void AllocBitmap::set(const DevExtent& e, bool used) {
  for (uint64_t b = e.block; b < e.block + e.count && b < total_; ++b) {
    uint64_t mask = 1ull << (b % 64);
    bool was = words_[b / 64] & mask;
    if (was == used) continue;
    words_[b / 64] ^= mask;
    used_ += used ? 1 : -1;
  }
}

std::string AllocBitmap::group_value(uint64_t group) const {
  std::string v(kGroupBytes, '\0');
  for (size_t w = 0; w < kBlocksPerGroup / 64; ++w) {
    uint64_t word = words_[group * (kBlocksPerGroup / 64) + w];
    for (int i = 0; i < 8; ++i) v[w * 8 + i] = static_cast<char>(word >> (8 * i));
  }
  return v;
}

Status AllocBitmap::load_group(uint64_t group, std::string_view value) {
  if (group >= groups() || value.size() != kGroupBytes) {
    return error(Errc::kCorrupt, "bad allocation bitmap group " + std::to_string(group));
  }
  for (size_t w = 0; w < kBlocksPerGroup / 64; ++w) {
    uint64_t word = 0;
    for (int i = 0; i < 8; ++i)
      word |= static_cast<uint64_t>(static_cast<unsigned char>(value[w * 8 + i])) << (8 * i);
    uint64_t& dst = words_[group * (kBlocksPerGroup / 64) + w];
    used_ -= static_cast<uint64_t>(__builtin_popcountll(dst));
    dst = word;
    used_ += static_cast<uint64_t>(__builtin_popcountll(dst));
  }
  return ok_status();
}

std::vector<DevExtent> AllocBitmap::free_runs() const {
  std::vector<DevExtent> out;
  uint64_t b = 0;
  while (b < total_) {
    if (test(b)) {
      ++b;
      continue;
    }
    uint64_t start = b;
    while (b < total_ && !test(b)) ++b;
    out.push_back(DevExtent{start, b - start});
  }
  return out;
}

}  // namespace cairn::store
