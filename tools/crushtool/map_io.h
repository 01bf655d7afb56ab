// Reading and writing map files: binary (common/encoding.h) or text (crush/text.h).
#pragma once

#include <string>

#include "common/status.h"
#include "crush/crush_map.h"

namespace cairn::crushtool {

// Loads a binary or text map (binary maps start with the struct version byte 1,
// which no text map can).
Result<crush::CrushMap> load_map(const std::string& path);
Status save_binary(const crush::CrushMap& map, const std::string& path);
// Writes text to `path`, or to stdout when path is empty.
Status save_text(const std::string& text, const std::string& path);

}  // namespace cairn::crushtool
