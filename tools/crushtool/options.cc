#include "tools/crushtool/options.h"

#include <charconv>
#include <string_view>

#include "crush/text.h"

namespace cairn::crushtool {
namespace {

template <typename T>
Status number(std::string_view flag, std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || p != s.data() + s.size())
    return error(Errc::kInvalid, std::string(flag) + ": bad number '" + std::string(s) + "'");
  return ok_status();
}

Status id_list(std::string_view s, std::vector<crush::ItemId>& out) {
  while (!s.empty()) {
    size_t comma = s.find(',');
    crush::ItemId id = 0;
    CAIRN_RETURN_IF_ERROR(number("--mark-out", s.substr(0, comma), id));
    out.push_back(id);
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
  return ok_status();
}

class Args {
 public:
  Args(int argc, char** argv) : argc_(argc), argv_(argv) {}
  bool more() const { return at_ < argc_; }
  std::string_view next() { return argv_[at_++]; }
  Result<std::string_view> value(std::string_view flag) {
    if (at_ >= argc_) return Status(Errc::kInvalid, std::string(flag) + " needs a value");
    return std::string_view(argv_[at_++]);
  }

 private:
  int argc_;
  char** argv_;
  int at_ = 1;
};

// Flags that take a value and set a number.
Status numeric_flag(std::string_view f, std::string_view v, Options& o, bool& known) {
  known = true;
  if (f == "--hosts") return number(f, v, o.hosts);
  if (f == "--osds-per-host") return number(f, v, o.osds_per_host);
  if (f == "--rule") return number(f, v, o.rule);
  if (f == "--num-rep") return number(f, v, o.num_rep);
  if (f == "--min-x") return number(f, v, o.min_x);
  if (f == "--max-x") return number(f, v, o.max_x);
  if (f == "--pool-id") return number(f, v, o.pool_id);
  if (f == "--pg-num") return number(f, v, o.pg_num);
  if (f == "--max-moves") return number(f, v, o.max_moves);
  if (f == "--add-osd") return number(f, v, o.add_osd.emplace());
  if (f == "--remove-osd") return number(f, v, o.remove_osd.emplace());
  if (f == "--reweight-osd") return number(f, v, o.reweight_osd.emplace());
  if (f == "--mark-out") return id_list(v, o.mark_out);
  if (f == "--weight") {
    if (!crush::parse_weight(v, o.weight)) return error(Errc::kInvalid, "--weight: bad weight");
    return ok_status();
  }
  known = false;
  return ok_status();
}

Status string_flag(std::string_view f, std::string_view v, Options& o, bool& known) {
  known = true;
  if (f == "-i")
    o.input = v;
  else if (f == "-o")
    o.output = v;
  else if (f == "--class")
    o.device_class = v;
  else if (f == "--host")
    o.host = v;
  else if (f == "-c")
    o.input = v, o.action = Action::kCompile;
  else if (f == "-d")
    o.input = v, o.action = Action::kDecompile;
  else if (f == "--diff")
    o.compare = v, o.action = Action::kDiff;
  else
    known = false;
  return ok_status();
}

bool switch_flag(std::string_view f, Options& o) {
  if (f == "--build")
    o.action = Action::kBuild;
  else if (f == "--test")
    o.action = Action::kTest;
  else if (f == "--balance")
    o.action = Action::kBalance;
  else if (f == "--show-mappings")
    o.show_mappings = true;
  else if (f == "--show-utilization")
    o.show_utilization = true;
  else if (f == "--positional")
    o.positional = true;
  else
    return false;
  return true;
}

}  // namespace

std::string usage() {
  return R"(usage: cairn-crushtool ACTION [options]
  --build --hosts N --osds-per-host M [--weight W] [--class C] -o MAP
  -c TEXT -o MAP                      compile a text map
  -d MAP [-o TEXT]                    decompile (MAP may be binary or text)
  -i MAP --test [--rule R] [--num-rep N] [--min-x A] [--max-x B]
         [--mark-out ID,ID] [--show-mappings] [--show-utilization]
  -i MAP --diff MAP2 [--rule R] [--num-rep N] [--min-x A] [--max-x B] [--positional]
  -i MAP --balance [--pool-id P] [--pg-num N] [--num-rep N] [--rule R] [--max-moves K]
  -i MAP (--add-osd ID [--host H] [--weight W] | --remove-osd ID | --reweight-osd ID --weight W) -o MAP
)";
}

Result<Options> parse_options(int argc, char** argv) {
  Options o;
  Args a(argc, argv);
  while (a.more()) {
    std::string_view f = a.next();
    if (switch_flag(f, o)) continue;
    if (f.size() < 2 || f[0] != '-') return Status(Errc::kInvalid, "unexpected argument " + std::string(f));
    CAIRN_ASSIGN_OR_RETURN(std::string_view v, a.value(f));
    bool known = false;
    CAIRN_RETURN_IF_ERROR(numeric_flag(f, v, o, known));
    if (known) continue;
    CAIRN_RETURN_IF_ERROR(string_flag(f, v, o, known));
    if (!known) return Status(Errc::kInvalid, "unknown option " + std::string(f) + " (or it needs a value)");
  }
  if (o.action == Action::kNone && (o.add_osd || o.remove_osd || o.reweight_osd)) o.action = Action::kEdit;
  if (o.action == Action::kNone) return Status(Errc::kInvalid, "no action given");
  return o;
}

}  // namespace cairn::crushtool
