// Typed configuration options with defaults and help text.
//
// Sources, later ones winning: built-in defaults, an INI file (`cairn.conf`:
// [global] then the daemon's own section, e.g. [osd] and [osd.3]), the
// environment (CAIRN_<NAME> with '-' and '.' as '_', upper case), the command line
// (`--name=value`, `--name value`, or `--flag` for booleans). Values are validated
// when set: a bad value is an error naming the option and source, never a crash.
//
// Thread-safety: define and load before starting threads; afterwards getters are
// read-only and safe from any thread. set() at run time is not synchronised with
// readers on other threads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn {

enum class OptType { kBool, kInt, kUint, kDouble, kString, kSize, kDuration };

struct OptionDef {
  std::string name;
  OptType type;
  std::string default_value;
  std::string help;
};

class Config {
 public:
  // Declares an option. Names use '_' (e.g. "osd_data"); '-' is accepted as a
  // synonym on the command line.
  Config& define(std::string name, OptType type, std::string default_value, std::string help);

  // Loads every source. `argv` may hold positional arguments; they are returned
  // in positional(). `section_names` picks the INI sections read after [global].
  // The config file is named by --conf/-c, else CAIRN_CONF, else `default_conf_path`
  // (a missing default file is not an error; a missing named file is).
  Status load(int argc, const char* const* argv, const std::vector<std::string>& section_names,
              const std::string& default_conf_path = "");

  Status parse_ini(std::string_view text, const std::vector<std::string>& section_names,
                   std::string_view source = "config");
  Status apply_env(const std::map<std::string, std::string>& env);
  Status apply_args(int argc, const char* const* argv);

  Status set(std::string_view name, std::string_view value, std::string_view source = "set");

  bool has(std::string_view name) const;
  bool get_bool(std::string_view name) const;
  int64_t get_int(std::string_view name) const;
  uint64_t get_uint(std::string_view name) const;
  double get_double(std::string_view name) const;
  const std::string& get_string(std::string_view name) const;
  // Sizes accept K/M/G/T suffixes (powers of 1024): "256M".
  uint64_t get_size(std::string_view name) const;
  // Durations accept ms/s/m/h suffixes; returned in milliseconds.
  uint64_t get_duration_ms(std::string_view name) const;

  bool help_requested() const { return help_; }
  // One line per option: name, type, default, help.
  std::string help_text(std::string_view program) const;
  // name=value lines of every option's current value.
  std::string dump() const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  struct Option {
    OptionDef def;
    std::string value;
    std::string source = "default";
  };
  const Option& find_or_die(std::string_view name) const;
  std::map<std::string, Option, std::less<>> opts_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// Parsers shared with the CLI; each returns kInvalid with a reason on bad text.
Result<bool> parse_bool(std::string_view s);
Result<int64_t> parse_int(std::string_view s);
Result<uint64_t> parse_size(std::string_view s);
Result<uint64_t> parse_duration_ms(std::string_view s);

}  // namespace cairn
