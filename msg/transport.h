// The network as the messenger sees it: something that listens and connects and
// yields byte streams. The real implementation is TCP on Asio (tcp_transport.h);
// a simulator can stand in later without the messenger changing.
//
// All operations are coroutines on the executor the transport was made for; a
// Stream or Listener is owned by one coroutine at a time (one reader and one
// writer may use a Stream concurrently, as with a socket). close() wakes pending
// operations, which then complete with an error (kConnReset / kShutdown).
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "common/asio.h"
#include "common/status.h"
#include "msg/entity.h"

namespace cairn::msg {

class Stream {
 public:
  virtual ~Stream() = default;
  // Reads between 1 and len bytes. kConnReset at end of stream or on error.
  virtual awaitable<Result<size_t>> read_some(void* buf, size_t len) = 0;
  // Reads exactly len bytes.
  virtual awaitable<Status> read_exact(void* buf, size_t len) = 0;
  // Writes every byte of the gather list (in as few system calls as it can).
  virtual awaitable<Status> write_all(std::span<const iovec> bufs) = 0;
  // Idempotent; wakes pending reads and writes.
  virtual void close() = 0;
  // "host:port" of the other end, for logs.
  virtual std::string remote() const = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual awaitable<Result<std::unique_ptr<Stream>>> accept() = 0;
  // The bound address (with the real port when bound to port 0).
  virtual EntityAddr local_addr() const = 0;
  virtual void close() = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<std::unique_ptr<Listener>> listen(const EntityAddr& addr) = 0;
  // kTimedOut if the connection is not up within `timeout`.
  virtual awaitable<Result<std::unique_ptr<Stream>>> connect(const EntityAddr& addr,
                                                             std::chrono::milliseconds timeout) = 0;
};

}  // namespace cairn::msg
