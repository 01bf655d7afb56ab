#include "osd/store/internal/onode_cache.h"

namespace cairn::store {

OnodeRef OnodeCache::get(const std::string& key) {
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.onode;
}

void OnodeCache::put(const std::string& key, OnodeRef onode) {
  erase(key);
  size_t bytes = onode->memory_bytes() + key.size();
  lru_.push_front(key);
  map_.emplace(key, Entry{std::move(onode), bytes, lru_.begin()});
  bytes_ += bytes;
  trim();
}

void OnodeCache::erase(const std::string& key) {
  auto it = map_.find(key);
  if (it == map_.end()) return;
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  map_.erase(it);
}

void OnodeCache::trim() {
  while (bytes_ > budget_ && !lru_.empty()) erase(lru_.back());
}

}  // namespace cairn::store
