// The one way Cairn includes Boost.Asio.
//
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>; GCC 12
// rejects it unless <utility> comes first. Boost 1.74 also has no asio::experimental
// (no as_tuple, no channels): use asio::redirect_error for error codes without
// exceptions. See docs/coroutines.md for the rules coroutines follow.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cairn {
namespace asio = boost::asio;
template <typename T = void>
using awaitable = boost::asio::awaitable<T>;
}  // namespace cairn
