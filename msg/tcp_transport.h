// The real Transport: TCP sockets on an Asio io_context, TCP_NODELAY on every
// connection. Streams and listeners belong to that io_context's thread.
#pragma once

#include <memory>

#include "msg/transport.h"

namespace cairn::msg {

std::unique_ptr<Transport> make_tcp_transport(asio::io_context& io);

}  // namespace cairn::msg
