// ReplicatedPg: scrub and repair.
//
// The primary asks every acting replica for its listing with, per object, the
// version, size and a digest of the xattrs (light scrub) plus a digest of the data
// and omap (deep scrub), computes the same of its own copy, and reports every
// object whose copies differ. The primary's copy is authoritative unless it cannot
// be read. Repair pushes the primary's copy whole to each bad replica (or removes
// the replica's extra copy), the same push a backfill uses.
#include <algorithm>

#include "common/checksum.h"
#include "common/log.h"
#include "osd/pg/internal/pg_internal.h"

namespace cairn::pg {

using msg::OsdOpCode;

namespace {
constexpr uint32_t kScrubPage = 256;
}  // namespace

namespace internal {

CopyDigest digest_copy(store::ObjectStore& st, const store::CollectionId& cid, const store::ObjectId& oid,
                       bool deep) {
  CopyDigest d;
  auto stat = st.stat(cid, oid);
  if (!stat.ok()) return d;
  d.exists = true;
  d.size = stat->size;
  d.version = object_version(st, cid, oid);
  if (auto attrs = st.getattrs(cid, oid); attrs.ok()) {
    uint64_t h = 0;
    for (const auto& [k, v] : *attrs) h = xxh3_64(v.to_string(), xxh3_64(k, h));
    d.attrs = h;
  }
  if (!deep) return d;
  auto data = st.read(cid, oid, 0, 0);
  if (!data.ok()) {
    d.data = kReadError;  // a checksum failure on this copy
    return d;
  }
  uint64_t h = xxh3_64(data->to_string());
  if (auto hdr = st.omap_get_header(cid, oid); hdr.ok()) h = xxh3_64(hdr->to_string(), h ^ 0x68);
  std::string start;
  for (;;) {
    auto page = st.omap_list(cid, oid, start, 1024);
    if (!page.ok()) break;
    for (const auto& [k, v] : page->entries) h = xxh3_64(v.to_string(), xxh3_64(k, h));
    if (!page->more || page->entries.empty()) break;
    start = page->entries.back().first + '\0';
  }
  d.data = h;
  return d;
}

}  // namespace internal

void ReplicatedPg::schedule_scrubs() {
  for (bool deep : {false, true}) {
    auto every = host_.scrub_interval(deep);
    if (every.count() <= 0) continue;
    // Spread the PGs' scrubs over the interval rather than all at once.
    auto first =
        std::chrono::milliseconds(every.count() / 2 + (id_.seed * 7919 + deep) % (every.count() / 2 + 1));
    host_.run_after(first, [this, deep, epoch = interval_start_] { scheduled_scrub(deep, epoch); });
  }
}

void ReplicatedPg::scheduled_scrub(bool deep, uint32_t epoch) {
  if (epoch != interval_start_ || !is_primary()) return;  // a new interval scheduled its own
  if (state_ == State::kActive && !scrub_ && !recovering()) start_scrub(deep, false, nullptr, {});
  host_.run_after(host_.scrub_interval(deep), [this, deep, epoch] { scheduled_scrub(deep, epoch); });
}

void ReplicatedPg::do_scrub_op(const msg::ConnectionRef& conn, msg::Message m, const msg::OsdSubOp& sub) {
  if (sub.code == OsdOpCode::kPgListInconsistent) {
    BufferList out = encode_to_buffer(last_scrub_);
    msg::OsdOpReplyMsg r;
    r.map_epoch = map_->epoch;
    r.results.push_back({0, static_cast<uint32_t>(out.size())});
    (void)conn->reply(m, msg::Message::make(msg::kMsgOsdOpReply, r, std::move(out)));
    return;
  }
  if (recovering()) return reply_error(conn, m, -EAGAIN);  // copies still differ: scrub once recovered
  if (scrub_) {  // one at a time: a resend (or a second asker) gets the running one's answer
    scrub_->waiters.emplace_back(conn, std::move(m));
    return;
  }
  start_scrub((sub.flags & msg::kScrubDeep) != 0, (sub.flags & msg::kScrubRepair) != 0, conn, std::move(m));
}

void ReplicatedPg::start_scrub(bool deep, bool repair, const msg::ConnectionRef& conn, msg::Message m) {
  scrub_ = std::make_unique<Scrub>();
  Scrub& s = *scrub_;
  s.deep = deep;
  s.repair = repair;
  s.scan_tid = next_rep_tid_++;
  s.epoch = interval_start_;
  if (conn) s.waiters.emplace_back(conn, std::move(m));
  for (int32_t o : acting_) {
    if (o == host_.whoami()) continue;
    s.scanning.insert(o);
    msg::PgScanMsg q;
    q.pool = id_.pool;
    q.pg_seed = id_.seed;
    q.map_epoch = interval_start_;
    q.scan_tid = s.scan_tid;
    q.max = kScrubPage;
    q.result = host_.whoami();
    q.scrub = true;
    q.deep = s.deep;
    send_msg(o, msg::kMsgPgScan, q);
  }
  CAIRN_LOG(kInfo, kOsd) << "pg scrub start" << log::kv("pg", cid_.to_string()) << log::kv("deep", s.deep)
                         << log::kv("repair", s.repair);
  if (s.scanning.empty()) scrub_compare();
}

void ReplicatedPg::scrub_scan_reply(const msg::PgScanMsg& r, int32_t from) {
  if (!scrub_ || r.scan_tid != scrub_->scan_tid || !scrub_->scanning.count(from)) return;
  Scrub& s = *scrub_;
  auto& mine = s.remote[from];
  size_t n = r.objects.size();
  if (r.result != 0 || r.versions.size() != n || r.sizes.size() != n || r.attr_digests.size() != n ||
      r.data_digests.size() != n) {
    // The replica could not list its copy: count all of it as missing there.
    s.scanning.erase(from);
    mine.clear();
    if (s.scanning.empty()) scrub_compare();
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    internal::CopyDigest d;
    d.exists = true;
    d.version = Eversion{r.versions[i].first, r.versions[i].second};
    d.size = r.sizes[i];
    d.attrs = r.attr_digests[i];
    d.data = r.data_digests[i];
    const auto& c = r.objects[i];
    mine[store::ObjectId{c.hash, c.nspace, c.name, store::kHeadSnap}] = d;
  }
  if (!r.at_end) {
    msg::PgScanMsg q = r;
    q.reply = false;
    q.start = r.next;
    q.result = host_.whoami();
    q.objects.clear();
    q.versions.clear();
    q.sizes.clear();
    q.attr_digests.clear();
    q.data_digests.clear();
    q.max = kScrubPage;
    send_msg(from, msg::kMsgPgScan, q);
    return;
  }
  s.scanning.erase(from);
  if (s.scanning.empty()) scrub_compare();
}

void ReplicatedPg::scrub_compare() {
  Scrub& s = *scrub_;
  auto& st = host_.store();
  std::set<store::ObjectId> all;
  store::ObjectId cur = store::ObjectId::min();
  std::map<store::ObjectId, internal::CopyDigest> own;
  for (;;) {
    auto page = st.list_objects(cid_, cur, 1024);
    if (!page.ok()) break;
    for (const auto& o : page->objects)
      if (!internal::is_meta(o)) own[o] = internal::digest_copy(st, cid_, o, s.deep);
    if (!page->next) break;
    cur = *page->next;
  }
  for (const auto& [o, d] : own) all.insert(o);
  for (const auto& [osd, objs] : s.remote)
    for (const auto& [o, d] : objs) all.insert(o);
  s.out = msg::ScrubOut{};
  s.out.deep = s.deep;
  s.out.objects = all.size();
  for (const auto& o : all) {
    msg::InconsistentObject bad;
    bad.oid = {o.hash, o.nspace, o.name};
    std::set<std::string> errors;
    auto mine = own.find(o);
    const internal::CopyDigest* auth = mine != own.end() ? &mine->second : nullptr;
    if (auth && auth->data == internal::kReadError) {
      bad.bad_osds.push_back(host_.whoami());
      errors.insert("read_error");
    }
    for (int32_t osd : acting_) {
      if (osd == host_.whoami()) continue;
      auto rit = s.remote.find(osd);
      const internal::CopyDigest* copy = nullptr;
      if (rit != s.remote.end()) {
        auto it = rit->second.find(o);
        if (it != rit->second.end()) copy = &it->second;
      }
      std::string why;
      if (!auth && copy)
        why = "extra";
      else if (auth && !copy)
        why = "missing";
      else if (auth && copy) {
        if (copy->version != auth->version)
          why = "version";
        else if (copy->size != auth->size)
          why = "size";
        else if (copy->attrs != auth->attrs)
          why = "attrs";
        else if (s.deep && copy->data == internal::kReadError)
          why = "read_error";
        else if (s.deep && auth->data != internal::kReadError && copy->data != auth->data)
          why = "data_digest";
      }
      if (why.empty()) continue;
      bad.bad_osds.push_back(osd);
      errors.insert(why);
    }
    if (bad.bad_osds.empty()) continue;
    for (const auto& e : errors) bad.errors += (bad.errors.empty() ? "" : ",") + e;
    s.out.inconsistent.push_back(std::move(bad));
  }
  if (s.repair) {
    for (const auto& bad : s.out.inconsistent) {
      store::ObjectId o{bad.oid.hash, bad.oid.nspace, bad.oid.name, store::kHeadSnap};
      bool primary_ok =
          std::find(bad.bad_osds.begin(), bad.bad_osds.end(), host_.whoami()) == bad.bad_osds.end();
      if (!primary_ok) continue;  // the primary's copy is unreadable: left for a pull (not yet)
      for (int32_t osd : bad.bad_osds) {
        uint64_t tid = next_rep_tid_++;
        if (own.count(o)) {
          if (!push_object(osd, o, tid, s.epoch).ok()) continue;
        } else {
          store::Transaction t;
          t.remove(cid_, o);
          msg::RepOpMsg rep{id_.pool, id_.seed, s.epoch, 0, 0, tid, true, {}};
          send_msg(osd, msg::kMsgRepOp, rep, encode_to_buffer(t));
        }
        s.repair_tids.insert(tid);
      }
    }
    s.out.repaired = true;
  }
  if (s.repair_tids.empty()) scrub_finish();
}

void ReplicatedPg::scrub_finish() {
  std::unique_ptr<Scrub> s = std::move(scrub_);
  s->out.stamp_ns = host_.wall_ns();
  last_scrub_ = s->out;
  if (s->repair) {
    // What repair fixed is consistent now (the askers still see what it found);
    // objects whose primary copy is unreadable remain.
    last_scrub_.repaired = false;
    auto& inc = last_scrub_.inconsistent;
    inc.erase(std::remove_if(inc.begin(), inc.end(),
                             [&](const msg::InconsistentObject& b) {
                               return std::find(b.bad_osds.begin(), b.bad_osds.end(), host_.whoami()) ==
                                      b.bad_osds.end();
                             }),
              inc.end());
  }
  CAIRN_LOG(kInfo, kOsd) << "pg scrub done" << log::kv("pg", cid_.to_string())
                         << log::kv("objects", s->out.objects)
                         << log::kv("inconsistent", s->out.inconsistent.size())
                         << log::kv("repair", s->repair);
  BufferList out = encode_to_buffer(s->out);
  for (auto& [conn, req] : s->waiters) {
    msg::OsdOpReplyMsg r;
    r.map_epoch = map_ ? map_->epoch : 0;
    r.results.push_back({0, static_cast<uint32_t>(out.size())});
    (void)conn->reply(req, msg::Message::make(msg::kMsgOsdOpReply, r, out));
  }
}

Result<std::string> ReplicatedPg::inject_error(const std::string& name, bool data) {
  auto& st = host_.store();
  store::ObjectId cur = store::ObjectId::min();
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(auto page, st.list_objects(cid_, cur, 1024));
    for (const auto& o : page.objects) {
      if (o.name != name || internal::is_meta(o)) continue;
      store::Transaction t;
      if (data) {
        CAIRN_ASSIGN_OR_RETURN(auto bytes, st.read(cid_, o, 0, 1));
        char c = bytes.empty() ? 'x' : static_cast<char>(bytes.to_string()[0] ^ 0x5a);
        t.write(cid_, o, 0, BufferList::copy_of(std::string(1, c)));
      } else {
        t.remove(cid_, o);
      }
      CAIRN_RETURN_IF_ERROR(store::apply_transaction(st, cid_, std::move(t)));
      return std::string("{}");
    }
    if (!page.next) break;
    cur = *page.next;
  }
  return Status(Errc::kNotFound, "no object '" + name + "' in pg " + cid_.to_string() + " here");
}

// ---- pulls ----

void ReplicatedPg::handle_pull(const msg::PgPullMsg& p, int32_t from) {
  // A primary could not read its copy: send it ours, whole.
  store::ObjectId oid{p.oid.hash, p.oid.nspace, p.oid.name, store::kHeadSnap};
  Status st = push_object(from, oid, p.tid, p.map_epoch);
  if (!st.ok()) {
    CAIRN_LOG(kWarn, kOsd) << "pull: cannot push our copy" << log::kv("pg", cid_.to_string())
                           << log::kv("object", oid.name) << log::kv("error", st.to_string());
    msg::RepOpReplyMsg r{id_.pool, id_.seed, p.map_epoch, p.tid, -st.err(), host_.whoami()};
    send_msg(from, msg::kMsgRepOpReply, r);
  }
}

void ReplicatedPg::pull_and_retry(const msg::ConnectionRef& conn, msg::Message m, msg::OsdOpMsg op,
                                  const store::ObjectId& oid) {
  std::string key = object_key(oid);
  // Twice is enough: a copy that fails again after a fresh one arrived is a device problem.
  if (++pull_attempts_[key] > 2) return reply_error(conn, m, -EIO);
  CAIRN_LOG(kWarn, kOsd) << "read failed its checksums: fetching a replica's copy"
                         << log::kv("pg", cid_.to_string()) << log::kv("object", oid.name);
  auto& p = pulls_[key];
  bool start = !p;
  if (start) {
    p = std::make_unique<Pull>();
    p->oid = oid;
    busy_.insert(key);  // later ops on the object wait for the fresh copy
  }
  p->waiters.push_back(std::make_unique<Waiter>(Waiter{conn, std::move(m), std::move(op)}));
  if (start) pull_next(key);
}

void ReplicatedPg::pull_next(const std::string& key) {
  auto it = pulls_.find(key);
  if (it == pulls_.end()) return;
  Pull& p = *it->second;
  // Not from this copy, nor from a replica still lacking the object.
  auto lacks = [&](int32_t o) {
    auto m = missing_.find(p.oid);
    return o == host_.whoami() || (m != missing_.end() && m->second.count(o));
  };
  while (p.next_replica < acting_.size() && lacks(acting_[p.next_replica])) ++p.next_replica;
  if (p.next_replica >= acting_.size()) return pull_done(key, false);
  int32_t from = acting_[p.next_replica++];
  p.tid = next_rep_tid_++;
  msg::PgPullMsg q{id_.pool, id_.seed, interval_start_, p.tid, {p.oid.hash, p.oid.nspace, p.oid.name}};
  send_msg(from, msg::kMsgPgPull, q);
  host_.run_after(std::chrono::seconds(5), [this, key, tid = p.tid] {
    auto i = pulls_.find(key);
    if (i != pulls_.end() && i->second->tid == tid) pull_next(key);  // that replica did not answer
  });
}

void ReplicatedPg::pull_done(const std::string& key_ref, bool ok) {
  const std::string key = key_ref;  // the caller's may live in the entry erased below
  auto it = pulls_.find(key);
  if (it == pulls_.end()) return;
  std::unique_ptr<Pull> p = std::move(it->second);
  pulls_.erase(it);
  busy_.erase(key);
  CAIRN_LOG(kInfo, kOsd) << "pull done" << log::kv("pg", cid_.to_string()) << log::kv("object", p->oid.name)
                         << log::kv("ok", ok);
  for (auto& w : p->waiters) {
    if (ok)
      do_op(w->conn, std::move(w->req), std::move(w->op));
    else
      reply_error(w->conn, w->req, -EIO);
  }
  requeue_waiters(key);
}

}  // namespace cairn::pg
