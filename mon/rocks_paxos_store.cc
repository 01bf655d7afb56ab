// The monitor's durable store on RocksDB.
//
// Keys (one column family, prefixes per kind; docs/paxos.md):
//   p:promised      u64 (LE)          highest ballot promised
//   p:uncommitted   Uncommitted       the value accepted but not yet committed
//   p:first,p:last  u64 (LE)          committed log bounds
//   l:<016x ver>    encoded PaxosValue committed log entry
//   s:<key>         bytes             the state the log built
// Every mutation is one WriteBatch written with sync=true, except commit() (see there).
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cinttypes>
#include <cstdio>

#include "mon/paxos_store.h"

namespace cairn::mon {
namespace {

constexpr char kPromised[] = "p:promised";
constexpr char kUncommitted[] = "p:uncommitted";
constexpr char kFirst[] = "p:first";
constexpr char kLast[] = "p:last";
constexpr char kLogPrefix[] = "l:";
constexpr char kStatePrefix[] = "s:";

std::string u64_bytes(uint64_t v) { return encode_to_buffer(v).to_string(); }

std::string log_key(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "l:%016" PRIx64, v);
  return b;
}

Status from_rocks(const rocksdb::Status& s, const char* what) {
  if (s.ok()) return {};
  Errc c = s.IsCorruption() ? Errc::kCorrupt
           : s.IsIOError()  ? Errc::kIo
           : s.IsNoSpace()  ? Errc::kNoSpace
                            : Errc::kInternal;
  return Status(c, std::string(what) + ": " + s.ToString());
}

class RocksPaxosStore final : public PaxosStore {
 public:
  explicit RocksPaxosStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) { wo_.sync = true; }

  Status load() {
    CAIRN_ASSIGN_OR_RETURN(promised_, read_u64(kPromised));
    CAIRN_ASSIGN_OR_RETURN(first_, read_u64(kFirst));
    CAIRN_ASSIGN_OR_RETURN(last_, read_u64(kLast));
    std::string v;
    auto s = db_->Get(ro_, kUncommitted, &v);
    if (s.ok()) {
      auto u = decode_from<Uncommitted>(v);
      if (!u.ok()) return u.status().with_context("monitor store corrupt: uncommitted value");
      uncommitted_ = std::move(*u);
    } else if (!s.IsNotFound()) {
      return from_rocks(s, "read uncommitted");
    }
    if (last_ != 0 && first_ > last_ + 1) return error(Errc::kCorrupt, "monitor store corrupt: log bounds");
    return {};
  }

  uint64_t promised_pn() const override { return promised_; }
  Status set_promised_pn(uint64_t pn) override {
    CAIRN_RETURN_IF_ERROR(from_rocks(db_->Put(wo_, kPromised, u64_bytes(pn)), "write promise"));
    promised_ = pn;
    return {};
  }
  std::optional<Uncommitted> uncommitted() const override { return uncommitted_; }
  Status set_uncommitted(const Uncommitted& u) override {
    CAIRN_RETURN_IF_ERROR(from_rocks(db_->Put(wo_, kUncommitted, encode_to_buffer(u).to_string()), "accept"));
    uncommitted_ = u;
    return {};
  }
  uint64_t first_committed() const override { return first_; }
  uint64_t last_committed() const override { return last_; }

  Status commit(uint64_t version, const std::string& value) override {
    if (version != last_ + 1) return error(Errc::kInvalid, "commit out of order");
    auto pv = decode_from<PaxosValue>(value);
    if (!pv.ok()) return pv.status().with_context("commit");
    rocksdb::WriteBatch b;
    b.Put(log_key(version), value);
    for (const auto& txn : pv->txns) {
      for (const auto& op : txn.ops) {
        std::string k = kStatePrefix + op.key;
        if (op.kind == KvOp::kPut)
          b.Put(k, op.value);
        else
          b.Delete(k);
      }
    }
    b.Put(kLast, u64_bytes(version));
    uint64_t first = first_ == 0 ? version : first_;
    b.Put(kFirst, u64_bytes(first));
    b.Delete(kUncommitted);
    // Not synced: a committed value was accepted durably by a majority (this
    // monitor's own acceptance included), so losing this write in a crash only
    // rolls this monitor back to "accepted", which recovery re-proposes. The next
    // synced write (any accept or promise) makes it durable, as the WAL is ordered.
    rocksdb::WriteOptions lazy;
    lazy.sync = false;
    CAIRN_RETURN_IF_ERROR(from_rocks(db_->Write(lazy, &b), "commit"));
    last_ = version;
    first_ = first;
    uncommitted_.reset();
    return {};
  }

  Result<std::string> entry(uint64_t version) const override {
    std::string v;
    auto s = db_->Get(ro_, log_key(version), &v);
    if (s.IsNotFound()) return Status(Errc::kNotFound, "log entry trimmed or absent");
    CAIRN_RETURN_IF_ERROR(from_rocks(s, "read log entry"));
    return v;
  }

  Status trim(uint64_t keep_from) override {
    if (keep_from <= first_) return {};
    rocksdb::WriteBatch b;
    b.DeleteRange(log_key(0), log_key(keep_from));
    b.Put(kFirst, u64_bytes(keep_from));
    CAIRN_RETURN_IF_ERROR(from_rocks(db_->Write(wo_, &b), "trim"));
    first_ = keep_from;
    return {};
  }

  Snapshot snapshot() const override { return Snapshot{last_, scan("")}; }

  Status install_snapshot(const Snapshot& s) override {
    rocksdb::WriteBatch b;
    b.DeleteRange(kStatePrefix, "s;");  // ';' follows ':' in ASCII: the whole s: range
    b.DeleteRange(kLogPrefix, "l;");
    for (const auto& [k, v] : s.kv) b.Put(kStatePrefix + k, v);
    b.Put(kLast, u64_bytes(s.last_committed));
    b.Put(kFirst, u64_bytes(s.last_committed + 1));
    b.Delete(kUncommitted);
    CAIRN_RETURN_IF_ERROR(from_rocks(db_->Write(wo_, &b), "install snapshot"));
    last_ = s.last_committed;
    first_ = last_ + 1;
    uncommitted_.reset();
    return {};
  }

  std::optional<std::string> get(const std::string& key) const override {
    std::string v;
    if (!db_->Get(ro_, kStatePrefix + key, &v).ok()) return std::nullopt;
    return v;
  }

  std::map<std::string, std::string> scan(const std::string& prefix) const override {
    std::map<std::string, std::string> out;
    std::string p = kStatePrefix + prefix;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro_));
    for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next())
      out.emplace(it->key().ToString().substr(2), it->value().ToString());
    return out;
  }

 private:
  Result<uint64_t> read_u64(const char* key) {
    std::string v;
    auto s = db_->Get(ro_, key, &v);
    if (s.IsNotFound()) return uint64_t{0};
    CAIRN_RETURN_IF_ERROR(from_rocks(s, key));
    auto r = decode_from<uint64_t>(v);
    if (!r.ok()) return r.status().with_context(std::string("monitor store corrupt: ") + key);
    return *r;
  }

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::WriteOptions wo_;
  rocksdb::ReadOptions ro_;
  uint64_t promised_ = 0, first_ = 0, last_ = 0;
  std::optional<Uncommitted> uncommitted_;
};

}  // namespace

Result<std::unique_ptr<PaxosStore>> open_rocks_paxos_store(const std::string& path) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.paranoid_checks = true;
  opts.max_open_files = 256;
  opts.keep_log_file_num = 2;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(opts, path, &raw);
  if (!s.ok()) return from_rocks(s, ("open monitor store " + path).c_str());
  auto store = std::make_unique<RocksPaxosStore>(std::unique_ptr<rocksdb::DB>(raw));
  CAIRN_RETURN_IF_ERROR(store->load());
  return std::unique_ptr<PaxosStore>(std::move(store));
}

}  // namespace cairn::mon
