#!/usr/bin/env bash
# Where a client op's CPU goes, by thread: the CPU time (scheduler run time from
# /proc/PID/task/TID/schedstat, nanoseconds, kernel time included) and the times
# each thread was scheduled in, summed by thread name over every daemon and the
# bench client, and divided by the ops done in a window in the middle of a
# `cairn rados bench` on a fresh local cluster (1 monitor, 3 OSDs, a size-3 pool
# of 64 PGs). Scheduler run time is exact where tick-sampled utime/stime (and
# perf's samples right after a context switch on this PVM guest) are not, but it
# includes time the hypervisor stole from a vCPU while the thread was on it: read
# the split between threads, and take the machine's CPU per op from
# op_counters.sh (/proc/stat, steal excluded).
#
#   bench/cluster/thread_cpu.sh [BENCH ARGS]    (default: write -b 4096 -t 16)
#
# WINDOW=S (default 8) seconds measured, WARMUP=S (default 4) before it.
# Cluster under $DIR (default /tmp/cairn-tcpu); KEEP=1 leaves it running.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=$PWD/build/bin
DIR=${DIR:-/tmp/cairn-tcpu}
PORT=${PORT:-16969}
WINDOW=${WINDOW:-8}
ARGS=("$@")
[ ${#ARGS[@]} -gt 0 ] || ARGS=(write -b 4096 -t 16)
. bench/cluster/lib.sh
# Longer than the window: the client's threads must still be there at its end.
start_counted_bench $((WINDOW + ${WARMUP:-4} + 5)) "${ARGS[@]}" || exit 1
OUT=$BENCH_OUT
B=$BENCH_PID
PIDS="$B $("$BIN/cairn" cluster status --dir "$DIR" --format json |
  /usr/bin/python3 -c 'import json, sys; print(" ".join(str(d["pid"]) for d in json.load(sys.stdin)["daemons"]))')"
# One line per thread: PID/TID NAME RUN_NS TIMESLICES
snap() {
  for p in $PIDS; do
    for t in /proc/"$p"/task/*; do
      s=$(cat "$t/schedstat" 2>/dev/null) || continue
      echo "$p/${t##*/} $(tr ' ' _ <"$t/comm") $s"
    done
  done | awk '{print $1, $2, $3, $5}'
}
sleep "${WARMUP:-4}"
A=$(snap)
sleep "$WINDOW"
Z=$(snap)
wait $B
OPS=$(awk '/^Ops\/s:/ {print $2}' "$OUT")
echo "== cairn rados -p bench bench ${ARGS[*]}: $OPS ops/s"
# Threads present in both snapshots, summed by name.
{ echo "$A" | sed 's/^/A /'; echo "$Z" | sed 's/^/Z /'; } | awk -v ops="$OPS" -v w="$WINDOW" '
  $1 == "A" { run0[$2] = $4; n0[$2] = $5; next }
  $2 in run0 { cpu[$3] += $4 - run0[$2]; runs[$3] += $5 - n0[$2] }
  END {
    for (k in cpu) if (cpu[k] > 0) {
      total += cpu[k]
      printf "%-16s %8.1f us/op %6.2f runs/op\n", k, cpu[k] / 1000 / (ops * w), runs[k] / (ops * w)
    }
    printf "%-16s %8.1f us/op\n", "(all)", total / 1000 / (ops * w)
  }' | sort -k2 -rn
rm -f "$OUT"
[ -n "${KEEP:-}" ] || { "$BIN/cairn" cluster down --dir "$DIR" >/dev/null; rm -rf "$DIR"; }
