#include "common/log.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <ctime>
#include <mutex>

namespace cairn::log {
namespace detail {
std::atomic<uint8_t> g_levels[static_cast<size_t>(Sub::kCount)] = {};
namespace {
struct InitLevels {
  InitLevels() {
    for (auto& l : g_levels) l.store(static_cast<uint8_t>(Level::kInfo));
  }
} g_init_levels;
}  // namespace
}  // namespace detail

namespace {
constexpr std::array<std::string_view, 6> kLevelNames = {"trace", "debug", "info", "warn", "error", "off"};
constexpr std::array<std::string_view, static_cast<size_t>(Sub::kCount)> kSubNames = {
    "common", "msg", "crush", "store", "osd", "pg", "mon", "client", "rbd", "fs", "gw", "tool", "test"};
std::atomic<int> g_fd{2};
std::mutex g_entity_mu;
std::string g_entity;  // guarded by g_entity_mu
}  // namespace

std::string_view level_name(Level l) { return kLevelNames[static_cast<size_t>(l)]; }
std::string_view sub_name(Sub s) { return kSubNames[static_cast<size_t>(s)]; }

bool parse_level(std::string_view text, Level& out) {
  for (size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == text) {
      out = static_cast<Level>(i);
      return true;
    }
  }
  if (text == "warning") {
    out = Level::kWarn;
    return true;
  }
  return false;
}

bool parse_sub(std::string_view text, Sub& out) {
  for (size_t i = 0; i < kSubNames.size(); ++i) {
    if (kSubNames[i] == text) {
      out = static_cast<Sub>(i);
      return true;
    }
  }
  return false;
}

void set_level(Sub s, Level l) {
  detail::g_levels[static_cast<size_t>(s)].store(static_cast<uint8_t>(l), std::memory_order_relaxed);
}

void set_all_levels(Level l) {
  for (size_t i = 0; i < static_cast<size_t>(Sub::kCount); ++i) set_level(static_cast<Sub>(i), l);
}

bool configure(std::string_view spec) {
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    Level l;
    if (eq == std::string_view::npos) {
      if (!parse_level(item, l)) return false;
      set_all_levels(l);
    } else {
      Sub s;
      if (!parse_sub(item.substr(0, eq), s) || !parse_level(item.substr(eq + 1), l)) return false;
      set_level(s, l);
    }
  }
  return true;
}

void set_fd(int fd) { g_fd.store(fd); }

void set_entity(std::string_view entity) {
  std::lock_guard lk(g_entity_mu);
  g_entity = entity;
}

void append_value(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out += c;
    }
  }
  out += '"';
}

Line::Line(Level l, Sub s) {
  buf_.reserve(160);
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us % 1000000));
  buf_ += "ts=";
  buf_ += ts;
  buf_ += " level=";
  buf_ += level_name(l);
  buf_ += " sub=";
  buf_ += sub_name(s);
  {
    std::lock_guard lk(g_entity_mu);
    if (!g_entity.empty()) {
      buf_ += " entity=";
      append_value(buf_, g_entity);
    }
  }
}

Line& Line::operator<<(std::string_view msg) {
  if (!have_msg_) {
    buf_ += " msg=";
    have_msg_ = true;
    append_value(buf_, msg);
  } else {
    *this << KV{"detail", std::string(msg)};
  }
  return *this;
}

Line& Line::operator<<(const KV& f) {
  buf_ += ' ';
  buf_ += f.key;
  buf_ += '=';
  append_value(buf_, f.value);
  return *this;
}

Line::~Line() {
  buf_ += '\n';
  const char* p = buf_.data();
  size_t left = buf_.size();
  int fd = g_fd.load();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n <= 0) break;  // nowhere to report a failed log write
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace cairn::log
