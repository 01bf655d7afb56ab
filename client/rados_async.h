// Coroutine access to the client library, for code running on the client
// thread (the Cluster's io_context): aio callbacks, watch callbacks, and
// coroutines spawned on client_io().
//
//   asio::co_spawn(client_io(*cluster), [](IoCtx io) -> awaitable<void> {
//     WriteOp op;
//     op.write_full(BufferList::copy_of("x"));
//     auto r = co_await async_operate(io, "obj", std::move(op));
//   }(*ioctx), asio::detached);
//
// Thread-safety: call only on the client thread.
#pragma once

#include <string>

#include "client/rados.h"
#include "common/asio.h"

namespace cairn::client {

// The io_context the client thread runs.
asio::io_context& client_io(const Cluster& c);
asio::io_context& client_io(const IoCtx& io);

// Runs `op` on `oid`; the reply's `result` may be negative (the op failed at the
// OSD); a transport failure (kTimedOut, kShutdown) is the Status.
awaitable<Result<OpReply>> async_operate(IoCtx io, std::string oid, ObjectOperation op);

}  // namespace cairn::client
