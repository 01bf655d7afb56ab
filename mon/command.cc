#include "mon/command.h"

#include "common/config.h"

namespace cairn::mon {

void MonCommand::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(args);
  e.put(json);
  e.end_struct(m);
}

void MonCommand::decode(Decoder& d) {
  auto s = d.begin_struct(1, "MonCommand");
  d.get(args);
  d.get(json);
  d.end_struct(s);
}

void MonCommandReply::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(code);
  e.put(out);
  e.put(err);
  e.end_struct(m);
}

void MonCommandReply::decode(Decoder& d) {
  auto s = d.begin_struct(1, "MonCommandReply");
  d.get(code);
  d.get(out);
  d.get(err);
  d.end_struct(s);
}

CommandArgs::CommandArgs(const std::vector<std::string>& words, size_t skip_words) {
  for (size_t i = skip_words; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.size() > 2 && w.compare(0, 2, "--") == 0) {
      size_t eq = w.find('=');
      if (eq != std::string::npos) {
        flags_.emplace_back(w.substr(2, eq - 2), w.substr(eq + 1));
      } else if (i + 1 < words.size() && words[i + 1].compare(0, 2, "--") != 0 &&
                 w != "--yes-i-really-mean-it") {
        flags_.emplace_back(w.substr(2), words[i + 1]);
        ++i;
      } else {
        flags_.emplace_back(w.substr(2), "");
      }
    } else {
      pos_.push_back(w);
    }
  }
}

bool CommandArgs::has_flag(const std::string& name) const {
  for (const auto& [k, v] : flags_)
    if (k == name) return true;
  return false;
}

std::string CommandArgs::flag(const std::string& name, const std::string& fallback) const {
  for (const auto& [k, v] : flags_)
    if (k == name) return v;
  return fallback;
}

namespace {
Result<int64_t> bounded(const std::string& text, const std::string& what, int64_t lo, int64_t hi) {
  auto v = parse_int(text);
  if (!v.ok()) return Status(Errc::kInvalid, what + ": " + v.status().message());
  if (*v < lo || *v > hi)
    return Status(Errc::kInvalid,
                  what + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return *v;
}
}  // namespace

Result<int64_t> CommandArgs::int_at(size_t i, const char* what, int64_t lo, int64_t hi) const {
  if (i >= pos_.size()) return Status(Errc::kInvalid, std::string("missing ") + what);
  return bounded(pos_[i], what, lo, hi);
}

Result<int64_t> CommandArgs::int_flag(const std::string& name, int64_t fallback, int64_t lo,
                                      int64_t hi) const {
  if (!has_flag(name)) return fallback;
  return bounded(flag(name), "--" + name, lo, hi);
}

}  // namespace cairn::mon
