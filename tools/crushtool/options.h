// Command line of cairn-crushtool (see usage() in options.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "crush/types.h"

namespace cairn::crushtool {

enum class Action { kNone, kBuild, kCompile, kDecompile, kTest, kDiff, kBalance, kEdit };

struct Options {
  Action action = Action::kNone;
  std::string input, output, compare;  // -i / -c / -d file, -o file, --diff's second map
  uint32_t hosts = 3, osds_per_host = 4;
  crush::Weight weight = crush::kWeightOne;
  std::string device_class = "hdd";
  int32_t rule = 0;
  uint32_t num_rep = 3;
  uint32_t min_x = 0, max_x = 1023;
  bool show_mappings = false, show_utilization = false, positional = false;
  std::vector<crush::ItemId> mark_out;
  // --balance
  int64_t pool_id = 1;
  uint32_t pg_num = 256;
  uint32_t max_moves = 100000;
  // edits (with -i and -o)
  std::optional<crush::ItemId> add_osd, remove_osd, reweight_osd;
  std::string host = "host0";
};

std::string usage();
Result<Options> parse_options(int argc, char** argv);

}  // namespace cairn::crushtool
