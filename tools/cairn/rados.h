// `cairn rados ...`: object I/O through the client library (tools/cairn/rados.cc).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace cairn::tools {

// `words` starts with "rados". Returns the process exit code (0 or an errno).
int run_rados(const std::string& mon_host, const std::vector<std::string>& words, bool json,
              std::chrono::milliseconds timeout);

}  // namespace cairn::tools
