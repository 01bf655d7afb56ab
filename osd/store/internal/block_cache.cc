#include "osd/store/internal/block_cache.h"

#include <cstring>

namespace cairn::store {

BlockCache::BlockCache(uint64_t bytes) : slots_(bytes / kBlock) {
  // new char[] of a large size is an untouched mapping: pages become resident as
  // slots are first written.
  arena_.reset(new char[slots_.size() * kBlock]);
  free_.reserve(slots_.size());
  for (uint32_t s = static_cast<uint32_t>(slots_.size()); s > 0; --s) free_.push_back(s - 1);
  index_.reserve(slots_.size());
}

void BlockCache::unlink(uint32_t s) {
  Slot& x = slots_[s];
  if (x.prev != kNil)
    slots_[x.prev].next = x.next;
  else
    head_ = x.next;
  if (x.next != kNil)
    slots_[x.next].prev = x.prev;
  else
    tail_ = x.prev;
  x.prev = x.next = kNil;
}

void BlockCache::push_front(uint32_t s) {
  Slot& x = slots_[s];
  x.prev = kNil;
  x.next = head_;
  if (head_ != kNil) slots_[head_].prev = s;
  head_ = s;
  if (tail_ == kNil) tail_ = s;
}

bool BlockCache::get(uint64_t dev_block, uint32_t crc, char* dst) {
  std::lock_guard lock(mu_);
  auto it = index_.find(dev_block);
  if (it == index_.end() || slots_[it->second].crc != crc) {
    ++misses_;
    return false;
  }
  uint32_t s = it->second;
  std::memcpy(dst, data(s), kBlock);
  if (head_ != s) {
    unlink(s);
    push_front(s);
  }
  ++hits_;
  return true;
}

void BlockCache::put(uint64_t dev_block, uint32_t crc, const char* src) {
  if (slots_.empty()) return;
  std::lock_guard lock(mu_);
  uint32_t s;
  auto it = index_.find(dev_block);
  if (it != index_.end()) {
    s = it->second;
    unlink(s);
  } else if (!free_.empty()) {
    s = free_.back();
    free_.pop_back();
    index_.emplace(dev_block, s);
  } else {
    s = tail_;  // evict the least recently used
    unlink(s);
    index_.erase(slots_[s].block);
    index_.emplace(dev_block, s);
  }
  slots_[s].block = dev_block;
  slots_[s].crc = crc;
  std::memcpy(data(s), src, kBlock);
  push_front(s);
}

void BlockCache::erase(uint64_t dev_block, uint64_t count) {
  std::lock_guard lock(mu_);
  if (index_.empty()) return;
  if (count > index_.size()) {  // a big extent: walk the cache instead
    for (auto it = index_.begin(); it != index_.end();) {
      if (it->first < dev_block || it->first >= dev_block + count) {
        ++it;
        continue;
      }
      unlink(it->second);
      free_.push_back(it->second);
      it = index_.erase(it);
    }
    return;
  }
  for (uint64_t b = dev_block; b < dev_block + count; ++b) {
    auto it = index_.find(b);
    if (it == index_.end()) continue;
    unlink(it->second);
    free_.push_back(it->second);
    index_.erase(it);
  }
}

uint64_t BlockCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

uint64_t BlockCache::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

}  // namespace cairn::store
