#include "mon/paxos_store.h"

namespace cairn::mon {

Status apply_value(const std::string& value, std::map<std::string, std::string>& kv) {
  auto v = decode_from<PaxosValue>(value);
  if (!v.ok()) return v.status().with_context("committed value");
  for (const auto& txn : v->txns) {
    for (const auto& op : txn.ops) {
      if (op.kind == KvOp::kPut)
        kv[op.key] = op.value;
      else
        kv.erase(op.key);
    }
  }
  return {};
}

namespace {

class MemPaxosStore final : public PaxosStore {
 public:
  uint64_t promised_pn() const override { return promised_; }
  Status set_promised_pn(uint64_t pn) override {
    promised_ = pn;
    return {};
  }
  std::optional<Uncommitted> uncommitted() const override { return uncommitted_; }
  Status set_uncommitted(const Uncommitted& u) override {
    uncommitted_ = u;
    return {};
  }
  uint64_t first_committed() const override { return first_; }
  uint64_t last_committed() const override { return last_; }
  Status commit(uint64_t version, const std::string& value) override {
    if (version != last_ + 1) return error(Errc::kInvalid, "commit out of order");
    std::map<std::string, std::string> next = kv_;
    CAIRN_RETURN_IF_ERROR(apply_value(value, next));
    kv_ = std::move(next);
    log_[version] = value;
    last_ = version;
    if (first_ == 0) first_ = version;
    uncommitted_.reset();
    return {};
  }
  Result<std::string> entry(uint64_t version) const override {
    auto it = log_.find(version);
    if (it == log_.end()) return Status(Errc::kNotFound, "log entry trimmed or absent");
    return it->second;
  }
  Status trim(uint64_t keep_from) override {
    while (!log_.empty() && log_.begin()->first < keep_from) log_.erase(log_.begin());
    first_ = log_.empty() ? last_ + 1 : log_.begin()->first;
    return {};
  }
  Snapshot snapshot() const override { return Snapshot{last_, kv_}; }
  Status install_snapshot(const Snapshot& s) override {
    kv_ = s.kv;
    log_.clear();
    last_ = s.last_committed;
    first_ = last_ + 1;
    uncommitted_.reset();
    return {};
  }
  std::optional<std::string> get(const std::string& key) const override {
    auto it = kv_.find(key);
    if (it == kv_.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, std::string> scan(const std::string& prefix) const override {
    std::map<std::string, std::string> out;
    for (auto it = kv_.lower_bound(prefix);
         it != kv_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
      out.insert(*it);
    return out;
  }

 private:
  uint64_t promised_ = 0;
  std::optional<Uncommitted> uncommitted_;
  uint64_t first_ = 0, last_ = 0;
  std::map<uint64_t, std::string> log_;
  std::map<std::string, std::string> kv_;
};

}  // namespace

std::unique_ptr<PaxosStore> make_mem_paxos_store() { return std::make_unique<MemPaxosStore>(); }

}  // namespace cairn::mon
