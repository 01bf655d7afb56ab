#include "osd/store/internal/omap_stage.h"

#include <rocksdb/iterator.h>

#include <memory>

#include "osd/store/internal/keys.h"

namespace cairn::store {

void OmapStage::set(uint64_t nid, const std::string& key, std::string value) {
  b_.Put(keys::omap_key(nid, key), value);
  staged_[nid].kv[key] = std::move(value);
}

void OmapStage::rm(uint64_t nid, const std::string& key) {
  b_.Delete(keys::omap_key(nid, key));
  staged_[nid].kv[key] = std::nullopt;
}

void OmapStage::rm_range(uint64_t nid, const std::string& first, const std::string& last) {
  if (first >= last) return;
  b_.DeleteRange(keys::omap_key(nid, first), keys::omap_key(nid, last));
  Staged& s = staged_[nid];
  s.kv.erase(s.kv.lower_bound(first), s.kv.lower_bound(last));
  s.ranges.emplace_back(first, last);
}

void OmapStage::clear(uint64_t nid) {
  b_.DeleteRange(keys::omap_prefix(nid), keys::omap_prefix(nid + 1));
  b_.Delete(keys::omap_header_key(nid));
  Staged& s = staged_[nid];
  s = Staged{};
  s.cleared = true;
  s.header = std::optional<std::string>();
}

void OmapStage::set_header(uint64_t nid, std::string value) {
  b_.Put(keys::omap_header_key(nid), value);
  staged_[nid].header = std::optional<std::string>(std::move(value));
}

Status OmapStage::snapshot(rocksdb::DB& db, uint64_t nid, std::map<std::string, std::string>& kvs,
                           std::optional<std::string>& header) const {
  auto it = staged_.find(nid);
  const Staged* st = it == staged_.end() ? nullptr : &it->second;
  kvs.clear();
  if (!st || !st->cleared) {
    std::string prefix = keys::omap_prefix(nid);
    std::unique_ptr<rocksdb::Iterator> dbit(db.NewIterator(rocksdb::ReadOptions()));
    for (dbit->Seek(prefix); dbit->Valid() && dbit->key().starts_with(prefix); dbit->Next()) {
      std::string k = dbit->key().ToString().substr(prefix.size());
      bool removed = false;
      for (size_t i = 0; st && i < st->ranges.size() && !removed; ++i) {
        removed = k >= st->ranges[i].first && k < st->ranges[i].second;
      }
      if (!removed) kvs[k] = dbit->value().ToString();
    }
    if (!dbit->status().ok()) return error(Errc::kIo, "rocksdb iterate: " + dbit->status().ToString());
  }
  if (st) {
    for (const auto& [k, v] : st->kv) {
      if (v) {
        kvs[k] = *v;
      } else {
        kvs.erase(k);
      }
    }
  }
  if (st && st->header) {
    header = *st->header;
    return ok_status();
  }
  std::string v;
  rocksdb::Status rs = db.Get(rocksdb::ReadOptions(), keys::omap_header_key(nid), &v);
  if (rs.ok()) {
    header = std::move(v);
  } else if (rs.IsNotFound()) {
    header.reset();
  } else {
    return error(Errc::kIo, "rocksdb get: " + rs.ToString());
  }
  return ok_status();
}

}  // namespace cairn::store
