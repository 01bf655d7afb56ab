#!/usr/bin/env bash
# The whole test suite: install dependencies, build, check formatting, run every
# ctest label (unit, integration, thrash, slow), and replay/fuzz the decoders.
# Usage: scripts/test.sh [ctest args...]   e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bash scripts/check-format.sh
ctest --test-dir build --output-on-failure --timeout 900 -j"${CTEST_JOBS:-2}" "$@"
if [ $# -eq 0 ] && command -v clang++ >/dev/null && [ -d tests/fuzz ]; then
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi
