// The actions of cairn-crushtool; each prints its report to stdout.
#pragma once

#include "common/status.h"
#include "tools/crushtool/options.h"

namespace cairn::crushtool {

Status run_build(const Options& o);
Status run_compile(const Options& o);
Status run_decompile(const Options& o);
Status run_test(const Options& o);
Status run_diff(const Options& o);
Status run_balance(const Options& o);
Status run_edit(const Options& o);

}  // namespace cairn::crushtool
