// A co_spawn completion handler for the messenger's long-running loops.
//
// The loops report errors as Status values and do not throw; what could still
// escape (std::bad_alloc, a bug) is logged here instead of vanishing as it would
// with asio::detached (docs/coroutines.md, rule 5).
#pragma once

#include <exception>

#include "common/log.h"

namespace cairn::msg::internal {

inline auto log_if_thrown(const char* where) {
  return [where](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      CAIRN_LOG(kError, kMsg) << "messenger coroutine threw" << log::kv("where", where)
                              << log::kv("what", ex.what());
    } catch (...) {
      CAIRN_LOG(kError, kMsg) << "messenger coroutine threw" << log::kv("where", where);
    }
  };
}

}  // namespace cairn::msg::internal
