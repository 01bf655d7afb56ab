// `cairn pg scrub|deep-scrub|repair|list-inconsistent PGID`: PG-wide ops sent to the
// PG's primary through the client library (tools/cairn/pg_scrub.cc).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace cairn::tools {

// True for the `pg` subcommands handled here (the others go to the monitors).
bool is_pg_scrub_command(const std::vector<std::string>& words);
// Returns the process exit code (0 or an errno).
int run_pg_scrub(const std::string& mon_host, const std::vector<std::string>& words, bool json,
                 std::chrono::milliseconds timeout);

}  // namespace cairn::tools
