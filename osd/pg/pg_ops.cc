// ReplicatedPg: executing client ops on the primary (reads, the write path, watch/notify).
#include <algorithm>

#include "common/log.h"
#include "osd/pg/internal/pg_internal.h"

namespace cairn::pg {

using msg::OsdOpCode;

namespace {

// Ops waiting for activation beyond this are told to come back later.
constexpr size_t kMaxWaitingOps = 4096;

// Per-op view of the object while a compound op executes.
struct ObjState {
  bool exists = false;
  uint64_t size = 0;
  ObjectInfo oi;
};

int errno_of(const Status& st) { return st.ok() ? 0 : -st.err(); }

void load_state(store::ObjectStore& st, const store::CollectionId& cid, const store::ObjectId& oid,
                ObjState& s) {
  auto stat = st.stat(cid, oid);
  s.exists = stat.ok();
  s.size = stat.ok() ? stat->size : 0;
  if (!s.exists) return;
  auto a = st.getattr(cid, oid, kObjectInfoAttr);
  if (a.ok())
    if (auto oi = decode_from<ObjectInfo>(*a); oi.ok()) s.oi = *oi;
}

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// Reads `max` omap entries after `start_after` whose keys start with `prefix`.
Result<msg::OmapOut> omap_page(store::ObjectStore& st, const store::CollectionId& cid,
                               const store::ObjectId& oid, const std::string& start_after,
                               const std::string& prefix, uint64_t max) {
  msg::OmapOut out;
  std::string start = start_after.empty() ? prefix : std::max(start_after + '\0', prefix);
  max = std::min<uint64_t>(max == 0 ? 1000 : max, 100000);
  while (out.entries.size() < max) {
    auto page = st.omap_list(cid, oid, start, max - out.entries.size() + 1);
    if (!page.ok()) return page.status();
    for (auto& [k, v] : page->entries) {
      if (!starts_with(k, prefix)) return out;
      if (out.entries.size() == max) {
        out.more = true;
        return out;
      }
      out.entries.emplace_back(k, std::move(v));
    }
    if (!page->more || page->entries.empty()) return out;
    start = page->entries.back().first + '\0';
  }
  return out;
}

}  // namespace

void ReplicatedPg::reply_error(const msg::ConnectionRef& conn, const msg::Message& m, int err) {
  if (!conn) return;
  msg::OsdOpReplyMsg r;
  r.result = err;
  r.map_epoch = map_ ? map_->epoch : 0;
  (void)conn->reply(m, msg::Message::make(msg::kMsgOsdOpReply, r));
}

void ReplicatedPg::handle_op(const msg::ConnectionRef& conn, msg::Message m, msg::OsdOpMsg op) {
  do_op(conn, std::move(m), std::move(op));
}

void ReplicatedPg::requeue_waiters(const std::string& key) {
  auto it = waiting_object_.find(key);
  if (it == waiting_object_.end()) return;
  auto q = std::move(it->second);
  waiting_object_.erase(it);
  while (!q.empty()) {
    auto w = std::move(q.front());
    q.pop_front();
    do_op(w->conn, std::move(w->req), std::move(w->op));
    if (busy_.count(key)) {
      // That op started a write: the rest wait for it, in order.
      auto& dst = waiting_object_[key];
      for (auto& r : q) dst.push_back(std::move(r));
      return;
    }
  }
}

void ReplicatedPg::do_op(const msg::ConnectionRef& conn, msg::Message m, msg::OsdOpMsg op) {
  if (!map_ || !is_primary()) return reply_error(conn, m, -ESTALE);
  if (op.map_epoch > map_->epoch) {
    host_.want_map(op.map_epoch);
    return reply_error(conn, m, -EAGAIN);
  }
  if (state_ != State::kActive || (holding_writes_ && (op.flags & msg::kOpFlagWrite))) {
    // Not active yet, or writes held for a remapped PG's last backfill pass.
    if (waiting_active_.size() >= kMaxWaitingOps) return reply_error(conn, m, -EAGAIN);
    waiting_active_.push_back(std::make_unique<Waiter>(Waiter{conn, std::move(m), std::move(op)}));
    return;
  }
  store::ObjectId oid{op.hash, op.nspace, op.name, store::kHeadSnap};
  std::string key = object_key(oid);
  if (busy_.count(key)) {
    waiting_object_[key].push_back(std::make_unique<Waiter>(Waiter{conn, std::move(m), std::move(op)}));
    return;
  }
  if ((op.flags & msg::kOpFlagWrite) && missing_.count(oid)) {
    // A replica lacks this object (it is being recovered): push it first, then write.
    recover_object(oid);
    waiting_object_[key].push_back(std::make_unique<Waiter>(Waiter{conn, std::move(m), std::move(op)}));
    return;
  }
  if (op.ops.size() == 1 &&
      (op.ops[0].code == OsdOpCode::kPgScrub || op.ops[0].code == OsdOpCode::kPgListInconsistent))
    return do_scrub_op(conn, std::move(m), op.ops[0]);
  std::vector<BufferList> indata = msg::split_data(m.data, msg::indata_lens(op));
  for (const auto& sub : op.ops) {
    if (sub.code == OsdOpCode::kWatch || sub.code == OsdOpCode::kUnwatch || sub.code == OsdOpCode::kNotify ||
        sub.code == OsdOpCode::kNotifyAck)
      return do_watch_op(conn, m, op, indata);
  }
  bool is_write = (op.flags & msg::kOpFlagWrite) != 0;
  ReqId reqid{op.client, op.tid};
  if (is_write) {
    if (auto v = log_.find_reqid(reqid)) {
      // A resend of an op already applied: answer it, do not apply it twice.
      msg::OsdOpReplyMsg r;
      r.map_epoch = map_->epoch;
      r.version_epoch = v->epoch;
      r.version = v->version;
      r.results.resize(op.ops.size());
      (void)conn->reply(m, msg::Message::make(msg::kMsgOsdOpReply, r));
      return;
    }
    bool only_removes = std::all_of(op.ops.begin(), op.ops.end(),
                                    [](const msg::OsdSubOp& s) { return s.code == OsdOpCode::kRemove; });
    // Full (the cluster flag, or this OSD's own store): only deletes go through, so
    // space can be freed; nothing is half-written.
    if (!only_removes && (map_->test_flag(crush::kFlagFull) || host_.store_full(map_->full_permille)))
      return reply_error(conn, m, -ENOSPC);
  }

  if (!is_write && std::all_of(op.ops.begin(), op.ops.end(),
                               [](const msg::OsdSubOp& s) { return s.code == OsdOpCode::kRead; }))
    return do_async_read(conn, std::move(m), op, oid);

  store::ObjectStore& st = host_.store();
  ObjState s;
  if (!oid.name.empty() || !oid.nspace.empty()) load_state(st, cid_, oid, s);
  const ObjState before = s;
  store::Transaction t;
  msg::OsdOpReplyMsg reply;
  reply.map_epoch = map_->epoch;
  reply.results.resize(op.ops.size());
  BufferList outdata;
  int result = 0;
  auto ensure = [&] {
    if (!s.exists) {
      t.touch(cid_, oid);
      s.exists = true;
      s.size = 0;
    }
  };
  for (size_t i = 0; i < op.ops.size() && result == 0; ++i) {
    const msg::OsdSubOp& sub = op.ops[i];
    BufferList& in = indata[i];
    int rval = 0;
    BufferList out;
    switch (sub.code) {
      case OsdOpCode::kCreate:
        if (s.exists && (sub.flags & msg::kCreateExclusive))
          rval = -EEXIST;
        else
          ensure();
        break;
      case OsdOpCode::kWrite:
        ensure();
        s.size = std::max<uint64_t>(s.size, sub.off + in.size());
        t.write(cid_, oid, sub.off, in);
        break;
      case OsdOpCode::kWriteFull:
        ensure();
        t.truncate(cid_, oid, 0);
        t.write(cid_, oid, 0, in);
        s.size = in.size();
        break;
      case OsdOpCode::kAppend:
        ensure();
        t.write(cid_, oid, s.size, in);
        s.size += in.size();
        break;
      case OsdOpCode::kTruncate:
        ensure();
        t.truncate(cid_, oid, sub.off);
        s.size = sub.off;
        break;
      case OsdOpCode::kZero:
        if (!s.exists) {
          rval = -ENOENT;
        } else if (sub.off < s.size && sub.len > 0) {
          t.zero(cid_, oid, sub.off, std::min(sub.len, s.size - sub.off));
        }
        break;
      case OsdOpCode::kRemove:
        if (!s.exists) {
          rval = -ENOENT;
        } else {
          t.remove(cid_, oid);
          s = ObjState{};
        }
        break;
      case OsdOpCode::kSetXattr: {
        ensure();
        store::AttrMap a;
        a[kUserAttrPrefix + sub.name] = in;
        t.setattrs(cid_, oid, std::move(a));
        break;
      }
      case OsdOpCode::kRmXattr:
        if (!s.exists)
          rval = -ENOENT;
        else if (!st.getattr(cid_, oid, kUserAttrPrefix + sub.name).ok())
          rval = -ENODATA;
        else
          t.rmattr(cid_, oid, kUserAttrPrefix + sub.name);
        break;
      case OsdOpCode::kOmapSetKeys:
        ensure();
        t.omap_setkeys(cid_, oid, sub.kvs);
        break;
      case OsdOpCode::kOmapRmKeys:
        if (!s.exists)
          rval = -ENOENT;
        else
          t.omap_rmkeys(cid_, oid, sub.keys);
        break;
      case OsdOpCode::kOmapClear:
        if (!s.exists)
          rval = -ENOENT;
        else
          t.omap_clear(cid_, oid);
        break;
      case OsdOpCode::kOmapSetHeader:
        ensure();
        t.omap_setheader(cid_, oid, in);
        break;
      case OsdOpCode::kOmapRmRange:
        if (!s.exists)
          rval = -ENOENT;
        else
          t.omap_rmrange(cid_, oid, sub.name, sub.name2);
        break;
      case OsdOpCode::kCmpXattr: {
        auto v = s.exists ? st.getattr(cid_, oid, kUserAttrPrefix + sub.name)
                          : Result<BufferList>(Status(Errc::kNotFound));
        bool equal =
            v.ok() ? v->to_string() == in.to_string() : (sub.flags & msg::kCmpAbsentOk) != 0 && in.empty();
        if (!equal) rval = -ECANCELED;
        break;
      }
      case OsdOpCode::kAssertVersion:
        if (!s.exists || s.oi.version.version != sub.off) rval = -ECANCELED;
        break;
      case OsdOpCode::kAssertExists:
        if (!s.exists) rval = -ECANCELED;
        break;
      case OsdOpCode::kRead: {
        if (!before.exists) {
          rval = -ENOENT;
          break;
        }
        auto r = st.read(cid_, oid, sub.off, sub.len);
        if (r.ok())
          out = std::move(*r);
        else
          rval = errno_of(r.status());
        break;
      }
      case OsdOpCode::kStat:
        if (!before.exists)
          rval = -ENOENT;
        else
          out = encode_to_buffer(msg::StatOut{before.size, before.oi.mtime_ns, before.oi.version.version});
        break;
      case OsdOpCode::kGetXattr: {
        if (!before.exists) {
          rval = -ENOENT;
          break;
        }
        auto r = st.getattr(cid_, oid, kUserAttrPrefix + sub.name);
        if (r.ok())
          out = std::move(*r);
        else
          rval = r.status().code() == Errc::kNotFound ? -ENODATA : errno_of(r.status());
        break;
      }
      case OsdOpCode::kGetXattrs: {
        if (!before.exists) {
          rval = -ENOENT;
          break;
        }
        auto r = st.getattrs(cid_, oid);
        if (!r.ok()) {
          rval = errno_of(r.status());
          break;
        }
        std::map<std::string, BufferList> user;
        for (auto& [k, v] : *r)
          if (starts_with(k, kUserAttrPrefix)) user[k.substr(2)] = std::move(v);
        out = encode_to_buffer(user);
        break;
      }
      case OsdOpCode::kOmapGetVals: {
        if (!before.exists) {
          rval = -ENOENT;
          break;
        }
        auto r = omap_page(st, cid_, oid, sub.name, sub.name2, sub.len);
        if (r.ok())
          out = encode_to_buffer(*r);
        else
          rval = errno_of(r.status());
        break;
      }
      case OsdOpCode::kOmapGetByKeys: {
        if (!before.exists) {
          rval = -ENOENT;
          break;
        }
        auto r = st.omap_get_values(cid_, oid, sub.keys);
        if (r.ok())
          out = encode_to_buffer(*r);
        else
          rval = errno_of(r.status());
        break;
      }
      case OsdOpCode::kOmapGetHeader: {
        if (!before.exists) {
          rval = -ENOENT;
          break;
        }
        auto r = st.omap_get_header(cid_, oid);
        if (r.ok())
          out = std::move(*r);
        else if (r.status().code() != Errc::kNotFound)
          rval = errno_of(r.status());
        break;
      }
      case OsdOpCode::kPgList: {
        auto c = decode_from<msg::ObjectCursor>(in);
        if (!c.ok()) {
          rval = -EINVAL;
          break;
        }
        store::ObjectId start{c->hash, c->nspace, c->name, 0};
        auto page = st.list_objects(cid_, start, std::clamp<uint64_t>(sub.len, 1, 10000));
        if (!page.ok()) {
          rval = errno_of(page.status());
          break;
        }
        msg::PgListOut lo;
        for (const auto& o : page->objects)
          if (!internal::is_meta(o)) lo.objects.push_back({o.hash, o.nspace, o.name});
        lo.at_end = !page->next.has_value();
        if (page->next) lo.next = {page->next->hash, page->next->nspace, page->next->name};
        out = encode_to_buffer(lo);
        break;
      }
      default: rval = -EOPNOTSUPP; break;
    }
    reply.results[i] = {rval, static_cast<uint32_t>(out.size())};
    outdata.append(std::move(out));
    if (rval < 0) result = rval;
  }
  reply.version_epoch = s.oi.version.epoch;
  reply.version = s.oi.version.version;
  if (!before.exists)
    CAIRN_LOG(kDebug, kOsd) << "op on an absent object" << log::kv("pg", cid_.to_string())
                            << log::kv("object", oid.name) << log::kv("result", result)
                            << log::kv("interval", interval_start_)
                            << log::kv("last_update", info_.last_update.to_string());
  if (result == -EIO && !is_write && acting_.size() > 1)
    return pull_and_retry(conn, std::move(m), std::move(op), oid);
  if (result != 0 || !is_write || t.empty()) {
    // A failed op applies nothing: its transaction is dropped.
    reply.result = result;
    if (result != 0) outdata.clear();
    if (result != 0)
      for (auto& r : reply.results) r.outdata_len = 0;
    (void)conn->reply(m, msg::Message::make(msg::kMsgOsdOpReply, reply, std::move(outdata)));
    return;
  }

  // ---- the write path: version, log entry, local and replica transactions ----
  Eversion version{interval_start_, info_.last_update.version + 1};
  if (s.exists) {
    ObjectInfo oi{version, host_.wall_ns()};
    store::AttrMap a;
    a[kObjectInfoAttr] = encode_to_buffer(oi);
    t.setattrs(cid_, oid, std::move(a));
  }
  LogEntry entry;
  entry.op = s.exists ? LogEntry::Op::kModify : LogEntry::Op::kDelete;
  entry.oid = oid;
  entry.version = version;
  entry.prior_version = before.oi.version;
  entry.reqid = reqid;
  BufferList entry_bl = encode_to_buffer(entry);
  // Replicas get the object changes; each adds the log entry and info itself.
  BufferList txn_bl = encode_to_buffer(t);
  if (Status ls = log_.append(entry); !ls.ok()) return reply_error(conn, m, -EIO);
  info_.last_update = version;
  store::AttrMap kv;
  kv[log_key(version)] = entry_bl;
  t.omap_setkeys(cid_, meta_oid_, std::move(kv));
  internal::trim_log(t, log_, cid_, meta_oid_);
  // Copies being made in the background see this object again.
  if (backfill_ && backfill_->background) backfill_->dirty.insert(oid);
  for (auto& [target, dirty] : copied_) dirty.insert(oid);
  objects_ += (s.exists ? 1 : 0) - (before.exists ? 1 : 0);
  bytes_ += s.size;
  bytes_ -= std::min(bytes_, before.size);

  uint64_t tid = next_rep_tid_++;
  auto w = std::make_unique<InFlight>();
  w->conn = conn;
  w->req = std::move(m);
  w->key = key;
  w->oid = oid;
  w->waiting.insert(acting_.begin(), acting_.end());
  reply.version_epoch = version.epoch;
  reply.version = version.version;
  w->reply = std::move(reply);
  w->outdata = std::move(outdata);
  busy_.insert(key);
  in_flight_[tid] = std::move(w);
  msg::RepOpMsg rep{id_.pool,        id_.seed, interval_start_, version.epoch,
                    version.version, tid,      false,           entry_bl};
  for (int32_t o : acting_)
    if (o != host_.whoami()) send_msg(o, msg::kMsgRepOp, rep, txn_bl);
  int32_t me = host_.whoami();
  ++uncommitted_;
  host_.store().queue_transaction(cid_, std::move(t), [this, tid, me, epoch = interval_start_](Status cs) {
    host_.run_on_shard([this, tid, me, epoch, cs] {
      msg::RepOpReplyMsg r{id_.pool, id_.seed, epoch, tid, errno_of(cs), me};
      handle_rep_reply(r);
      txn_committed();
    });
  });
}

void ReplicatedPg::do_async_read(const msg::ConnectionRef& conn, msg::Message m, const msg::OsdOpMsg& op,
                                 const store::ObjectId& oid) {
  // The common read (only data reads): device I/O goes through the shard's ring, so
  // the shard serves other ops meanwhile.
  ObjState s;
  load_state(host_.store(), cid_, oid, s);
  if (!s.exists) return reply_error(conn, m, -ENOENT);
  struct Gather {
    msg::ConnectionRef conn;
    msg::Message req;
    msg::OsdOpMsg op;
    store::ObjectId oid;
    msg::OsdOpReplyMsg reply;
    std::vector<BufferList> out;
    size_t left = 0;
  };
  auto g = std::make_shared<Gather>();
  g->conn = conn;
  g->req = std::move(m);
  g->op = op;
  g->oid = oid;
  g->reply.map_epoch = map_->epoch;
  g->reply.version_epoch = s.oi.version.epoch;
  g->reply.version = s.oi.version.version;
  g->reply.results.resize(op.ops.size());
  g->out.resize(op.ops.size());
  g->left = op.ops.size();
  for (size_t i = 0; i < op.ops.size(); ++i) {
    host_.read_async(cid_, oid, op.ops[i].off, op.ops[i].len, [this, g, i](Result<BufferList> r) {
      if (r.ok()) {
        g->reply.results[i] = {0, static_cast<uint32_t>(r->size())};
        g->out[i] = std::move(*r);
      } else {
        g->reply.results[i] = {errno_of(r.status()), 0};
        if (g->reply.result == 0) g->reply.result = errno_of(r.status());
      }
      if (--g->left != 0) return;
      if (g->reply.result == -EIO && acting_.size() > 1)  // our copy is bad: a replica's, then again
        return pull_and_retry(g->conn, std::move(g->req), std::move(g->op), g->oid);
      BufferList data;
      if (g->reply.result == 0)
        for (auto& b : g->out) data.append(std::move(b));
      else
        for (auto& res : g->reply.results) res.outdata_len = 0;
      (void)g->conn->reply(g->req, msg::Message::make(msg::kMsgOsdOpReply, g->reply, std::move(data)));
    });
  }
}

void ReplicatedPg::finish_write(uint64_t tid) {
  auto it = in_flight_.find(tid);
  if (it == in_flight_.end()) return;
  std::unique_ptr<InFlight> w = std::move(it->second);
  in_flight_.erase(it);
  busy_.erase(w->key);
  pull_attempts_.erase(w->key);
  if (w->result != 0) {
    CAIRN_LOG(kWarn, kOsd) << "replicated write failed" << log::kv("pg", cid_.to_string())
                           << log::kv("result", w->result);
    reply_error(w->conn, w->req, w->result == -ENOSPC ? -ENOSPC : -EIO);
  } else {
    CAIRN_LOG(kDebug, kOsd) << "write acked" << log::kv("pg", cid_.to_string())
                            << log::kv("object", w->key.substr(w->key.find('\0') + 1))
                            << log::kv("version", std::to_string(w->reply.version_epoch) + "'" +
                                                      std::to_string(w->reply.version))
                            << log::kv("interval", interval_start_);
    (void)w->conn->reply(w->req, msg::Message::make(msg::kMsgOsdOpReply, w->reply, std::move(w->outdata)));
  }
  requeue_waiters(w->key);
  if (holding_writes_ && in_flight_.empty()) check_remapped();
}

// ---- watch / notify ----

void ReplicatedPg::do_watch_op(const msg::ConnectionRef& conn, const msg::Message& m, const msg::OsdOpMsg& op,
                               const std::vector<BufferList>& indata) {
  store::ObjectId oid{op.hash, op.nspace, op.name, store::kHeadSnap};
  std::string key = object_key(oid);
  msg::OsdOpReplyMsg reply;
  reply.map_epoch = map_->epoch;
  reply.results.resize(op.ops.size());
  const msg::OsdSubOp& sub = op.ops[0];
  if (op.ops.size() != 1) return reply_error(conn, m, -EINVAL);
  if (sub.code == OsdOpCode::kWatch) {
    if (!host_.store().stat(cid_, oid).ok()) return reply_error(conn, m, -ENOENT);
    watchers_[key][sub.off] = conn;
  } else if (sub.code == OsdOpCode::kUnwatch) {
    auto it = watchers_.find(key);
    if (it == watchers_.end() || !it->second.erase(sub.off)) return reply_error(conn, m, -ENOENT);
    if (it->second.empty()) watchers_.erase(it);
  } else if (sub.code == OsdOpCode::kNotifyAck) {
    auto it = notifies_.find(sub.off);
    if (it != notifies_.end()) {
      Notify& n = *it->second;
      // The ack names its cookie; without one, the watch this connection holds answers.
      uint64_t cookie = sub.len;
      if (!n.waiting.count(cookie))
        for (const auto& [c, wc] : n.watchers)
          if (wc == conn && n.waiting.count(c)) cookie = c;
      if (n.waiting.erase(cookie)) n.out.acks.emplace_back(cookie, indata[0]);
      if (n.waiting.empty()) finish_notify(sub.off);
    }
  } else {  // kNotify
    uint64_t id = next_notify_id_++;
    auto n = std::make_unique<Notify>();
    n->conn = conn;
    n->req = m;
    auto it = watchers_.find(key);
    if (it != watchers_.end()) {
      for (auto& [cookie, wc] : it->second) {
        if (!wc->is_open()) continue;
        n->waiting.insert(cookie);
        n->watchers[cookie] = wc;
        msg::WatchNotifyMsg wn{cookie, id, id_.pool, op.name};
        (void)wc->send(msg::Message::make(msg::kMsgWatchNotify, wn, indata[0]));
      }
    }
    bool none = n->waiting.empty();
    notifies_[id] = std::move(n);
    if (none) return finish_notify(id);
    uint64_t timeout_ms = std::clamp<uint64_t>(sub.len == 0 ? 5000 : sub.len, 10, 300000);
    host_.run_after(std::chrono::milliseconds(timeout_ms), [this, id] { finish_notify(id); });
    return;
  }
  (void)conn->reply(m, msg::Message::make(msg::kMsgOsdOpReply, reply));
}

void ReplicatedPg::finish_notify(uint64_t id) {
  auto it = notifies_.find(id);
  if (it == notifies_.end()) return;
  std::unique_ptr<Notify> n = std::move(it->second);
  notifies_.erase(it);
  n->out.timed_out.assign(n->waiting.begin(), n->waiting.end());
  BufferList out = encode_to_buffer(n->out);
  msg::OsdOpReplyMsg reply;
  reply.map_epoch = map_ ? map_->epoch : 0;
  reply.results.push_back({0, static_cast<uint32_t>(out.size())});
  (void)n->conn->reply(n->req, msg::Message::make(msg::kMsgOsdOpReply, reply, std::move(out)));
}

void ReplicatedPg::connection_closed(const msg::ConnectionRef& conn) {
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    for (auto w = it->second.begin(); w != it->second.end();) {
      if (w->second == conn)
        w = it->second.erase(w);
      else
        ++w;
    }
    if (it->second.empty())
      it = watchers_.erase(it);
    else
      ++it;
  }
}

}  // namespace cairn::pg
