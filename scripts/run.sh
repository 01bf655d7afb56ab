#!/usr/bin/env bash
# The main job: install dependencies, build, and run Cairn.
# Until the OSD/client issue lands there is no cluster to start: this builds every
# binary and prints what was built and how to use it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
echo
echo "Built binaries (build/bin/):"
for b in build/bin/*; do
  case "$(basename "$b")" in
    *_test|*_bench|*_fuzz) ;;
    *) [ -x "$b" ] && echo "  $b" ;;
  esac
done
echo
echo "Benchmarks: build/bin/*_bench (see docs/benchmarks.md). Tests: bash scripts/test.sh"
