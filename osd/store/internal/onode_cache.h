// OnodeCache: committed onodes by RocksDB key, least recently used evicted
// first, bounded by an approximate byte budget.
//
// Thread-safety: none; the BlockStore guards it with its state mutex.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>

#include "osd/store/internal/onode.h"

namespace cairn::store {

class OnodeCache {
 public:
  explicit OnodeCache(size_t budget_bytes) : budget_(budget_bytes) {}

  OnodeRef get(const std::string& key);
  void put(const std::string& key, OnodeRef onode);
  void erase(const std::string& key);
  size_t bytes() const { return bytes_; }
  size_t entries() const { return map_.size(); }

 private:
  struct Entry {
    OnodeRef onode;
    size_t bytes;
    std::list<std::string>::iterator lru;
  };
  void trim();
  size_t budget_;
  size_t bytes_ = 0;
  std::list<std::string> lru_;  // front: most recent
  std::unordered_map<std::string, Entry> map_;
};

}  // namespace cairn::store
