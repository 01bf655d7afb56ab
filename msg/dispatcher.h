// What a daemon plugs into a messenger to receive messages.
//
// Handlers run on the messenger's executor, in arrival order per connection. A
// handler must not block (it holds up every connection of the shard): long work
// is posted elsewhere and answered later with conn->reply(), which any thread may
// call. Replies to this side's own requests never reach the dispatcher.
#pragma once

#include <functional>
#include <unordered_map>

#include "common/status.h"
#include "msg/connection.h"
#include "msg/message.h"

namespace cairn::msg {

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  virtual void dispatch(const ConnectionRef& conn, Message m) = 0;
  // A connection closed for good (lossy drop, explicit close, peer restarted).
  virtual void on_closed(const ConnectionRef& conn, const Status& why) {
    (void)conn;
    (void)why;
  }
};

// A dispatcher with one handler per message type (and an optional fallback).
// Register before the messenger starts; the table is read-only afterwards.
class DispatchTable final : public Dispatcher {
 public:
  using Handler = std::function<void(const ConnectionRef&, Message)>;
  using ClosedHandler = std::function<void(const ConnectionRef&, const Status&)>;

  void on(MsgType type, Handler h) { handlers_[type] = std::move(h); }
  void on_any(Handler h) { fallback_ = std::move(h); }
  void on_close(ClosedHandler h) { closed_ = std::move(h); }

  void dispatch(const ConnectionRef& conn, Message m) override {
    auto it = handlers_.find(m.type);
    if (it != handlers_.end()) {
      it->second(conn, std::move(m));
    } else if (fallback_) {
      fallback_(conn, std::move(m));
    }
  }
  void on_closed(const ConnectionRef& conn, const Status& why) override {
    if (closed_) closed_(conn, why);
  }

 private:
  std::unordered_map<MsgType, Handler> handlers_;
  Handler fallback_;
  ClosedHandler closed_;
};

}  // namespace cairn::msg
