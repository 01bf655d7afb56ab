// The real TimerQueue: timers on an Asio io_context (one per shard). Callbacks
// run on that io_context's thread. Not thread-safe: use from the owning thread.
#pragma once

#include <memory>

#include "common/env.h"

namespace boost::asio {
class io_context;
}

namespace cairn {

std::unique_ptr<TimerQueue> make_asio_timer_queue(boost::asio::io_context& io);

}  // namespace cairn
