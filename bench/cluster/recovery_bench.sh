#!/usr/bin/env bash
# Recovery speed (issue 7): 4 OSDs, a size-3 pool holding GIB GiB of 4 MiB
# objects; one OSD is killed (-9) and marked out; the time until every PG is
# active+clean again, and the copy rate that makes (bytes the lost OSD held /
# time), to set against the disk's bandwidth (fio on the same disk).
#
#   bench/cluster/recovery_bench.sh [GIB]     (default 4)
set -uo pipefail
cd "$(dirname "$0")/../.."
GIB=${1:-4}
BIN=$PWD/build/bin
DIR=${DIR:-/tmp/cairn-recovery}
PORT=${PORT:-18789}
. bench/cluster/lib.sh
fresh_cluster --osds 4 || exit 1
"$BIN/cairn" osd pool create rec 64 --size 3 --min-size 2 >/dev/null
wait_clean || { echo "never clean"; exit 1; }
# Fill: 4 MiB objects written by 16 writers until GIB GiB are stored.
N=$((GIB * 256))
echo "== fill: $N objects of 4 MiB"
head -c $((4 << 20)) /dev/urandom >"$DIR/obj"
t0=$(date +%s.%N)
seq 0 $((N - 1)) | xargs -P 16 -I{} "$BIN/cairn" rados -p rec put "obj-{}" "$DIR/obj" || exit 1
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN {printf "filled in %.1f s (%.0f MiB/s of client data)\n", b-a, n*4/(b-a)}'
sleep 3
held=$("$BIN/cairn" pg dump --format json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(p["bytes"] for p in d["pgs"] if 3 in p["acting"]))')
echo "osd.3 holds $((held >> 20)) MiB"
pid=$(cat "$DIR/osd.3.pid")
t0=$(date +%s.%N)
kill -9 "$pid"
"$BIN/cairn" osd down 3 >/dev/null
"$BIN/cairn" osd out 3 >/dev/null
sleep 1
wait_clean || { echo "never clean again"; "$BIN/cairn" pg stat; exit 1; }
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v h="$held" \
  'BEGIN {printf "kill -9 osd.3 to all active+clean: %.1f s; %.0f MiB re-replicated at %.0f MiB/s\n", b-a, h/1048576, h/1048576/(b-a)}'
[ -n "${KEEP:-}" ] || "$BIN/cairn" cluster down --dir "$DIR" >/dev/null
