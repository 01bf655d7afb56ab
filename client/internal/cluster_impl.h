// The client's engine (the "objecter"): osdmap tracking, sending ops to PG
// primaries with resends, OSD connections, and watches.
//
// Thread-safety: everything except the members marked "any thread" belongs to
// the client thread, which runs `io`. run_sync() is how other threads call in.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/mon_client.h"
#include "client/rados.h"
#include "common/asio.h"
#include "crush/osd_map.h"
#include "msg/dispatcher.h"
#include "msg/messenger.h"
#include "msg/mon_session.h"
#include "msg/osd_messages.h"

namespace cairn::client {

// What an op is sent to: an object (placed by name) or a whole PG (kPgList).
struct OpTarget {
  int64_t pool = 0;
  std::string nspace;
  std::string name;
  std::optional<uint32_t> pg;  // PG-wide op on this seed
};

// Builds the wire op for `t` with `map`'s placement (pg seed and object hash).
msg::OsdOpMsg make_op_msg(const crush::OsdMap& map, const OpTarget& t, const ObjectOperation& op);
// Turns a decoded reply and its data segment into an OpReply.
OpReply make_op_reply(const msg::OsdOpReplyMsg& reply, const BufferList& data);
// Whether a reply result asks for a resend (ESTALE, EAGAIN).
bool is_retry_result(int32_t result);
// A one-sub-op operation (watch, unwatch, notify ack...): `off` and input `indata`.
ObjectOperation watch_op(msg::OsdOpCode code, uint64_t off, BufferList indata = {});
// The answer to a notify: off = notify id, len = the answering watch's cookie, indata = the reply.
ObjectOperation notify_ack_op(uint64_t notify_id, uint64_t cookie, BufferList reply);

class ClusterImpl : public std::enable_shared_from_this<ClusterImpl> {
 public:
  explicit ClusterImpl(ClusterOptions opts);
  ~ClusterImpl();

  // Starts the thread and the monitor session, waits for the first map (any thread).
  Status start();
  // Any thread; idempotent.
  void shutdown();

  // ---- any thread ----
  std::shared_ptr<const crush::OsdMap> map_snapshot() const;
  uint32_t epoch() const { return epoch_.load(); }
  bool stopping() const { return stopping_.load(); }
  bool on_client_thread() const { return std::this_thread::get_id() == thread_id_; }
  const ClusterOptions& options() const { return opts_; }
  uint64_t client_id() const { return client_id_; }
  const std::string& entity_id() const { return entity_id_; }
  asio::io_context& io() { return io_; }

  // Runs `make()`'s coroutine on the client thread and waits for it. kInvalid on
  // the client thread itself (it would deadlock), kShutdown after shutdown().
  template <typename T, typename F>
  Result<T> run_sync(F make) {
    if (on_client_thread()) return Status(Errc::kInvalid, "synchronous client call on the client thread");
    if (stopping()) return Status(Errc::kShutdown, "client is shut down");
    auto p = std::make_shared<std::promise<Result<T>>>();
    auto f = p->get_future();
    asio::post(io_, [p, make = std::move(make), this]() mutable {
      asio::co_spawn(io_, deliver<T>(p, make()), [p](std::exception_ptr e) {
        if (e) p->set_exception(e);
      });
    });
    try {
      return f.get();
    } catch (const std::exception& e) {
      return Status(Errc::kShutdown, std::string("client stopped: ") + e.what());
    }
  }

  // ---- client thread ----
  // Sends `op` to its target's primary until it gets a final answer or the op
  // timeout (plus `extra`, for notifies) passes.
  awaitable<Result<OpReply>> execute(OpTarget t, ObjectOperation op, std::chrono::milliseconds extra);
  // Waits until the map epoch is >= e (asking the monitors) or `timeout` passes.
  awaitable<Status> wait_epoch(uint32_t e, std::chrono::milliseconds timeout);
  Status wait_for_epoch(uint32_t e, std::chrono::milliseconds timeout) {
    return wait_for_epoch_sync(e, timeout);
  }
  awaitable<Result<MonCommandResult>> mon_command(std::vector<std::string> args, bool json);

  awaitable<Result<uint64_t>> watch(OpTarget t, WatchCallback cb);
  awaitable<Status> unwatch(uint64_t cookie);
  static awaitable<Result<bool>> unwatch_bool(std::shared_ptr<ClusterImpl> self, uint64_t cookie);

 private:
  struct OsdConn {
    msg::ConnectionRef conn;
    std::string addr;
  };
  struct Watch {
    OpTarget target;
    WatchCallback cb;
    int32_t osd = -1;          // where it is registered (-1: nowhere yet)
    bool registering = false;  // a (re)registration is running
  };

  template <typename T>
  static awaitable<void> deliver(std::shared_ptr<std::promise<Result<T>>> p, awaitable<Result<T>> a) {
    p->set_value(co_await std::move(a));
  }

  Status wait_for_epoch_sync(uint32_t e, std::chrono::milliseconds timeout);
  static awaitable<Result<bool>> wait_epoch_bool(std::shared_ptr<ClusterImpl> self, uint32_t e,
                                                 std::chrono::milliseconds timeout);
  void handle_osdmap(const msg::Message& m);
  void handle_watch_notify(const msg::ConnectionRef& conn, msg::Message m);
  void handle_closed(const msg::ConnectionRef& conn);
  void publish(std::shared_ptr<const crush::OsdMap> map);
  void wake_waiters();
  // Sleeps up to `d`, woken early by a new map or shutdown.
  awaitable<void> wait_map_change(uint32_t have, std::chrono::milliseconds d);
  msg::ConnectionRef osd_conn(int32_t osd, const std::string& addr);
  void drop_conn(int32_t osd, const msg::ConnectionRef& conn);
  // Re-registers watches whose primary changed or whose connection dropped.
  void check_watches();
  static awaitable<void> rewatch(std::shared_ptr<ClusterImpl> self, uint64_t cookie);
  static awaitable<void> send_notify_ack(std::shared_ptr<ClusterImpl> self, OpTarget t, uint64_t notify_id,
                                         uint64_t cookie, BufferList reply);
  std::optional<int32_t> primary_of(const crush::OsdMap& map, const OpTarget& t) const;

  const ClusterOptions opts_;
  uint64_t client_id_ = 0;
  std::string entity_id_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::thread::id thread_id_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint32_t> epoch_{0};

  // Client thread.
  msg::DispatchTable table_;
  std::unique_ptr<msg::Messenger> messenger_;
  std::unique_ptr<msg::MonSession> session_;
  std::unique_ptr<MonClient> monc_;
  std::shared_ptr<const crush::OsdMap> map_;
  std::set<asio::steady_timer*> waiters_;
  std::map<int32_t, OsdConn> conns_;
  std::map<uint64_t, Watch> watches_;
  uint64_t next_tid_ = 0;
  uint64_t next_cookie_ = 0;

  // The map snapshot for other threads.
  mutable std::mutex snap_mu_;
  std::shared_ptr<const crush::OsdMap> snap_;
};

}  // namespace cairn::client
