// A failed write to the monitor's own store: continuing could break promises
// Paxos already made, so the monitor stops (a restarted monitor catches up from
// its peers). Never used for anything a peer sent.
#pragma once

#include <cstdlib>

#include "common/log.h"
#include "common/status.h"

namespace cairn::mon::internal {

inline void store_must(const Status& st, const char* what) {
  if (!st.ok()) {
    CAIRN_LOG(kError, kMon) << "paxos: store write failed" << log::kv("what", what)
                            << log::kv("error", st.to_string());
    std::abort();
  }
}

}  // namespace cairn::mon::internal
