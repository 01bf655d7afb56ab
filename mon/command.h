// Admin commands: what the `cairn` CLI sends to a monitor and what comes back.
// Words as typed (`osd pool create rbd 64 --size 3`), the output format, and a
// reply with an errno-style code, the output (a table or JSON) and an error text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "common/status.h"

namespace cairn::mon {

struct MonCommand {
  std::vector<std::string> args;
  bool json = false;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
};

struct MonCommandReply {
  int32_t code = 0;  // 0 or an errno value
  std::string out;
  std::string err;
  void encode(Encoder& e) const;
  void decode(Decoder& d);
  void fail(const Status& st) {
    code = st.err();
    err = st.message();
  }
};

// Parsed words of a command: positional words and --flags (with or without values).
class CommandArgs {
 public:
  explicit CommandArgs(const std::vector<std::string>& words, size_t skip_words);
  size_t size() const { return pos_.size(); }
  const std::string& at(size_t i) const { return pos_.at(i); }
  bool has_flag(const std::string& name) const;
  // The flag's value, or `fallback` if absent.
  std::string flag(const std::string& name, const std::string& fallback = "") const;
  // Parses an integer argument with bounds; kInvalid with the argument's name on error.
  Result<int64_t> int_at(size_t i, const char* what, int64_t lo, int64_t hi) const;
  Result<int64_t> int_flag(const std::string& name, int64_t fallback, int64_t lo, int64_t hi) const;

 private:
  std::vector<std::string> pos_;
  std::vector<std::pair<std::string, std::string>> flags_;
};

}  // namespace cairn::mon
