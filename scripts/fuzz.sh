#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each briefly
# from its seed corpus. Usage: scripts/fuzz.sh [seconds per target]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCAIRN_FUZZ=ON -DCAIRN_WERROR=OFF >/dev/null
targets=$(ninja -C build-fuzz -t targets all | sed -n 's/^\([a-z0-9_]*_fuzz\): phony$/\1/p' | grep -v '^cmake_')
[ -z "$targets" ] && { echo "fuzz: no targets"; exit 0; }
ninja -C build-fuzz -j"${JOBS:-2}" $targets
for t in $targets; do
  corpus="tests/fuzz/corpus/${t%_fuzz}"
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  echo "fuzz: $t for ${SECS}s"
  "build-fuzz/bin/$t" -max_total_time="$SECS" -rss_limit_mb=2048 "$work" 2>&1 | tail -2
  rm -rf "$work"
done
