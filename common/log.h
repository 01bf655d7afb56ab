// Structured logging with levels and subsystems.
//
//   CAIRN_LOG(kInfo, kMsg) << "connection closed" << kv("peer", name) << kv("reason", why);
//
// prints one logfmt line:
//   ts=2026-11-22T21:03:04.123456Z level=info sub=msg msg="connection closed" peer=osd.3 reason="bad crc"
//
// The first streamed string is the message; kv() adds fields. A disabled level
// costs one relaxed atomic load and a branch (the arguments are not evaluated).
// Thread-safety: every function here may be called from any thread; each line is
// written with one write(2) so lines from different threads never interleave.
#pragma once

#include <atomic>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

namespace cairn::log {

enum class Level : uint8_t { kTrace = 0, kDebug = 1, kInfo = 2, kWarn = 3, kError = 4, kOff = 5 };

enum class Sub : uint8_t {
  kCommon,
  kMsg,
  kCrush,
  kStore,
  kOsd,
  kPg,
  kMon,
  kClient,
  kRbd,
  kFs,
  kGw,
  kTool,
  kTest,
  kCount
};

std::string_view level_name(Level l);
std::string_view sub_name(Sub s);
// Parses "info", "debug", ... ; false if unknown.
bool parse_level(std::string_view text, Level& out);
bool parse_sub(std::string_view text, Sub& out);

namespace detail {
extern std::atomic<uint8_t> g_levels[static_cast<size_t>(Sub::kCount)];
}

inline bool enabled(Level l, Sub s) {
  return static_cast<uint8_t>(l) >= detail::g_levels[static_cast<size_t>(s)].load(std::memory_order_relaxed);
}
void set_level(Sub s, Level l);
void set_all_levels(Level l);
// "info" or "msg=debug,osd=trace,info" (a bare level sets every subsystem).
bool configure(std::string_view spec);
// Log to this file descriptor (default 2, stderr). The caller owns the fd.
void set_fd(int fd);
// Names this process in every line (e.g. "osd.3"); empty by default.
void set_entity(std::string_view entity);

struct KV {
  std::string_view key;
  std::string value;
};
template <typename T>
KV kv(std::string_view key, const T& value) {
  std::ostringstream os;
  os << value;
  return KV{key, os.str()};
}
inline KV kv(std::string_view key, std::string_view value) { return KV{key, std::string(value)}; }
inline KV kv(std::string_view key, const std::string& value) { return KV{key, value}; }
inline KV kv(std::string_view key, const char* value) { return KV{key, std::string(value)}; }

// One log line under construction; written when it goes out of scope.
class Line {
 public:
  Line(Level l, Sub s);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  Line& operator<<(const KV& f);
  Line& operator<<(std::string_view msg);
  Line& operator<<(const std::string& msg) { return *this << std::string_view(msg); }
  Line& operator<<(const char* msg) { return *this << std::string_view(msg); }

 private:
  std::string buf_;
  bool have_msg_ = false;
};

// Appends `v` to `out`, quoted and escaped when it holds spaces, quotes or '='.
void append_value(std::string& out, std::string_view v);

}  // namespace cairn::log

// A one-shot `for` rather than `if/else`, so the macro nests safely inside an
// unbraced `if` without a dangling-else.
#define CAIRN_LOG(level, sub)                                                                          \
  for (bool _cairn_log_on = ::cairn::log::enabled(::cairn::log::Level::level, ::cairn::log::Sub::sub); \
       _cairn_log_on; _cairn_log_on = false)                                                           \
  ::cairn::log::Line(::cairn::log::Level::level, ::cairn::log::Sub::sub)
