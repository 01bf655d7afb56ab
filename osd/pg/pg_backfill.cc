// ReplicatedPg: bringing a whole PG copy up to date (backfill), and helpers.
//
// The source scans the target's copy (object ids and versions, in pages), then
// pushes every object whose version differs or that the target lacks, removes
// what only the target has, and finally pushes its meta object (info and log),
// a few pushes in flight at a time. A push is a RepOpMsg with `push` set whose
// transaction recreates the object whole (data, xattrs, omap header and keys).
#include <algorithm>

#include "common/checksum.h"
#include "common/log.h"
#include "osd/pg/internal/pg_internal.h"

namespace cairn::pg {

namespace {
constexpr uint32_t kScanPage = 512;
constexpr size_t kMaxPushesInFlight = 8;
}  // namespace

namespace internal {

msg::PgInfoMsg info_msg(const crush::PgId& id, uint32_t epoch, int32_t from, const PgInfo& info,
                        uint64_t objects) {
  msg::PgInfoMsg m;
  m.pool = id.pool;
  m.pg_seed = id.seed;
  m.map_epoch = epoch;
  m.from = from;
  m.last_update_epoch = info.last_update.epoch;
  m.last_update = info.last_update.version;
  m.last_epoch_started = info.last_epoch_started;
  m.objects = objects;
  return m;
}

bool is_meta(const store::ObjectId& oid) { return oid.nspace == kMetaNamespace; }

void count_objects(store::ObjectStore& st, const store::CollectionId& cid, uint64_t& objects,
                   uint64_t& bytes) {
  objects = bytes = 0;
  store::ObjectId cur = store::ObjectId::min();
  for (;;) {
    auto page = st.list_objects(cid, cur, 1024);
    if (!page.ok()) return;
    for (const auto& o : page->objects) {
      if (is_meta(o)) continue;
      ++objects;
      if (auto s = st.stat(cid, o); s.ok()) bytes += s->size;
    }
    if (!page->next) return;
    cur = *page->next;
  }
}

void trim_log(store::Transaction& t, PgLog& log, const store::CollectionId& cid,
              const store::ObjectId& meta) {
  if (log.entries().size() <= PgLog::kDefaultMaxEntries + 64) return;
  Eversion to = log.entries()[log.entries().size() - PgLog::kDefaultMaxEntries - 1].version;
  t.omap_rmrange(cid, meta, "l.", log_key(to) + '\0');
  log.trim_to(to);
}

bool touches(const store::Transaction& t, const store::ObjectId& oid) {
  return std::any_of(t.ops().begin(), t.ops().end(), [&](const auto& op) { return op.oid == oid; });
}

bool backfill_ack(ReplicatedPg::Backfill& b, const msg::RepOpReplyMsg& r) {
  if (!b.pending.erase(r.rep_tid)) return false;
  if (r.result != 0 && b.error.ok())
    b.error = Status(static_cast<Errc>(-r.result), "push failed on osd." + std::to_string(r.from_osd));
  return true;
}

Eversion object_version(store::ObjectStore& st, const store::CollectionId& cid, const store::ObjectId& oid) {
  auto a = st.getattr(cid, oid, kObjectInfoAttr);
  if (!a.ok()) return {};
  auto oi = decode_from<ObjectInfo>(*a);
  return oi.ok() ? oi->version : Eversion{};
}

}  // namespace internal

void ReplicatedPg::start_backfill(int32_t target, uint32_t epoch) {
  backfill_ = std::make_unique<Backfill>();
  backfill_->target = target;
  backfill_->epoch = epoch;
  backfill_->scan_tid = next_rep_tid_++;
  CAIRN_LOG(kInfo, kOsd) << "pg backfill start" << log::kv("pg", cid_.to_string())
                         << log::kv("target", target);
  msg::PgScanMsg q;
  q.pool = id_.pool;
  q.pg_seed = id_.seed;
  q.map_epoch = epoch;
  q.scan_tid = backfill_->scan_tid;
  q.max = kScanPage;
  q.result = host_.whoami();  // a query carries the asking OSD's id here
  send_msg(target, msg::kMsgPgScan, q);
}

void ReplicatedPg::handle_scan(const msg::PgScanMsg& in, int32_t from) {
  if (in.reply) return in.scrub ? scrub_scan_reply(in, from) : backfill_scan_reply(in);
  // A source asks for a page of this copy.
  msg::PgScanMsg r = in;
  r.reply = true;
  r.result = 0;
  r.objects.clear();
  r.versions.clear();
  store::ObjectId start{in.start.hash, in.start.nspace, in.start.name, 0};
  auto page = host_.store().list_objects(cid_, start, std::clamp<uint32_t>(in.max, 1, 4096));
  if (!page.ok()) {
    r.result = -page.status().err();
  } else {
    for (const auto& o : page->objects) {
      if (internal::is_meta(o)) continue;
      Eversion v = internal::object_version(host_.store(), cid_, o);
      r.objects.push_back({o.hash, o.nspace, o.name});
      r.versions.emplace_back(v.epoch, v.version);
      if (in.scrub) {
        internal::CopyDigest d = internal::digest_copy(host_.store(), cid_, o, in.deep);
        r.sizes.push_back(d.size);
        r.attr_digests.push_back(d.attrs);
        r.data_digests.push_back(d.data);
      }
    }
    r.at_end = !page->next;
    if (page->next) r.next = {page->next->hash, page->next->nspace, page->next->name};
  }
  send_msg(in.result, msg::kMsgPgScan, r);  // a query's `result` is the asking OSD
}

void ReplicatedPg::backfill_scan_reply(const msg::PgScanMsg& r) {
  if (!backfill_ || r.scan_tid != backfill_->scan_tid || backfill_->scanned) return;
  Backfill& b = *backfill_;
  if (r.result != 0)
    return backfill_done(Status(Errc::kIo, "scan failed on osd." + std::to_string(b.target)));
  for (size_t i = 0; i < r.objects.size() && i < r.versions.size(); ++i) {
    const auto& c = r.objects[i];
    b.remote[store::ObjectId{c.hash, c.nspace, c.name, store::kHeadSnap}] =
        Eversion{r.versions[i].first, r.versions[i].second};
  }
  if (!r.at_end) {
    msg::PgScanMsg q;
    q.pool = id_.pool;
    q.pg_seed = id_.seed;
    q.map_epoch = b.epoch;
    q.scan_tid = b.scan_tid;
    q.max = kScanPage;
    q.start = r.next;
    q.result = host_.whoami();
    send_msg(b.target, msg::kMsgPgScan, q);
    return;
  }
  // Compare with this copy.
  b.scanned = true;
  auto& st = host_.store();
  std::set<store::ObjectId> mine;
  store::ObjectId cur = store::ObjectId::min();
  for (;;) {
    auto page = st.list_objects(cid_, cur, 1024);
    if (!page.ok()) return backfill_done(page.status());
    for (const auto& o : page->objects) {
      if (internal::is_meta(o)) continue;
      mine.insert(o);
      auto it = b.remote.find(o);
      if (it == b.remote.end() || it->second != internal::object_version(st, cid_, o)) b.to_push.push_back(o);
    }
    if (!page->next) break;
    cur = *page->next;
  }
  for (const auto& [o, v] : b.remote)
    if (!mine.count(o)) b.to_remove.push_back(o);
  CAIRN_LOG(kInfo, kOsd) << "pg backfill plan" << log::kv("pg", cid_.to_string())
                         << log::kv("target", b.target) << log::kv("push", b.to_push.size())
                         << log::kv("remove", b.to_remove.size());
  backfill_push_all();
}

Status ReplicatedPg::push_object(int32_t target, const store::ObjectId& oid, uint64_t rep_tid,
                                 uint32_t epoch) {
  auto& st = host_.store();
  store::Transaction t;
  // Recreate the object whole: touch so the remove always finds it.
  t.touch(cid_, oid);
  t.remove(cid_, oid);
  t.touch(cid_, oid);
  CAIRN_ASSIGN_OR_RETURN(auto data, st.read(cid_, oid, 0, 0));
  if (!data.empty()) t.write(cid_, oid, 0, std::move(data));
  CAIRN_ASSIGN_OR_RETURN(auto attrs, st.getattrs(cid_, oid));
  if (!attrs.empty()) t.setattrs(cid_, oid, std::move(attrs));
  if (auto h = st.omap_get_header(cid_, oid); h.ok() && !h->empty()) t.omap_setheader(cid_, oid, *h);
  std::string start;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(auto page, st.omap_list(cid_, oid, start, 4096));
    if (!page.entries.empty()) {
      start = page.entries.back().first + '\0';
      store::AttrMap kv(std::make_move_iterator(page.entries.begin()),
                        std::make_move_iterator(page.entries.end()));
      t.omap_setkeys(cid_, oid, std::move(kv));
    }
    if (!page.more || page.entries.empty()) break;
  }
  msg::RepOpMsg rep{id_.pool, id_.seed, epoch, 0, 0, rep_tid, true, {}};
  send_msg(target, msg::kMsgRepOp, rep, encode_to_buffer(t));
  return {};
}

void ReplicatedPg::backfill_push_all() {
  if (!backfill_ || !backfill_->scanned) return;
  Backfill& b = *backfill_;
  if (!b.error.ok()) return backfill_done(b.error);
  // Removals first (one transaction), then objects, then the meta object.
  if (!b.to_remove.empty()) {
    store::Transaction t;
    for (const auto& o : b.to_remove) t.remove(cid_, o);
    b.to_remove.clear();
    uint64_t tid = next_rep_tid_++;
    b.pending.insert(tid);
    msg::RepOpMsg rep{id_.pool, id_.seed, b.epoch, 0, 0, tid, true, {}};
    send_msg(b.target, msg::kMsgRepOp, rep, encode_to_buffer(t));
  }
  while (b.next_push < b.to_push.size() && b.pending.size() < kMaxPushesInFlight) {
    uint64_t tid = next_rep_tid_++;
    Status st = push_object(b.target, b.to_push[b.next_push++], tid, b.epoch);
    if (!st.ok()) return backfill_done(st);
    b.pending.insert(tid);
  }
  if (b.next_push < b.to_push.size() || !b.pending.empty()) return;
  if (!b.meta_sent) {
    b.meta_sent = true;
    uint64_t tid = next_rep_tid_++;
    Status st = push_object(b.target, meta_oid_, tid, b.epoch);
    if (!st.ok()) return backfill_done(st);
    b.pending.insert(tid);
    return;
  }
  backfill_done(Status());
}

void ReplicatedPg::backfill_done(Status st) {
  if (!backfill_) return;
  int32_t target = backfill_->target;
  uint32_t bepoch = backfill_->epoch;
  backfill_.reset();
  if (!st.ok()) {
    CAIRN_LOG(kWarn, kOsd) << "pg backfill failed" << log::kv("pg", cid_.to_string())
                           << log::kv("target", target) << log::kv("error", st.to_string());
    // Try again a little later (a new interval resets it anyway).
    host_.run_after(std::chrono::seconds(1), [this, target, bepoch] {
      if (bepoch >= interval_start_ && !backfill_ && (state_ == State::kBackfilling || !is_primary()))
        start_backfill(target, bepoch);
    });
    return;
  }
  CAIRN_LOG(kInfo, kOsd) << "pg backfill done" << log::kv("pg", cid_.to_string())
                         << log::kv("target", target);
  if (!is_primary()) {
    // This copy backfilled the primary at its request: tell it.
    msg::PgInfoMsg done = internal::info_msg(id_, bepoch, host_.whoami(), info_, objects_);
    done.backfill_done = true;
    send_msg(target, msg::kMsgPgInfo, done);
    return;
  }
  auto it = peer_info_.find(target);
  if (it != peer_info_.end()) {
    it->second.last_update_epoch = info_.last_update.epoch;
    it->second.last_update = info_.last_update.version;
  }
  state_ = State::kPeering;
  maybe_activate();
}

Result<std::string> ReplicatedPg::dump_objects_json(bool with_digest) {
  auto& st = host_.store();
  std::string out = "{\"pg\":\"" + cid_.to_string() + "\",\"last_update\":\"" +
                    info_.last_update.to_string() + "\",\"objects\":[";
  store::ObjectId cur = store::ObjectId::min();
  bool first = true;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(auto page, st.list_objects(cid_, cur, 1024));
    for (const auto& o : page.objects) {
      if (internal::is_meta(o)) continue;
      Eversion v = internal::object_version(st, cid_, o);
      auto size = st.stat(cid_, o);
      std::string name;
      for (char c : o.name) {
        if (c == '"' || c == '\\') name += '\\';
        if (static_cast<unsigned char>(c) >= 0x20) name += c;
      }
      out += std::string(first ? "" : ",") + "{\"name\":\"" + name + "\",\"version\":\"" + v.to_string() +
             "\",\"size\":" + std::to_string(size.ok() ? size->size : 0);
      if (with_digest) {
        auto data = st.read(cid_, o, 0, 0);
        uint64_t h = data.ok() ? xxh3_64(data->to_string()) : 0;
        out += ",\"xxh3\":\"" + std::to_string(h) + "\"";
      }
      out += "}";
      first = false;
    }
    if (!page.next) break;
    cur = *page.next;
  }
  return out + "]}";
}

}  // namespace cairn::pg
