// The client library: a cluster handle, pool I/O contexts, compound ops,
// asynchronous completions and watch/notify (librados-style).
//
//   auto c = client::Cluster::connect({.mon_host = "127.0.0.1:6789"});
//   auto io = (*c)->io_ctx("rbd");
//   io->write_full("greeting", BufferList::copy_of("hello"));
//   auto data = io->read("greeting", 0, 0);          // 0: to the end
//
//   client::WriteOp op;                               // atomic on one object
//   op.cmpxattr("lock", BufferList::copy_of("")).setxattr("lock", BufferList::copy_of("me")).write(0, data);
//   Status st = io->operate("obj", op);               // kCanceled if the guard failed
//
// A Cluster owns one messenger on its own io_context thread (the "client
// thread"), keeps an osdmap subscription with the monitors and sends each op
// straight to its PG's acting primary, resending after map changes, connection
// resets and EAGAIN/ESTALE answers until the op's timeout (ClusterOptions).
//
// Thread-safety: Cluster and IoCtx methods may be called from any thread except
// the synchronous ones (everything returning Status/Result directly), which
// block and so must not run on the client thread itself (they return kInvalid
// there). Callbacks (aio completions, watch notifications) run on the client
// thread and must not block. Coroutine callers on the client thread use
// client/rados_async.h. Errors are errno-style Errc codes (kNotFound, kExists,
// kCanceled, kTimedOut, kNoSpace, kIo, kShutdown...).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/buffer.h"
#include "common/status.h"
#include "msg/osd_messages.h"

namespace cairn::crush {
class OsdMap;
}

namespace cairn::client {

struct ClusterOptions {
  std::string mon_host;  // "127.0.0.1:6789,127.0.0.1:6790"
  // The client's entity id ("client.<id>"); empty: a random one.
  std::string name;
  // How long connect() waits for the first osdmap.
  std::chrono::milliseconds connect_timeout{30000};
  // Overall bound of one op (all resends included): then kTimedOut.
  std::chrono::milliseconds op_timeout{30000};
  // One attempt waits this long for the primary's answer before resending.
  std::chrono::milliseconds attempt_timeout{10000};
  // Monitor commands (pool create/delete).
  std::chrono::milliseconds mon_timeout{30000};

  // One bound for connecting, each op and monitor commands (what CLI tools want).
  static ClusterOptions with_timeout(std::string mon_host, std::chrono::milliseconds timeout) {
    ClusterOptions o;
    o.mon_host = std::move(mon_host);
    o.connect_timeout = o.op_timeout = o.mon_timeout = timeout;
    return o;
  }
};

// Object stat.
struct ObjectStat {
  uint64_t size = 0;
  uint64_t mtime_ns = 0;
  uint64_t version = 0;
};

// The answer to a compound op: per sub-op return value and output, in op order.
struct OpReply {
  int32_t result = 0;  // 0 or a negative errno (the whole op)
  uint32_t version_epoch = 0;
  uint64_t version = 0;
  int32_t osd = -1;  // the OSD that answered
  std::vector<int32_t> rvals;
  std::vector<BufferList> outdata;

  // Typed views of sub-op `i`'s output (kCorrupt if malformed, kInvalid out of range).
  Result<BufferList> data(size_t i) const;
  Result<ObjectStat> stat(size_t i) const;
  Result<std::map<std::string, BufferList>> kv_map(size_t i) const;  // getxattrs, omap_get_by_keys
  Result<msg::OmapOut> omap(size_t i) const;                         // omap_get_vals
  Result<msg::NotifyOut> notify(size_t i) const;
  Result<msg::PgListOut> pg_list(size_t i) const;
  Result<msg::ScrubOut> scrub(size_t i) const;  // pg scrub / list-inconsistent
  // kNotFound etc. when sub-op `i` failed; ok otherwise.
  Status sub_status(size_t i) const;
};

// Maps an OSD's negative errno to a Status ("" context: none).
Status status_from_errno(int32_t neg_errno, const std::string& context = "");

// A compound op's sub-ops and their input payloads. WriteOp and ReadOp build one.
class ObjectOperation {
 public:
  const std::vector<msg::OsdSubOp>& ops() const { return ops_; }
  const BufferList& data() const { return data_; }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  uint32_t flags() const { return flags_; }

  // Guards: the whole op fails with kCanceled unless they hold.
  // cmpxattr: xattr `name` equals `value` (absent_ok: an absent xattr compares as empty).
  void add_cmpxattr(const std::string& name, BufferList value, bool absent_ok);
  void add_assert_version(uint64_t version);
  void add_assert_exists();

  // Appends a raw sub-op (see msg/osd_messages.h); returns its index (the
  // position of its result in OpReply). The builders below use it.
  size_t add(msg::OsdSubOp op, BufferList indata = {});

 private:
  std::vector<msg::OsdSubOp> ops_;
  BufferList data_;
  uint32_t flags_ = 0;
};

class WriteOp : public ObjectOperation {
 public:
  WriteOp& create(bool exclusive);
  WriteOp& write(uint64_t off, BufferList data);
  WriteOp& write_full(BufferList data);
  WriteOp& append(BufferList data);
  WriteOp& truncate(uint64_t size);
  WriteOp& zero(uint64_t off, uint64_t len);
  WriteOp& remove();
  WriteOp& setxattr(const std::string& name, BufferList value);
  WriteOp& rmxattr(const std::string& name);
  WriteOp& omap_set(std::map<std::string, BufferList> kvs);
  WriteOp& omap_rm_keys(std::vector<std::string> keys);
  WriteOp& omap_rm_range(const std::string& first, const std::string& last);
  WriteOp& omap_clear();
  WriteOp& omap_set_header(BufferList header);
  WriteOp& cmpxattr(const std::string& name, BufferList value, bool absent_ok = false);
  WriteOp& assert_version(uint64_t version);
  WriteOp& assert_exists();
};

// Each read appends a sub-op whose output is OpReply's entry at the returned index
// (guards take an index too, so indexes match the order of calls).
class ReadOp : public ObjectOperation {
 public:
  size_t read(uint64_t off, uint64_t len);  // len 0: to the end
  size_t stat();
  size_t getxattr(const std::string& name);
  size_t getxattrs();
  size_t omap_get_vals(const std::string& start_after, const std::string& prefix, uint64_t max);
  size_t omap_get_by_keys(std::vector<std::string> keys);
  size_t omap_get_header();
  size_t cmpxattr(const std::string& name, BufferList value, bool absent_ok = false);
  size_t assert_version(uint64_t version);
  size_t assert_exists();
};

// Where list_objects() is: a PG of the pool and a position in it. Survives map
// changes (it names no OSD). A default cursor is the pool's beginning.
struct ListCursor {
  uint32_t pg = 0;
  msg::ObjectCursor pos;
  bool at_end = false;
  bool operator==(const ListCursor&) const = default;
  // A printable form ("pg:hash:nspace:name", name escaped) and back.
  std::string to_string() const;
  static Result<ListCursor> parse(const std::string& s);
};

struct ListEntry {
  std::string nspace;
  std::string name;
};

struct ListPage {
  std::vector<ListEntry> entries;
  ListCursor next;  // next.at_end: nothing more
};

// A watch callback: (notify id, cookie, notifier's payload) -> the reply payload.
using WatchCallback =
    std::function<BufferList(uint64_t notify_id, uint64_t cookie, const BufferList& payload)>;
using AioCallback = std::function<void(Result<OpReply>)>;

struct NotifyResult {
  std::vector<std::pair<uint64_t, BufferList>> acks;  // cookie -> reply payload
  std::vector<uint64_t> timed_out;
};

class ClusterImpl;
class Cluster;

// I/O on one pool. Cheap to copy; keeps the cluster's internals alive, but the
// Cluster must not have been shut down.
class IoCtx {
 public:
  int64_t pool_id() const { return pool_; }
  const std::string& pool_name() const { return pool_name_; }
  // Objects are placed by name within a namespace ("" by default).
  void set_namespace(std::string ns) { nspace_ = std::move(ns); }
  const std::string& get_namespace() const { return nspace_; }

  Status write(const std::string& oid, uint64_t off, BufferList data);
  Status write_full(const std::string& oid, BufferList data);
  Status append(const std::string& oid, BufferList data);
  Result<BufferList> read(const std::string& oid, uint64_t off, uint64_t len);  // len 0: to the end
  Status remove(const std::string& oid);
  Result<ObjectStat> stat(const std::string& oid);
  Status truncate(const std::string& oid, uint64_t size);
  Status zero(const std::string& oid, uint64_t off, uint64_t len);
  Status create(const std::string& oid, bool exclusive);
  Status setxattr(const std::string& oid, const std::string& name, BufferList value);
  Result<BufferList> getxattr(const std::string& oid, const std::string& name);
  Result<std::map<std::string, BufferList>> getxattrs(const std::string& oid);
  Status rmxattr(const std::string& oid, const std::string& name);
  Status omap_set(const std::string& oid, std::map<std::string, BufferList> kvs);
  // Up to `max` entries after `start_after` whose keys start with `prefix`; `more`
  // says whether there are others.
  Result<msg::OmapOut> omap_get_vals(const std::string& oid, const std::string& start_after,
                                     const std::string& prefix, uint64_t max);
  Result<std::map<std::string, BufferList>> omap_get_by_keys(const std::string& oid,
                                                             std::vector<std::string> keys);
  Status omap_rm_keys(const std::string& oid, std::vector<std::string> keys);
  Status omap_clear(const std::string& oid);
  Status omap_set_header(const std::string& oid, BufferList header);
  Result<BufferList> omap_get_header(const std::string& oid);

  // Compound ops. A write answers ok or the first failure; a read returns the reply
  // (the op's own failure, e.g. kNotFound or kCanceled, is the Status).
  Status operate(const std::string& oid, const WriteOp& op);
  Result<OpReply> operate(const std::string& oid, const ReadOp& op);
  // Asynchronous: `cb` runs on the client thread with the reply (whose `result`
  // may be negative) or a transport error (kTimedOut, kShutdown...).
  void aio_operate(const std::string& oid, const ObjectOperation& op, AioCallback cb);

  // One page of the pool's objects from `from` (at most `max` entries).
  Result<ListPage> list_objects(const ListCursor& from, size_t max);
  // A PG-wide op (msg::osd_op_is_pg_wide: scrub, list-inconsistent) on PG
  // `pg_seed` of this pool; `extra` lengthens the op timeout (a deep scrub reads
  // every copy of every object).
  Result<OpReply> pg_operate(uint32_t pg_seed, const ObjectOperation& op, std::chrono::milliseconds extra);
  // Every object in the pool (all namespaces).
  Result<std::vector<ListEntry>> list_all();

  // Watches `oid`: `cb` runs on the client thread for each notify. The watch is
  // re-established when the primary changes. Returns the cookie.
  Result<uint64_t> watch(const std::string& oid, WatchCallback cb);
  Status unwatch(uint64_t cookie);
  Result<NotifyResult> notify(const std::string& oid, BufferList payload, std::chrono::milliseconds timeout);

 private:
  friend class Cluster;
  friend class ClusterImpl;
  friend std::shared_ptr<ClusterImpl> impl_of(const IoCtx& io);
  IoCtx(std::shared_ptr<ClusterImpl> impl, int64_t pool, std::string name)
      : impl_(std::move(impl)), pool_(pool), pool_name_(std::move(name)) {}
  Result<OpReply> run(const std::string& oid, const ObjectOperation& op);

  std::shared_ptr<ClusterImpl> impl_;
  int64_t pool_ = 0;
  std::string pool_name_;
  std::string nspace_;
};

struct PoolStat {
  int64_t id = 0;
  std::string name;
  uint32_t pg_num = 0;
  uint32_t size = 0;
};

class Cluster {
 public:
  // Connects to the monitors and waits for the first osdmap.
  static Result<std::unique_ptr<Cluster>> connect(ClusterOptions opts);
  ~Cluster();  // shuts down
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // A snapshot of the newest osdmap.
  std::shared_ptr<const crush::OsdMap> osdmap() const;
  uint32_t epoch() const;
  // Waits until the client has osdmap epoch `e` (asks the monitors for it).
  Status wait_for_epoch(uint32_t e, std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));

  // Creates a pool (idempotent: an existing pool is ok) and waits until the map has it.
  Status pool_create(const std::string& name, uint32_t pg_num, uint32_t size);
  Status pool_delete(const std::string& name);
  std::vector<PoolStat> pool_list() const;
  Result<int64_t> pool_lookup(const std::string& name) const;
  // kNotFound for an unknown pool.
  Result<IoCtx> io_ctx(const std::string& pool);

  // Runs a monitor command (as `cairn ...` would); returns (code, out, err).
  Result<std::pair<int32_t, std::string>> mon_command(std::vector<std::string> args, bool json);

  // "client.<id>", and the id OSDs see in each op.
  std::string entity_name() const;
  uint64_t client_id() const;
  // Stops the client thread; later calls fail with kShutdown. Idempotent.
  void shutdown();

 private:
  friend std::shared_ptr<ClusterImpl> impl_of(const Cluster& c);
  explicit Cluster(std::shared_ptr<ClusterImpl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<ClusterImpl> impl_;
};

}  // namespace cairn::client
