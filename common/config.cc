#include "common/config.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

extern char** environ;

namespace cairn {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string normalize(std::string_view name) {
  std::string n(name);
  for (char& c : n) {
    if (c == '-' || c == ' ') c = '_';
  }
  return n;
}

const char* type_name(OptType t) {
  switch (t) {
    case OptType::kBool: return "bool";
    case OptType::kInt: return "int";
    case OptType::kUint: return "uint";
    case OptType::kDouble: return "float";
    case OptType::kString: return "str";
    case OptType::kSize: return "size";
    case OptType::kDuration: return "duration";
  }
  return "?";
}

Status validate(OptType type, std::string_view v) {
  switch (type) {
    case OptType::kBool: return parse_bool(v).status();
    case OptType::kInt: return parse_int(v).status();
    case OptType::kUint: {
      auto r = parse_int(v);
      if (!r.ok()) return r.status();
      if (*r < 0) return error(Errc::kInvalid, "negative value");
      return {};
    }
    case OptType::kDouble: {
      std::string s(v);
      char* end = nullptr;
      std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0') return error(Errc::kInvalid, "not a number");
      return {};
    }
    case OptType::kString: return {};
    case OptType::kSize: return parse_size(v).status();
    case OptType::kDuration: return parse_duration_ms(v).status();
  }
  return {};
}

}  // namespace

Result<bool> parse_bool(std::string_view s) {
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  return Status(Errc::kInvalid, "not a boolean: '" + std::string(s) + "'");
}

Result<int64_t> parse_int(std::string_view s) {
  std::string t(trim(s));
  if (t.empty()) return Status(Errc::kInvalid, "empty integer");
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(t.c_str(), &end, 0);
  if (*end != '\0') return Status(Errc::kInvalid, "not an integer: '" + t + "'");
  if (errno == ERANGE) return Status(Errc::kRange, "integer out of range: '" + t + "'");
  return static_cast<int64_t>(v);
}

Result<uint64_t> parse_size(std::string_view s) {
  std::string t(trim(s));
  if (t.empty() || t[0] == '-') return Status(Errc::kInvalid, "not a size: '" + t + "'");
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(t.c_str(), &end, 10);
  if (end == t.c_str() || errno == ERANGE) return Status(Errc::kInvalid, "not a size: '" + t + "'");
  std::string_view suffix(end);
  if (!suffix.empty() && (suffix.back() == 'B' || suffix.back() == 'b')) suffix.remove_suffix(1);
  if (!suffix.empty() && suffix.back() == 'i') suffix.remove_suffix(1);
  int shift = 0;
  if (suffix.empty())
    shift = 0;
  else if (suffix == "K" || suffix == "k")
    shift = 10;
  else if (suffix == "M" || suffix == "m")
    shift = 20;
  else if (suffix == "G" || suffix == "g")
    shift = 30;
  else if (suffix == "T" || suffix == "t")
    shift = 40;
  else
    return Status(Errc::kInvalid, "bad size suffix in '" + t + "'");
  if (shift && v > (~0ull >> shift)) return Status(Errc::kRange, "size out of range: '" + t + "'");
  return static_cast<uint64_t>(v << shift);
}

Result<uint64_t> parse_duration_ms(std::string_view s) {
  std::string t(trim(s));
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end == t.c_str() || errno == ERANGE || v < 0)
    return Status(Errc::kInvalid, "not a duration: '" + t + "'");
  std::string_view suffix(end);
  double mult;
  if (suffix.empty() || suffix == "s")
    mult = 1000;
  else if (suffix == "ms")
    mult = 1;
  else if (suffix == "m")
    mult = 60'000;
  else if (suffix == "h")
    mult = 3'600'000;
  else
    return Status(Errc::kInvalid, "bad duration suffix in '" + t + "'");
  return static_cast<uint64_t>(v * mult);
}

Config& Config::define(std::string name, OptType type, std::string default_value, std::string help) {
  std::string n = normalize(name);
  Option o{OptionDef{n, type, default_value, std::move(help)}, default_value, "default"};
  opts_[n] = std::move(o);
  return *this;
}

Status Config::set(std::string_view name, std::string_view value, std::string_view source) {
  auto it = opts_.find(normalize(name));
  if (it == opts_.end())
    return error(Errc::kInvalid, std::string(source) + ": unknown option '" + std::string(name) + "'");
  Status st = validate(it->second.def.type, value);
  if (!st.ok()) return st.with_context(std::string(source) + ": option '" + it->second.def.name + "'");
  it->second.value = std::string(value);
  it->second.source = std::string(source);
  return {};
}

Status Config::parse_ini(std::string_view text, const std::vector<std::string>& section_names,
                         std::string_view source) {
  // Sections apply in the order given by `section_names` (global first), whatever
  // their order in the file, so [osd.3] overrides [osd] overrides [global].
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> by_section;
  std::string section = "global";
  int lineno = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineno;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    std::string where = std::string(source) + ":" + std::to_string(lineno);
    if (line.front() == '[') {
      if (line.back() != ']') return error(Errc::kInvalid, where + ": unterminated section header");
      section = std::string(trim(line.substr(1, line.size() - 2)));
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return error(Errc::kInvalid, where + ": expected 'name = value'");
    by_section[section].emplace_back(normalize(trim(line.substr(0, eq))),
                                     std::string(trim(line.substr(eq + 1))));
  }
  std::vector<std::string> order{"global"};
  order.insert(order.end(), section_names.begin(), section_names.end());
  for (const auto& sec : order) {
    auto it = by_section.find(sec);
    if (it == by_section.end()) continue;
    for (const auto& [k, v] : it->second) {
      // Unknown keys in a shared file belong to other daemons: skip them.
      if (!has(k)) continue;
      CAIRN_RETURN_IF_ERROR(set(k, v, std::string(source) + " [" + sec + "]"));
    }
  }
  return {};
}

Status Config::apply_env(const std::map<std::string, std::string>& env) {
  for (auto& [name, opt] : opts_) {
    std::string key = "CAIRN_";
    for (char c : name)
      key += static_cast<char>(c == '.' || c == '-' ? '_' : std::toupper(static_cast<unsigned char>(c)));
    auto it = env.find(key);
    if (it != env.end()) CAIRN_RETURN_IF_ERROR(set(name, it->second, "env " + key));
  }
  return {};
}

Status Config::apply_args(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      help_ = true;
      continue;
    }
    if (a == "-c" || a == "--conf") {
      ++i;  // consumed by load()
      continue;
    }
    if (a.rfind("--conf=", 0) == 0) continue;
    if (a.size() < 3 || a.substr(0, 2) != "--") {
      positional_.emplace_back(a);
      continue;
    }
    a.remove_prefix(2);
    size_t eq = a.find('=');
    std::string name = normalize(a.substr(0, eq));
    auto it = opts_.find(name);
    if (it == opts_.end())
      return error(Errc::kInvalid, "unknown option '--" + std::string(a.substr(0, eq)) + "' (see --help)");
    if (eq != std::string_view::npos) {
      CAIRN_RETURN_IF_ERROR(set(name, a.substr(eq + 1), "command line"));
    } else if (it->second.def.type == OptType::kBool) {
      CAIRN_RETURN_IF_ERROR(set(name, "true", "command line"));
    } else {
      if (i + 1 >= argc) return error(Errc::kInvalid, "option '--" + name + "' needs a value");
      CAIRN_RETURN_IF_ERROR(set(name, argv[++i], "command line"));
    }
  }
  return {};
}

Status Config::load(int argc, const char* const* argv, const std::vector<std::string>& section_names,
                    const std::string& default_conf_path) {
  std::string conf;
  bool named = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if ((a == "-c" || a == "--conf") && i + 1 < argc) {
      conf = argv[i + 1];
      named = true;
    } else if (a.rfind("--conf=", 0) == 0) {
      conf = std::string(a.substr(7));
      named = true;
    }
  }
  if (!named) {
    if (const char* e = std::getenv("CAIRN_CONF"); e && *e) {
      conf = e;
      named = true;
    } else {
      conf = default_conf_path;
    }
  }
  if (!conf.empty()) {
    std::ifstream in(conf);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      CAIRN_RETURN_IF_ERROR(parse_ini(ss.str(), section_names, conf));
    } else if (named) {
      return error(Errc::kNotFound, "cannot read config file '" + conf + "'");
    }
  }
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos && kv.rfind("CAIRN_", 0) == 0)
      env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  CAIRN_RETURN_IF_ERROR(apply_env(env));
  return apply_args(argc, argv);
}

bool Config::has(std::string_view name) const { return opts_.find(normalize(name)) != opts_.end(); }

const Config::Option& Config::find_or_die(std::string_view name) const {
  auto it = opts_.find(normalize(name));
  if (it == opts_.end()) {
    // Asking for an undeclared option is a programming error, not input.
    std::fprintf(stderr, "config: option '%.*s' was never defined\n", static_cast<int>(name.size()),
                 name.data());
    std::abort();
  }
  return it->second;
}

bool Config::get_bool(std::string_view name) const {
  return parse_bool(find_or_die(name).value).value_or(false);
}
int64_t Config::get_int(std::string_view name) const {
  return parse_int(find_or_die(name).value).value_or(0);
}
uint64_t Config::get_uint(std::string_view name) const {
  return static_cast<uint64_t>(parse_int(find_or_die(name).value).value_or(0));
}
double Config::get_double(std::string_view name) const {
  return std::strtod(find_or_die(name).value.c_str(), nullptr);
}
const std::string& Config::get_string(std::string_view name) const { return find_or_die(name).value; }
uint64_t Config::get_size(std::string_view name) const {
  return parse_size(find_or_die(name).value).value_or(0);
}
uint64_t Config::get_duration_ms(std::string_view name) const {
  return parse_duration_ms(find_or_die(name).value).value_or(0);
}

std::string Config::help_text(std::string_view program) const {
  std::string out = "usage: " + std::string(program) +
                    " [options]\n\noptions (also settable in cairn.conf or as CAIRN_<NAME>):\n";
  for (const auto& [name, o] : opts_) {
    char line[512];
    std::snprintf(line, sizeof line, "  --%-28s %-8s default: %-14s %s\n", name.c_str(),
                  type_name(o.def.type), o.def.default_value.empty() ? "\"\"" : o.def.default_value.c_str(),
                  o.def.help.c_str());
    out += line;
  }
  out +=
      "  --conf, -c FILE                         config file (INI)\n  --help, -h                             "
      " this text\n";
  return out;
}

std::string Config::dump() const {
  std::string out;
  for (const auto& [name, o] : opts_) out += name + " = " + o.value + "  # " + o.source + "\n";
  return out;
}

}  // namespace cairn
