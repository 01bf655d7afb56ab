// The text form of a CRUSH map: compile (text -> map) and decompile (map -> text).
//
// decompile() prints a canonical form and compile(decompile(m)) == m for every
// valid map; decompile(compile(t)) == t for every canonical text. The grammar
// (one statement per line, '#' starts a comment):
//
//   tunable choose_total_tries <n>
//   type <id> <name>
//   device <id> <name> weight <w> [class <c>]      w: decimal, 16.16 fixed point
//   <type-name> <name> {                            a straw2 bucket
//     id <negative id>
//     alg straw2
//     item <name>                                   a device or bucket, any order
//   }
//   rule <name> {
//     id <n>
//     type replicated|erasure
//     step take <bucket> [class <c>]
//     step choose|chooseleaf firstn|indep <n> type <type-name>
//     step emit
//   }
//
// Weights print with 5 decimals, which is exact for 16.16 values: 1e-5 is less
// than half of 2^-16, so parsing rounds back to the same integer.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "crush/crush_map.h"

namespace cairn::crush {

inline constexpr size_t kMaxTextSize = 64u << 20;  // bounds what compile() reads

// Parses and validates; errors are kInvalid with "line N: ..." context.
Result<CrushMap> compile(std::string_view text);
std::string decompile(const CrushMap& map);

// "1.50000" <-> 0x18000. parse_weight accepts up to 9 decimals and rounds.
std::string format_weight(Weight w);
bool parse_weight(std::string_view s, Weight& out);

}  // namespace cairn::crush
