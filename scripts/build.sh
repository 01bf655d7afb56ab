#!/usr/bin/env bash
# Configures and builds Cairn into build/ (RelWithDebInfo, ccache, -j2).
# Usage: scripts/build.sh [extra cmake -D options...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
if [ ! -f "$BUILD_DIR/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
else
  # Re-run configure so new folders (globbed) are picked up; cheap when nothing changed.
  cmake "$BUILD_DIR" >/dev/null
fi
ninja -C "$BUILD_DIR" -j"$JOBS"
