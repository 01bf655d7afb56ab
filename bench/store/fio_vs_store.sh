#!/usr/bin/env bash
# fio and the BlockStore on the same file system, alternated: issue 5 words its
# store targets against fio (O_DIRECT io_uring on a file of the same size).
# Each round runs fio's four cases on a 2 GiB file under DIR, deletes it, then
# `store_bench --only store` there. Compare the rounds' ratios, not rates from
# another hour: this VM's disk drifts by 15-25% within minutes.
#
#   bench/store/fio_vs_store.sh [ROUNDS] [DIR]     (defaults 2 and /tmp)
#
# Needs fio and a built tree (build/bin/store_bench).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-2}
DIR=${2:-/tmp}
F=$DIR/cairn-fio-bench.img
trap 'rm -f "$F"' EXIT
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r ($(date -u +%H:%M:%S) UTC)"
  for spec in "write 4m 4 4" "randwrite 4k 32 32" "randread 4k 32 0" "read 4m 4 0"; do
    read -r rw bs qd fs <<<"$spec"
    extra=()
    [ "$fs" != 0 ] && extra=(--fsync="$fs")
    # terse v3: field 7 read KiB/s, 8 read IOPS, 48 write KiB/s, 49 write IOPS
    fio --name=b --filename="$F" --size=2g --rw="$rw" --bs="$bs" --iodepth="$qd" "${extra[@]}" \
      --ioengine=io_uring --direct=1 --runtime=5 --time_based --group_reporting \
      --output-format=terse --terse-version=3 2>/dev/null |
      awk -F';' -v n="fio $rw $bs QD$qd fsync/$fs" \
        '{ r = $8 > 0; printf "%-38s %9.0f ops/s %9.1f MiB/s\n", n, r ? $8 : $49, (r ? $7 : $48) / 1024 }'
  done
  rm -f "$F"
  build/bin/store_bench --dir "$DIR" --only store --size $((2 << 30)) --seconds 4 | grep -E "^store "
done
