#!/usr/bin/env bash
# What one client op costs the whole machine: kernel event counters (perf stat -a)
# and busy CPU, taken in the middle of a `cairn rados bench` on a fresh local
# cluster (1 monitor, 3 OSDs, a size-3 pool of 64 PGs) and divided by the ops done
# in that window. Rates on this shared 2-core VM drift by ±15% between runs minutes
# apart; per-op counters move much less, so compare changes with these (and with
# alternated runs), not with rates from another hour.
#
#   bench/cluster/op_counters.sh [BENCH ARGS]    (default: write -b 4096 -t 16)
#   e.g. bench/cluster/op_counters.sh rand -t 16  (objects are written first)
#
# EXTRA_EVENTS=a,b adds perf events (e.g. syscalls:sys_enter_fdatasync) to the count;
# WARMUP=S (default 4) seconds of the bench run before the window starts.
# Needs perf (linux-perf) and root. Cluster under $DIR (default /tmp/cairn-opc).
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=$PWD/build/bin
DIR=${DIR:-/tmp/cairn-opc}
PORT=${PORT:-16989}
WINDOW=${WINDOW:-10}
ARGS=("$@")
[ ${#ARGS[@]} -gt 0 ] || ARGS=(write -b 4096 -t 16)
. bench/cluster/lib.sh
start_counted_bench $((WINDOW + ${WARMUP:-4} + 2)) "${ARGS[@]}" || exit 1
OUT=$BENCH_OUT
B=$BENCH_PID
sleep "${WARMUP:-4}"
S0=$(head -1 /proc/stat)
COUNTS=$(perf stat -a -x, -e context-switches,raw_syscalls:sys_enter,irq:irq_handler_entry \
  -e io_uring:io_uring_queue_async_work,block:block_rq_issue${EXTRA_EVENTS:+,$EXTRA_EVENTS} -- sleep "$WINDOW" 2>&1 >/dev/null)
S1=$(head -1 /proc/stat)
wait $B
OPS=$(awk '/^Ops\/s:/ {print $2}' "$OUT")
echo "== cairn rados -p bench bench ${ARGS[*]}: $OPS ops/s"
grep -E "p99" "$OUT"
# The bench's average rate stands for the window's (the window is its middle part).
echo "$COUNTS" | awk -F, -v ops="$OPS" -v w="$WINDOW" '$1 ~ /^[0-9]+$/ {printf "%-38s %8.2f per op\n", $3, $1 / (ops * w)}'
echo "$S0 $S1" | awk -v ops="$OPS" -v w="$WINDOW" -v hz="$(getconf CLK_TCK)" '{
  busy = ($13+$14+$15+$18+$19) - ($2+$3+$4+$7+$8)
  printf "machine busy %.2f cores, %.3f CPU-ms per op (all processes and kernel threads)\n", busy/hz/w, busy/hz*1000/(ops*w) }'
rm -f "$OUT"
[ -n "${KEEP:-}" ] || { "$BIN/cairn" cluster down --dir "$DIR" >/dev/null; rm -rf "$DIR"; }
