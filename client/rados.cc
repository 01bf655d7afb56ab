// The public client API: Cluster and IoCtx on top of ClusterImpl.
#include "client/rados.h"

#include "client/internal/cluster_impl.h"
#include "client/rados_async.h"
#include "common/log.h"

namespace cairn::client {

using std::chrono::milliseconds;

std::shared_ptr<ClusterImpl> impl_of(const Cluster& c) { return c.impl_; }
std::shared_ptr<ClusterImpl> impl_of(const IoCtx& io) { return io.impl_; }

namespace {

constexpr milliseconds kNoExtra{0};

OpTarget target(const IoCtx& io, const std::string& oid) {
  OpTarget t;
  t.pool = io.pool_id();
  t.nspace = io.get_namespace();
  t.name = oid;
  return t;
}

// The whole op's answer as a Status (the first failing sub-op if the op has no result code).
Status op_status(const OpReply& r, const std::string& oid) {
  if (r.result < 0) return status_from_errno(r.result, "'" + oid + "'");
  for (int32_t rv : r.rvals)
    if (rv < 0) return status_from_errno(rv, "'" + oid + "'");
  return {};
}

awaitable<Result<ListPage>> list_page(std::shared_ptr<ClusterImpl> impl, int64_t pool, ListCursor from,
                                      size_t max) {
  ListPage page;
  ListCursor cur = from;
  while (!cur.at_end && page.entries.size() < max) {
    std::shared_ptr<const crush::OsdMap> map = impl->map_snapshot();
    const crush::PoolInfo* info = map ? map->pool(pool) : nullptr;
    if (!info) co_return Status(Errc::kNotFound, "pool " + std::to_string(pool) + " does not exist");
    if (cur.pg >= info->placement.pg_num) {
      cur = ListCursor{};
      cur.at_end = true;
      break;
    }
    msg::OsdSubOp sub;
    sub.code = msg::OsdOpCode::kPgList;
    sub.len = max - page.entries.size();
    ObjectOperation op;
    op.add(std::move(sub), encode_to_buffer(cur.pos));
    OpTarget t;
    t.pool = pool;
    t.pg = cur.pg;
    auto r = co_await impl->execute(std::move(t), std::move(op), kNoExtra);
    if (!r.ok()) co_return r.status();
    std::string where = "listing pg " + std::to_string(pool) + "." + std::to_string(cur.pg);
    if (r->result < 0) co_return status_from_errno(r->result, where);
    auto out = r->pg_list(0);
    if (!out.ok()) co_return out.status().with_context(where);
    for (auto& o : out->objects) page.entries.push_back(ListEntry{std::move(o.nspace), std::move(o.name)});
    if (out->at_end) {
      ++cur.pg;
      cur.pos = msg::ObjectCursor{};
    } else {
      cur.pos = out->next;
    }
  }
  if (!cur.at_end) {
    std::shared_ptr<const crush::OsdMap> map = impl->map_snapshot();
    const crush::PoolInfo* info = map ? map->pool(pool) : nullptr;
    if (info && cur.pg >= info->placement.pg_num) {
      cur = ListCursor{};
      cur.at_end = true;
    }
  }
  page.next = cur;
  co_return page;
}

awaitable<void> aio_run(std::shared_ptr<ClusterImpl> impl, OpTarget t, ObjectOperation op, AioCallback cb) {
  auto r = co_await impl->execute(std::move(t), std::move(op), kNoExtra);
  if (cb) cb(std::move(r));
}

void log_if_thrown(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    CAIRN_LOG(kError, kClient) << "aio coroutine threw" << log::kv("what", x.what());
  }
}

}  // namespace

// ---- IoCtx ----

Result<OpReply> IoCtx::run(const std::string& oid, const ObjectOperation& op) {
  if (op.empty()) return Status(Errc::kInvalid, "empty op");
  auto impl = impl_;
  OpTarget t = target(*this, oid);
  ObjectOperation o = op;
  return impl->run_sync<OpReply>([impl, t, o]() { return impl->execute(t, o, kNoExtra); });
}

Status IoCtx::operate(const std::string& oid, const WriteOp& op) {
  CAIRN_ASSIGN_OR_RETURN(OpReply r, run(oid, op));
  return op_status(r, oid);
}

Result<OpReply> IoCtx::operate(const std::string& oid, const ReadOp& op) {
  CAIRN_ASSIGN_OR_RETURN(OpReply r, run(oid, op));
  if (r.result < 0) return status_from_errno(r.result, "'" + oid + "'");
  return r;
}

void IoCtx::aio_operate(const std::string& oid, const ObjectOperation& op, AioCallback cb) {
  auto impl = impl_;
  OpTarget t = target(*this, oid);
  asio::post(impl->io(), [impl, t, op, cb = std::move(cb)]() mutable {
    asio::co_spawn(impl->io(), aio_run(impl, std::move(t), std::move(op), std::move(cb)), log_if_thrown);
  });
}

Status IoCtx::write(const std::string& oid, uint64_t off, BufferList data) {
  WriteOp op;
  op.write(off, std::move(data));
  return operate(oid, op);
}
Status IoCtx::write_full(const std::string& oid, BufferList data) {
  WriteOp op;
  op.write_full(std::move(data));
  return operate(oid, op);
}
Status IoCtx::append(const std::string& oid, BufferList data) {
  WriteOp op;
  op.append(std::move(data));
  return operate(oid, op);
}
Status IoCtx::remove(const std::string& oid) {
  WriteOp op;
  op.remove();
  return operate(oid, op);
}
Status IoCtx::truncate(const std::string& oid, uint64_t size) {
  WriteOp op;
  op.truncate(size);
  return operate(oid, op);
}
Status IoCtx::zero(const std::string& oid, uint64_t off, uint64_t len) {
  WriteOp op;
  op.zero(off, len);
  return operate(oid, op);
}
Status IoCtx::create(const std::string& oid, bool exclusive) {
  WriteOp op;
  op.create(exclusive);
  return operate(oid, op);
}
Status IoCtx::setxattr(const std::string& oid, const std::string& name, BufferList value) {
  WriteOp op;
  op.setxattr(name, std::move(value));
  return operate(oid, op);
}
Status IoCtx::rmxattr(const std::string& oid, const std::string& name) {
  WriteOp op;
  op.rmxattr(name);
  return operate(oid, op);
}
Status IoCtx::omap_set(const std::string& oid, std::map<std::string, BufferList> kvs) {
  WriteOp op;
  op.omap_set(std::move(kvs));
  return operate(oid, op);
}
Status IoCtx::omap_rm_keys(const std::string& oid, std::vector<std::string> keys) {
  WriteOp op;
  op.omap_rm_keys(std::move(keys));
  return operate(oid, op);
}
Status IoCtx::omap_clear(const std::string& oid) {
  WriteOp op;
  op.omap_clear();
  return operate(oid, op);
}
Status IoCtx::omap_set_header(const std::string& oid, BufferList header) {
  WriteOp op;
  op.omap_set_header(std::move(header));
  return operate(oid, op);
}

Result<BufferList> IoCtx::read(const std::string& oid, uint64_t off, uint64_t len) {
  ReadOp op;
  size_t i = op.read(off, len);
  CAIRN_ASSIGN_OR_RETURN(OpReply r, operate(oid, op));
  return r.data(i);
}
Result<ObjectStat> IoCtx::stat(const std::string& oid) {
  ReadOp op;
  size_t i = op.stat();
  CAIRN_ASSIGN_OR_RETURN(OpReply r, operate(oid, op));
  return r.stat(i);
}
Result<BufferList> IoCtx::getxattr(const std::string& oid, const std::string& name) {
  ReadOp op;
  size_t i = op.getxattr(name);
  CAIRN_ASSIGN_OR_RETURN(OpReply r, operate(oid, op));
  return r.data(i);
}
Result<std::map<std::string, BufferList>> IoCtx::getxattrs(const std::string& oid) {
  ReadOp op;
  size_t i = op.getxattrs();
  CAIRN_ASSIGN_OR_RETURN(OpReply r, operate(oid, op));
  return r.kv_map(i);
}
Result<msg::OmapOut> IoCtx::omap_get_vals(const std::string& oid, const std::string& start_after,
                                          const std::string& prefix, uint64_t max) {
  ReadOp op;
  size_t i = op.omap_get_vals(start_after, prefix, max);
  CAIRN_ASSIGN_OR_RETURN(OpReply r, operate(oid, op));
  return r.omap(i);
}
Result<std::map<std::string, BufferList>> IoCtx::omap_get_by_keys(const std::string& oid,
                                                                  std::vector<std::string> keys) {
  ReadOp op;
  size_t i = op.omap_get_by_keys(std::move(keys));
  CAIRN_ASSIGN_OR_RETURN(OpReply r, operate(oid, op));
  return r.kv_map(i);
}
Result<BufferList> IoCtx::omap_get_header(const std::string& oid) {
  ReadOp op;
  size_t i = op.omap_get_header();
  CAIRN_ASSIGN_OR_RETURN(OpReply r, operate(oid, op));
  return r.data(i);
}

Result<OpReply> IoCtx::pg_operate(uint32_t pg_seed, const ObjectOperation& op, milliseconds extra) {
  if (op.empty()) return Status(Errc::kInvalid, "empty op");
  auto impl = impl_;
  OpTarget t;
  t.pool = pool_;
  t.pg = pg_seed;
  ObjectOperation o = op;
  return impl->run_sync<OpReply>([impl, t, o, extra]() { return impl->execute(t, o, extra); });
}

Result<ListPage> IoCtx::list_objects(const ListCursor& from, size_t max) {
  if (max == 0) return Status(Errc::kInvalid, "list_objects: max must be > 0");
  auto impl = impl_;
  int64_t pool = pool_;
  return impl->run_sync<ListPage>([impl, pool, from, max]() { return list_page(impl, pool, from, max); });
}

Result<std::vector<ListEntry>> IoCtx::list_all() {
  std::vector<ListEntry> all;
  ListCursor cur;
  while (!cur.at_end) {
    CAIRN_ASSIGN_OR_RETURN(ListPage page, list_objects(cur, 1024));
    for (auto& e : page.entries) all.push_back(std::move(e));
    cur = page.next;
  }
  return all;
}

Result<uint64_t> IoCtx::watch(const std::string& oid, WatchCallback cb) {
  auto impl = impl_;
  OpTarget t = target(*this, oid);
  return impl->run_sync<uint64_t>([impl, t, cb]() { return impl->watch(t, cb); });
}

Status IoCtx::unwatch(uint64_t cookie) {
  auto impl = impl_;
  auto r = impl->run_sync<bool>(
      [impl, cookie]() -> awaitable<Result<bool>> { return ClusterImpl::unwatch_bool(impl, cookie); });
  return r.ok() ? Status() : r.status();
}

Result<NotifyResult> IoCtx::notify(const std::string& oid, BufferList payload, milliseconds timeout) {
  msg::OsdSubOp sub;
  sub.code = msg::OsdOpCode::kNotify;
  sub.len = static_cast<uint64_t>(timeout.count());
  ObjectOperation op;
  op.add(std::move(sub), std::move(payload));
  auto impl = impl_;
  OpTarget t = target(*this, oid);
  CAIRN_ASSIGN_OR_RETURN(
      OpReply r, impl->run_sync<OpReply>([impl, t, op, timeout]() { return impl->execute(t, op, timeout); }));
  CAIRN_RETURN_IF_ERROR(op_status(r, oid));
  CAIRN_ASSIGN_OR_RETURN(msg::NotifyOut out, r.notify(0));
  return NotifyResult{std::move(out.acks), std::move(out.timed_out)};
}

// ---- Cluster ----

Result<std::unique_ptr<Cluster>> Cluster::connect(ClusterOptions opts) {
  auto impl = std::make_shared<ClusterImpl>(std::move(opts));
  CAIRN_RETURN_IF_ERROR(impl->start());
  return std::unique_ptr<Cluster>(new Cluster(std::move(impl)));
}

Cluster::~Cluster() { shutdown(); }

void Cluster::shutdown() { impl_->shutdown(); }

std::shared_ptr<const crush::OsdMap> Cluster::osdmap() const { return impl_->map_snapshot(); }
uint32_t Cluster::epoch() const { return impl_->epoch(); }
std::string Cluster::entity_name() const { return "client." + impl_->entity_id(); }
uint64_t Cluster::client_id() const { return impl_->client_id(); }

Status Cluster::wait_for_epoch(uint32_t e, milliseconds timeout) { return impl_->wait_for_epoch(e, timeout); }

Result<std::pair<int32_t, std::string>> Cluster::mon_command(std::vector<std::string> args, bool json) {
  auto impl = impl_;
  CAIRN_ASSIGN_OR_RETURN(MonCommandResult r, impl->run_sync<MonCommandResult>([impl, args, json]() {
    return impl->mon_command(args, json);
  }));
  if (r.code != 0) {
    std::string text = r.err.empty() ? std::string() : r.err;
    return status_from_errno(-r.code, text.empty() ? "monitor command" : text);
  }
  return std::make_pair(r.code, std::move(r.out));
}

namespace {
// Waits (bounded) until `pred(map)` holds for the client's map.
template <typename P>
Status wait_for_map(ClusterImpl& impl, P pred, milliseconds timeout, const std::string& what) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto map = impl.map_snapshot();
    if (map && pred(*map)) return {};
    auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status(Errc::kTimedOut, "the osdmap does not show " + what + " yet");
    Status st = impl.wait_for_epoch(impl.epoch() + 1, std::min(left, milliseconds(1000)));
    if (!st.ok() && st.code() != Errc::kTimedOut) return st;
  }
}
}  // namespace

Status Cluster::pool_create(const std::string& name, uint32_t pg_num, uint32_t size) {
  std::vector<std::string> args{"osd", "pool", "create", name, std::to_string(pg_num)};
  if (size > 0) args.push_back("--size=" + std::to_string(size));
  auto r = mon_command(std::move(args), false);
  if (!r.ok()) return r.status().with_context("pool create " + name);
  return wait_for_map(
      *impl_, [&](const crush::OsdMap& m) { return m.pool_by_name(name) != nullptr; },
      impl_->options().mon_timeout, "pool '" + name + "'");
}

Status Cluster::pool_delete(const std::string& name) {
  std::vector<std::string> args{"osd", "pool", "rm", name, name, "--yes-i-really-really-mean-it"};
  auto r = mon_command(std::move(args), false);
  if (!r.ok()) return r.status().with_context("pool rm " + name);
  return wait_for_map(
      *impl_, [&](const crush::OsdMap& m) { return m.pool_by_name(name) == nullptr; },
      impl_->options().mon_timeout, "pool '" + name + "' removed");
}

std::vector<PoolStat> Cluster::pool_list() const {
  std::vector<PoolStat> out;
  auto map = impl_->map_snapshot();
  if (!map) return out;
  for (const auto& [id, p] : map->pools)
    out.push_back(PoolStat{id, p.name, p.placement.pg_num, p.placement.size});
  return out;
}

Result<int64_t> Cluster::pool_lookup(const std::string& name) const {
  auto map = impl_->map_snapshot();
  const crush::PoolInfo* p = map ? map->pool_by_name(name) : nullptr;
  if (!p) return Status(Errc::kNotFound, "pool '" + name + "' does not exist");
  return p->placement.id;
}

Result<IoCtx> Cluster::io_ctx(const std::string& pool) {
  CAIRN_ASSIGN_OR_RETURN(int64_t id, pool_lookup(pool));
  return IoCtx(impl_, id, pool);
}

// ---- coroutine access ----

asio::io_context& client_io(const Cluster& c) { return impl_of(c)->io(); }
asio::io_context& client_io(const IoCtx& io) { return impl_of(io)->io(); }

awaitable<Result<OpReply>> async_operate(IoCtx io, std::string oid, ObjectOperation op) {
  std::shared_ptr<ClusterImpl> impl = impl_of(io);
  OpTarget t = target(io, oid);
  auto r = co_await impl->execute(std::move(t), std::move(op), kNoExtra);
  co_return r;
}

}  // namespace cairn::client
