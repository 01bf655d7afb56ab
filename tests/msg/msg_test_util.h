// Test harness for the messenger: a Node is one messenger on its own io_context
// thread, with a DispatchTable. run() runs a coroutine on a node's thread and
// waits for it with a bound, so no test can hang.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "common/asio.h"
#include "msg/messenger.h"

namespace cairn::msg::testing {

inline EntityName name(const char* s) { return *EntityName::parse(s); }

inline MessengerOptions fast_options() {
  MessengerOptions o;
  o.keepalive_interval = std::chrono::milliseconds(100);
  o.keepalive_timeout = std::chrono::milliseconds(2000);
  o.reconnect_min = std::chrono::milliseconds(5);
  o.reconnect_max = std::chrono::milliseconds(100);
  o.connect_timeout = std::chrono::milliseconds(1000);
  o.handshake_timeout = std::chrono::milliseconds(1000);
  return o;
}

class Node {
 public:
  explicit Node(const char* entity, MessengerOptions opts = fast_options(), bool listen = true)
      : work_(asio::make_work_guard(io_)), m_(io_, name(entity), opts) {
    m_.set_dispatcher(&table_);
    if (listen) addr_ = *m_.bind(*EntityAddr::parse("127.0.0.1:0"));
  }
  ~Node() { stop(); }

  void start() {
    thread_ = std::thread([this] { io_.run(); });
  }
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    m_.shutdown();
    work_.reset();
    // Let the shutdown run, then stop whatever is still pending (timers of idle loops).
    auto done = std::async(std::launch::async, [this] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      io_.stop();
    });
    if (thread_.joinable()) thread_.join();
    done.get();
  }

  EntityInst inst() const { return EntityInst{m_.name(), addr_}; }
  Messenger& m() { return m_; }
  DispatchTable& table() { return table_; }
  asio::io_context& io() { return io_; }

  // Runs `make()`'s coroutine on this node's thread; fails the test after `limit`.
  template <typename T, typename F>
  T run(F make, std::chrono::seconds limit = std::chrono::seconds(30)) {
    auto p = std::make_shared<std::promise<T>>();
    auto f = p->get_future();
    asio::post(io_, [this, p, make]() mutable {
      // Result<T> has no default constructor, so the value travels through the promise.
      asio::co_spawn(io_, deliver<T>(p, make()), [p](std::exception_ptr e) {
        if (e) p->set_exception(e);
      });
    });
    if (f.wait_for(limit) != std::future_status::ready) {
      ADD_FAILURE() << "coroutine did not finish in time";
      std::abort();  // the coroutine still refers to the caller's state
    }
    return f.get();
  }

  // Connects on this node's thread.
  ConnectionRef connect(const EntityInst& peer, Policy p) {
    std::promise<ConnectionRef> pr;
    asio::post(io_, [&] { pr.set_value(m_.connect(peer, p)); });
    return pr.get_future().get();
  }

 private:
  template <typename T>
  static awaitable<void> deliver(std::shared_ptr<std::promise<T>> p, awaitable<T> a) {
    p->set_value(co_await std::move(a));
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  DispatchTable table_;
  Messenger m_;
  EntityAddr addr_;
  std::thread thread_;
  bool stopped_ = false;
};

// Waits up to `limit` for `pred` to hold.
template <typename P>
bool eventually(P pred, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

inline Message text_msg(MsgType t, std::string_view s, BufferList data = {}) {
  Message m;
  m.type = t;
  m.front = BufferList::copy_of(s);
  m.data = std::move(data);
  return m;
}

}  // namespace cairn::msg::testing
