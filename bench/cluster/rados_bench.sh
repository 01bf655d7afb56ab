#!/usr/bin/env bash
# End-to-end `cairn rados bench` on a local cluster as `cairn cluster up` makes it
# (1 monitor, 3 file-backed OSDs, a size-3 pool of 64 PGs), with the CPU seconds
# every daemon used per 1000 ops (utime+stime from /proc/PID/stat) and each OSD's
# peak RSS (VmHWM). Same workloads as ../shared/ceph-anchor/bench.sh's rados section,
# so the two can run back to back and be compared as ratios.
#
#   bench/cluster/rados_bench.sh [SECONDS]      (default 20; cluster under $DIR, default /tmp/cairn-bench)
set -uo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-20}
BIN=$PWD/build/bin
DIR=${DIR:-/tmp/cairn-bench}
PORT=${PORT:-16789}
. bench/cluster/lib.sh
fresh_cluster --osds 3 || exit 1
"$BIN/cairn" osd pool create bench 64 --size 3 --min-size 2 >/dev/null
wait_clean 120

pids() { cat "$DIR"/*.pid; }
cpu_ticks() { local t=0; for p in $(pids); do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
HZ=$(getconf CLK_TCK)

run() {  # name, bench args...
  local name=$1; shift
  local c0 c1 out
  c0=$(cpu_ticks)
  out=$("$BIN/cairn" rados -p bench bench "$SECS" "$@" 2>&1 | tail -12)
  c1=$(cpu_ticks)
  local ops
  ops=$(echo "$out" | awk '/^Total .* ops:/ {print $NF; exit}')
  echo "== $name: cairn rados -p bench bench $SECS $*"
  echo "$out"
  if [ -n "$ops" ] && [ "$ops" -gt 0 ]; then
    awk -v c=$((c1 - c0)) -v hz="$HZ" -v n="$ops" \
      'BEGIN {printf "daemon CPU: %.1f s, %.3f CPU-ms per op, %.2f CPU-s per 1000 ops\n", c/hz, c/hz*1000/n, c/hz*1000/n}'
  fi
  echo
}

[ -n "${ONLY_4K:-}" ] || run 4M-write-t16 write -t 16 --no-cleanup
[ -n "${ONLY_4K:-}" ] || run 4M-seq-t16 seq -t 16
"$BIN/cairn" rados -p bench cleanup >/dev/null 2>&1
run 4k-write-t16 write -b 4096 -t 16 --no-cleanup
run 4k-rand-t16 rand -t 16
"$BIN/cairn" rados -p bench cleanup >/dev/null 2>&1

echo "== peak RSS"
for f in "$DIR"/*.pid; do
  p=$(cat "$f")
  printf "%s %s (now %s)\n" "$(basename "$f" .pid)" "$(awk '/VmHWM/{printf "%.0f MiB", $2/1024}' /proc/$p/status)" \
    "$(awk '/VmRSS/{printf "%.0f MiB", $2/1024}' /proc/$p/status)"
done
[ -n "${KEEP:-}" ] || { "$BIN/cairn" cluster down --dir "$DIR" >/dev/null; rm -rf "$DIR"; }
