#include "osd/pg/pg_log.h"

#include <algorithm>
#include <set>

namespace cairn::pg {

void LogEntry::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(op);
  e.put(oid);
  e.put(version);
  e.put(prior_version);
  e.put(reqid);
  e.put(result);
  e.end_struct(m);
}

void LogEntry::decode(Decoder& d) {
  auto s = d.begin_struct(1, "LogEntry");
  d.get(op);
  d.get(oid);
  d.get(version);
  d.get(prior_version);
  d.get(reqid);
  d.get(result);
  if (op != Op::kModify && op != Op::kDelete) d.fail("LogEntry: unknown op");
  if (!d.failed() && prior_version >= version) d.fail("LogEntry: prior_version not older than version");
  d.end_struct(s);
}

void MissingItem::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(need);
  e.put(have);
  e.put(is_delete);
  e.end_struct(m);
}

void MissingItem::decode(Decoder& d) {
  auto s = d.begin_struct(1, "MissingItem");
  d.get(need);
  d.get(have);
  d.get(is_delete);
  d.end_struct(s);
}

void MissingSet::add(const store::ObjectId& oid, Eversion need, Eversion have, bool is_delete) {
  items_[oid] = MissingItem{need, have, is_delete};
}

const MissingItem* MissingSet::find(const store::ObjectId& oid) const {
  auto it = items_.find(oid);
  return it == items_.end() ? nullptr : &it->second;
}

void MissingSet::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(items_);
  e.end_struct(m);
}

void MissingSet::decode(Decoder& d) {
  auto s = d.begin_struct(1, "MissingSet");
  d.get(items_);
  d.end_struct(s);
}

Status PgLog::append(LogEntry e) {
  if (e.version <= head_) {
    return error(Errc::kInvalid,
                 "log entry " + e.version.to_string() + " not after head " + head_.to_string());
  }
  if (e.prior_version >= e.version) return error(Errc::kInvalid, "log entry prior_version not older");
  head_ = e.version;
  if (!e.reqid.is_zero()) reqids_[e.reqid] = e.version;
  entries_.push_back(std::move(e));
  return {};
}

void PgLog::trim_to(Eversion to, size_t max_dups) {
  if (to > head_) to = head_;
  while (!entries_.empty() && entries_.front().version <= to) {
    const LogEntry& e = entries_.front();
    if (!e.reqid.is_zero()) {
      reqids_.erase(e.reqid);
      dups_.emplace_back(e.reqid, e.version);
      dup_index_[e.reqid] = e.version;
    }
    entries_.pop_front();
  }
  if (to > tail_) tail_ = to;
  while (dups_.size() > max_dups) {
    auto it = dup_index_.find(dups_.front().first);
    if (it != dup_index_.end() && it->second == dups_.front().second) dup_index_.erase(it);
    dups_.pop_front();
  }
}

void PgLog::trim_to_size(size_t max_entries) {
  if (entries_.size() <= max_entries) return;
  trim_to(entries_[entries_.size() - max_entries - 1].version);
}

std::optional<Eversion> PgLog::find_reqid(const ReqId& reqid) const {
  if (auto it = reqids_.find(reqid); it != reqids_.end()) return it->second;
  if (auto it = dup_index_.find(reqid); it != dup_index_.end()) return it->second;
  return std::nullopt;
}

const LogEntry* PgLog::newest_for(const store::ObjectId& oid) const {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (it->oid == oid) return &*it;
  return nullptr;
}

std::vector<LogEntry> PgLog::entries_after(Eversion since) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), since,
                             [](const Eversion& v, const LogEntry& e) { return v < e.version; });
  return std::vector<LogEntry>(it, entries_.end());
}

void PgLog::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(tail_);
  e.put(head_);
  e.u32(static_cast<uint32_t>(entries_.size()));
  for (const auto& x : entries_) e.put(x);
  e.u32(static_cast<uint32_t>(dups_.size()));
  for (const auto& [r, v] : dups_) {
    e.put(r);
    e.put(v);
  }
  e.end_struct(m);
}

void PgLog::decode(Decoder& d) {
  auto s = d.begin_struct(1, "PgLog");
  PgLog out;
  d.get(out.tail_);
  d.get(out.head_);
  Eversion expect_head = out.head_;
  out.head_ = out.tail_;
  uint32_t n = d.count();
  for (uint32_t i = 0; i < n && !d.failed(); ++i) {
    LogEntry x;
    d.get(x);
    if (!d.failed() && !out.append(std::move(x)).ok()) d.fail("PgLog: entries out of order");
  }
  if (!d.failed() && out.head_ != expect_head && !out.entries_.empty())
    d.fail("PgLog: head does not match entries");
  out.head_ = expect_head;
  if (!d.failed() && out.head_ < out.tail_) d.fail("PgLog: head before tail");
  uint32_t nd = d.count();
  for (uint32_t i = 0; i < nd && !d.failed(); ++i) {
    ReqId r;
    Eversion v;
    d.get(r);
    d.get(v);
    out.dups_.emplace_back(r, v);
    out.dup_index_[r] = v;
  }
  d.end_struct(s);
  if (!d.failed()) *this = std::move(out);
}

namespace {

// The newest local version at or before which local and authoritative history agree.
Eversion common_point(const PgLog& local, const PgLog& auth) {
  std::map<Eversion, const LogEntry*> by_version;
  for (const auto& e : auth.entries()) by_version[e.version] = &e;
  Eversion common = local.tail();
  for (const auto& e : local.entries()) {
    if (e.version <= auth.tail()) {
      common = e.version;  // older than the authoritative log: assumed shared
      continue;
    }
    auto it = by_version.find(e.version);
    if (it == by_version.end() || it->second->oid != e.oid || it->second->op != e.op) break;
    common = e.version;
  }
  return std::min(common, auth.head());
}

}  // namespace

LogMerge merge_log(const PgLog& local, const MissingSet& local_missing, const PgLog& auth) {
  LogMerge out;
  out.merged = auth;
  if (local.head() < auth.tail()) {
    out.needs_backfill = true;
    return out;
  }
  Eversion common = common_point(local, auth);
  std::set<store::ObjectId> touched;
  // What the authoritative history did after the common point: newest entry per object.
  for (const auto& e : auth.entries_after(common)) {
    touched.insert(e.oid);
    Eversion have;
    if (const MissingItem* m = local_missing.find(e.oid))
      have = m->have;
    else if (const LogEntry* le = local.newest_for(e.oid); le && le->version <= common)
      have = le->version;
    out.missing.add(e.oid, e.version, have, e.is_delete());
  }
  // Divergent entries: roll each object back to its version before the divergence.
  for (const auto& e : local.entries_after(common)) {
    out.divergent.push_back(e);
    if (touched.count(e.oid)) continue;  // the authoritative history decides it already
    touched.insert(e.oid);
    if (e.prior_version.is_zero()) {
      out.missing.add(e.oid, Eversion{}, Eversion{}, true);  // did not exist: remove it
    } else {
      out.missing.add(e.oid, e.prior_version, Eversion{}, false);
    }
  }
  for (const auto& [oid, item] : local_missing.items()) {
    if (!touched.count(oid)) out.missing.add(oid, item.need, item.have, item.is_delete);
  }
  return out;
}

}  // namespace cairn::pg
