// OmapStage: one transaction's omap changes, by onode id. It writes them into the
// transaction's RocksDB batch, and it answers "what is this object's omap now?"
// for a clone later in the same transaction, which RocksDB alone cannot (the
// batch is not applied yet).
//
// Thread-safety: owned by one TxnBuilder (store mutex held).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cairn::store {

class OmapStage {
 public:
  explicit OmapStage(rocksdb::WriteBatch& batch) : b_(batch) {}

  void set(uint64_t nid, const std::string& key, std::string value);
  void rm(uint64_t nid, const std::string& key);
  void rm_range(uint64_t nid, const std::string& first, const std::string& last);
  void clear(uint64_t nid);  // every key and the header
  void set_header(uint64_t nid, std::string value);

  // The omap of `nid` as this transaction has left it so far: what RocksDB holds
  // (the caller drained the pipeline, so that is all committed state) plus the
  // staged changes.
  Status snapshot(rocksdb::DB& db, uint64_t nid, std::map<std::string, std::string>& kvs,
                  std::optional<std::string>& header) const;

 private:
  struct Staged {
    bool cleared = false;                                     // ignore RocksDB's keys and header
    std::vector<std::pair<std::string, std::string>> ranges;  // removed from RocksDB's keys
    std::map<std::string, std::optional<std::string>> kv;     // newest value; nullopt: removed
    std::optional<std::optional<std::string>> header;         // set: the newest header (or none)
  };
  rocksdb::WriteBatch& b_;
  std::map<uint64_t, Staged> staged_;
};

}  // namespace cairn::store
