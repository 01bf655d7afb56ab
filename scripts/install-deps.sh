#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of Cairn from Debian 12's
# packages. Idempotent: quiet and fast when everything is already there.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ make cmake ninja-build ccache pkg-config clang clang-format git
  # libraries
  libboost-dev libboost-system-dev librocksdb-dev liburing-dev libisal-dev libxxhash-dev
  libssl-dev libfuse3-dev fuse3 nlohmann-json3-dev libtcmalloc-minimal4
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev procps iproute2 curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
