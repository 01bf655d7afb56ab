// cairn-crushtool: build, compile, decompile, test, diff and balance CRUSH maps.
// Errors print one line to stderr and exit 1; usage errors exit 2.
#include <cstdio>

#include "tools/crushtool/commands.h"
#include "tools/crushtool/options.h"

namespace {

cairn::Status dispatch(const cairn::crushtool::Options& o) {
  using cairn::crushtool::Action;
  namespace ct = cairn::crushtool;
  switch (o.action) {
    case Action::kBuild: return ct::run_build(o);
    case Action::kCompile: return ct::run_compile(o);
    case Action::kDecompile: return ct::run_decompile(o);
    case Action::kTest: return ct::run_test(o);
    case Action::kDiff: return ct::run_diff(o);
    case Action::kBalance: return ct::run_balance(o);
    case Action::kEdit: return ct::run_edit(o);
    case Action::kNone: break;
  }
  return cairn::error(cairn::Errc::kInvalid, "no action");
}

}  // namespace

int main(int argc, char** argv) {
  auto opts = cairn::crushtool::parse_options(argc, argv);
  if (!opts.ok()) {
    std::fprintf(stderr, "cairn-crushtool: %s\n%s", opts.status().message().c_str(),
                 cairn::crushtool::usage().c_str());
    return 2;
  }
  cairn::Status st = dispatch(*opts);
  if (!st.ok()) {
    std::fprintf(stderr, "cairn-crushtool: %s\n", st.to_string().c_str());
    return 1;
  }
  return 0;
}
