// Name rules shared by the validator and the text parser.
#pragma once

#include <string_view>

#include "crush/types.h"

namespace cairn::crush::internal {

// Names are 1..kMaxNameLength characters of [A-Za-z0-9_.-], so the text form
// needs no quoting and a name can never be mistaken for a number or a keyword
// position.
inline bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

inline bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  for (char c : s)
    if (!is_name_char(c)) return false;
  return true;
}

}  // namespace cairn::crush::internal
