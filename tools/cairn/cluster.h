// `cairn cluster up|down|status`: a local Cairn cluster on loopback (monitors and
// file-backed OSDs under one directory), started as detached daemons and stopped by PID.
#pragma once

namespace cairn::tools {

// `args` are the words after `cairn cluster` (argv[0] is the subcommand). Returns the
// exit status: 0 on success, an errno-style code otherwise, with the reason on stderr.
int cluster_main(int argc, char** argv);

}  // namespace cairn::tools
