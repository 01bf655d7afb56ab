#!/usr/bin/env bash
# Ceph 16 and Cairn measured in alternation on this machine: Ceph (the anchor in
# $CEPH_ANCHOR, default ../shared/ceph-anchor: 1 mon, 3 BlueStore OSDs on files) is
# brought up once; then, ROUNDS times, its `rados bench` section (4 MiB writes and
# sequential reads, 4 KiB writes and random reads, -t 16) and right after it
# bench/cluster/rados_bench.sh with the same workloads on a fresh Cairn cluster.
# Prints each round's figures and ratios and its latencies (Ceph's rados bench
# reports only average and max; Cairn's p99 is printed beside them), then the
# median ratio of each workload.
# Rates on this VM drift by 15-25% within minutes, so ratios of neighbouring runs
# are the figures to quote, not either side's rate.
#
#   bench/cluster/vs_ceph.sh [ROUNDS] [SECONDS]     (defaults 2 and 20; ~4 min per round)
#
# Needs Ceph's Debian packages (see the anchor's README) and a built tree.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-2}
SECS=${2:-20}
ANCHOR=${CEPH_ANCHOR:-$PWD/../shared/ceph-anchor}
[ -x "$ANCHOR/up.sh" ] || { echo "no Ceph anchor at $ANCHOR (set CEPH_ANCHOR)" >&2; exit 1; }
OUT=$(mktemp -d)
trap '"$ANCHOR/down.sh" >/dev/null 2>&1; rm -rf "$OUT"' EXIT
"$ANCHOR/up.sh" >"$OUT/up.log" 2>&1 || { tail -20 "$OUT/up.log" >&2; exit 1; }

# Ceph's lines: "rados-4k-write-t16   1106 ops/s, 4.32 MiB/s, ...; 1.49 daemon cpu-s per 1000 ops; ..."
# Ceph's rados bench reports no percentiles: "lat avg 18.05 ms, max 210.3 ms".
ceph_field() {  # file, test name -> "ops MiB/s cpu-ms-per-op avg-ms max-ms"
  awk -v t="$2" '$1 == t {
    for (i = 2; i <= NF; i++) {
      if ($(i+1) == "ops/s,") ops = $i
      if ($(i+1) == "MiB/s,") mib = $i
      if ($(i+1) == "daemon" && $(i+2) == "cpu-s") cpu = $i
      if ($i == "avg" && lavg == "") lavg = $(i+1)
      if ($i == "max" && lmax == "") lmax = $(i+1)
    }
    print ops, mib, cpu, lavg, lmax; exit }' "$1"
}
# Cairn's blocks: "== 4k-write-t16: ..." then "Ops/s:", "Bandwidth (MB/s):" (MiB/s, as in
# rados bench), latencies in seconds, "daemon CPU: ... X CPU-ms per op".
cairn_field() {  # file, test name -> "ops MiB/s cpu-ms-per-op avg-ms p99-ms max-ms"
  awk -v t="$2" '$1 == "==" && $2 == t ":" {on = 1; next}
    on && /^Ops\/s:/ {ops = $2}
    on && /^Bandwidth/ {mb = $3}
    on && /^Average latency/ {lavg = $4 * 1000}
    on && /^p99 latency/ {l99 = $4 * 1000}
    on && /^Max latency/ {lmax = $4 * 1000}
    on && /^daemon CPU:/ {cpu = $5; print ops, mb, cpu, lavg, l99, lmax; exit}' "$1"
}

declare -A RATIOS
for r in $(seq 1 "$ROUNDS"); do
  LAT=()  # this round's latency lines
  (cd "$ANCHOR" && SECS=$SECS ./bench.sh rados rss) >"$OUT/ceph.$r" 2>&1
  bash bench/cluster/rados_bench.sh "$SECS" >"$OUT/cairn.$r" 2>&1
  echo "== round $r ($(date -u +%H:%M) UTC)"
  printf "%-14s %12s %12s %8s %14s %14s %8s\n" workload "ceph rate" "cairn rate" ratio "ceph CPU-ms" "cairn CPU-ms" "CPU ratio"
  for pair in "4M-write:rados-4M-write-t16:4M-write-t16:mib" "4M-seq:rados-4M-seqread-t16:4M-seq-t16:mib" \
    "4k-write:rados-4k-write-t16:4k-write-t16:ops" "4k-rand:rados-4k-randread-t16:4k-rand-t16:ops"; do
    IFS=: read -r name ct kt unit <<<"$pair"
    read -r cops cmib ccpu cavg cmax <<<"$(ceph_field "$OUT/ceph.$r" "$ct")"
    read -r kops kmib kcpu kavg k99 kmax <<<"$(cairn_field "$OUT/cairn.$r" "$kt")"
    if [ "$unit" = mib ]; then c=$cmib; k=$kmib; else c=$cops; k=$kops; fi
    [ -n "$c" ] && [ -n "$k" ] || { echo "$name: missing figures (see $OUT)"; continue; }
    ratio=$(awk -v a="$k" -v b="$c" 'BEGIN {printf "%.2f", a / b}')
    cratio=$(awk -v a="$kcpu" -v b="$ccpu" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}')
    RATIOS[$name]+="$ratio "
    RATIOS[$name-cpu]+="$cratio "
    printf "%-14s %12.1f %12.1f %7sx %14s %14s %8s\n" "$name ($unit)" "$c" "$k" "$ratio" "$ccpu" "$kcpu" "$cratio"
    LAT+=("$(printf "  %-12s ceph avg %s max %s; cairn avg %.2f p99 %.2f max %.2f" "$name" "${cavg:-?}" "${cmax:-?}" \
      "${kavg:-0}" "${k99:-0}" "${kmax:-0}")")
  done
  echo "latency, ms (Ceph's rados bench gives no p99: Cairn's p99 is set against its average and max)"
  printf "%s\n" "${LAT[@]}"
  grep -h "osd\.[0-9]" "$OUT/ceph.$r" | grep -o "osd\.[0-9] [0-9]* MiB" | tr '\n' ' ' | sed 's/^/ceph peak RSS: /'; echo
  grep -h "^osd\." "$OUT/cairn.$r" | awk '{printf "%s %s %s ", $1, $2, $3}' | sed 's/^/cairn peak RSS: /'; echo
done
median() {  # of the numbers in $1 (space-separated; "-" skipped)
  echo "$1" | tr ' ' '\n' | grep -E '^[0-9.]+$' | sort -n |
    awk '{a[NR] = $1} END {if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'
}
echo "== median over $ROUNDS rounds (cairn / ceph)"
for name in 4M-write 4M-seq 4k-write 4k-rand; do
  printf "%-10s rate %sx  CPU per op %sx\n" "$name" "$(median "${RATIOS[$name]:-}")" "$(median "${RATIOS[$name-cpu]:-}")"
done
