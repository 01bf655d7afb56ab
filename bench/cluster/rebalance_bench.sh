#!/usr/bin/env bash
# Rebalancing when an OSD joins (issue 7): 6 OSDs in 3 CRUSH hosts (2 each), a
# size-3 pool filled with 64 KiB objects, then a 7th OSD joins host-0. Reports
#   - the fraction of object copies that moved, against the ideal, from `cairn pg
#     dump` before and after. Each host holds one copy of every PG (size 3, 3
#     hosts), so the ideal is the new OSD's share of host-0: 1/3 of a third of all
#     copies (1/9), and nothing should move between the old OSDs;
#   - client p99 latency of 4 KiB writes (-t 16) while the new OSD backfills,
#     against the same workload just before it joined;
#   - the time from the OSD's start until every PG is active+clean again.
#
#   bench/cluster/rebalance_bench.sh [FILL_SECONDS] [BENCH_SECONDS]   (defaults 20 and 15)
set -uo pipefail
cd "$(dirname "$0")/../.."
FILL=${1:-20}
SECS=${2:-15}
BIN=$PWD/build/bin
DIR=${DIR:-/tmp/cairn-rebalance}
PORT=${PORT:-17789}
PY=/usr/bin/python3
. bench/cluster/lib.sh
OSD_SIZE=${OSD_SIZE:-8G} fresh_cluster --osds 6 --hosts 3 || exit 1
"$BIN/cairn" osd pool create rb "${PGS:-256}" --size 3 --min-size 2 >/dev/null
wait_clean || { echo "never clean"; exit 1; }
echo "== fill: cairn rados -p rb bench $FILL write -b 65536 -t 16 --no-cleanup"
"$BIN/cairn" rados -p rb bench "$FILL" write -b 65536 -t 16 --no-cleanup | grep -E "^Total .* ops|Bandwidth"
sleep 3  # PG stats (object counts) reach the monitors
"$BIN/cairn" pg dump --format json >"$DIR/before.json"

p99() { awk '/^p99 latency/ {print $NF}'; }
echo "== baseline: cairn rados -p rb bench $SECS write -b 4096 -t 16"
base=$("$BIN/cairn" rados -p rb bench "$SECS" write -b 4096 -t 16 2>&1)
echo "$base" | grep -E "^Total .* ops|latency"

echo "== osd.6 joins host-0; the same workload while it backfills"
t0=$(date +%s.%N)
"$BIN/cairn" cluster up --osds 7 --dir "$DIR" --timeout 1200s >/dev/null &
up_pid=$!
sleep 2  # it boots and the map changes
during=$("$BIN/cairn" rados -p rb bench "$SECS" write -b 4096 -t 16 2>&1)
echo "$during" | grep -E "^Total .* ops|latency"
[ -z "${VERBOSE:-}" ] || echo "$during"
states=$("$BIN/cairn" pg stat)
echo "pg stat right after: $states"
wait $up_pid
wait_clean
t1=$(date +%s.%N)
"$BIN/cairn" pg dump --format json >"$DIR/after.json"

$PY - "$DIR/before.json" "$DIR/after.json" <<'EOF'
import json, sys
b = {p["pgid"]: p for p in json.load(open(sys.argv[1]))["pgs"]}
a = {p["pgid"]: p for p in json.load(open(sys.argv[2]))["pgs"]}
copies = moved = onto_new = 0
pgs_moved = 0
new_osd = 6
for pg, pb in b.items():
    n = pb["objects"]
    old, new = set(pb["acting"]), set(a[pg]["acting"])
    copies += n * len(old)
    moved += n * len(new - old)
    onto_new += n * len((new - old) & {new_osd})
    pgs_moved += bool(new - old)
ideal = 1 / 9
frac = moved / copies if copies else 0
print(f"object copies before: {copies}; moved: {moved} ({frac:.4f}), of which onto osd.{new_osd}: {onto_new}, "
      f"between old OSDs: {moved - onto_new}")
print(f"ideal fraction {ideal:.4f}; moved/ideal {frac / ideal:.3f}; "
      f"osd.{new_osd} holds {onto_new / copies:.4f} of all copies; PGs with a new member: {pgs_moved}/{len(b)}")
EOF
bp=$(echo "$base" | p99)
dp=$(echo "$during" | p99)
awk -v b="$bp" -v d="$dp" 'BEGIN {printf "p99 4K write: %.2f ms without backfill, %.2f ms during (%.2fx)\n", b*1000, d*1000, d/b}'
awk -v a="$t0" -v b="$t1" 'BEGIN {printf "osd.6 start to all active+clean: %.1f s\n", b-a}'
[ -n "${KEEP:-}" ] || "$BIN/cairn" cluster down --dir "$DIR" >/dev/null
