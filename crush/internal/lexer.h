// Splits CRUSH map text into lines of tokens: '#' starts a comment, '{' and '}'
// are tokens of their own, everything else is separated by whitespace.
#pragma once

#include <string_view>
#include <vector>

namespace cairn::crush::internal {

struct TextLine {
  int number = 0;  // 1-based, for error messages
  std::vector<std::string_view> tokens;
};

inline std::vector<TextLine> lex(std::string_view text) {
  std::vector<TextLine> lines;
  int number = 0;
  while (!text.empty() || number == 0) {
    ++number;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    TextLine tl{number, {}};
    size_t i = 0;
    while (i < line.size()) {
      char c = line[i];
      if (c == ' ' || c == '\t' || c == '\r') {
        ++i;
      } else if (c == '{' || c == '}') {
        tl.tokens.push_back(line.substr(i, 1));
        ++i;
      } else {
        size_t j = i;
        while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' && line[j] != '{' &&
               line[j] != '}')
          ++j;
        tl.tokens.push_back(line.substr(i, j - i));
        i = j;
      }
    }
    if (!tl.tokens.empty()) lines.push_back(std::move(tl));
    if (text.empty()) break;
  }
  return lines;
}

}  // namespace cairn::crush::internal
