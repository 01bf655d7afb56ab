#!/bin/bash
# Measures Ceph's moved fraction when one OSD of weight 1.0 joins host0, with
# Ceph's own crushtool (Debian's ceph-base), for docs/crush.md.
#   ./ceph_compare.sh HOSTS OSDS_PER_HOST INPUTS
# Prints one line per rule: failure domain, moved fraction (set-wise), ideal, ratio.
set -euo pipefail
H=${1:-3}; M=${2:-4}; N=${3:-100000}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
OSDS=$((H * M))
gen() {  # $1 = number of osds in host0
  echo "tunable choose_total_tries 50"; echo "tunable chooseleaf_descend_once 1"
  echo "tunable chooseleaf_vary_r 1"; echo "tunable chooseleaf_stable 1"; echo "tunable straw_calc_version 1"
  echo "tunable allowed_bucket_algs 54"
  for ((i = 0; i < OSDS; i++)); do echo "device $i osd.$i"; done
  [ "$1" -gt "$M" ] && echo "device $OSDS osd.$OSDS"
  echo "type 0 osd"; echo "type 1 host"; echo "type 2 root"
  for ((h = 0; h < H; h++)); do
    echo "host host$h {"; echo "  id -$((h + 2))"; echo "  alg straw2"; echo "  hash 0"
    for ((o = 0; o < M; o++)); do echo "  item osd.$((h * M + o)) weight 1.000"; done
    [ "$h" = 0 ] && [ "$1" -gt "$M" ] && echo "  item osd.$OSDS weight 1.000"
    echo "}"
  done
  echo "root default {"; echo "  id -1"; echo "  alg straw2"; echo "  hash 0"
  for ((h = 0; h < H; h++)); do w=$M; [ "$h" = 0 ] && w=$1; echo "  item host$h weight $w.000"; done
  echo "}"
  echo "rule by_host { id 0; type replicated; min_size 1; max_size 10; step take default; step chooseleaf firstn 0 type host; step emit; }" | tr ';' '\n'
  echo "rule by_osd { id 1; type replicated; min_size 1; max_size 10; step take default; step chooseleaf firstn 0 type osd; step emit; }" | tr ';' '\n'
}
gen "$M" > "$W/a.txt"; gen $((M + 1)) > "$W/b.txt"
crushtool -c "$W/a.txt" -o "$W/a"; crushtool -c "$W/b.txt" -o "$W/b"
for rule in 0 1; do
  for m in a b; do
    crushtool -i "$W/$m" --test --rule $rule --num-rep 3 --min-x 0 --max-x $((N - 1)) --show-mappings 2>/dev/null \
      | sed -n 's/.*\[\(.*\)\].*/\1/p' > "$W/$m.$rule"
  done
  if [ $rule = 0 ]; then ideal=$(echo "1/$H/($M+1)" | bc -l); [ "$H" -gt 3 ] && ideal=$(echo "1/($OSDS+1)" | bc -l); dom=host
  else ideal=$(echo "1/($OSDS+1)" | bc -l); dom=osd; fi
  paste -d' ' "$W/a.$rule" "$W/b.$rule" | awk -v ideal="$ideal" -v dom=$dom -v h=$H -v m=$M '
    { split($1, a, ","); split($2, b, ",");
      for (i in b) { tot++; found = 0; for (j in a) if (a[j] == b[i]) found = 1; if (!found) moved++ } }
    END { printf "ceph %dx%d %s domain: moved %.5f ideal %.5f ratio %.3f\n", h, m, dom, moved/tot, ideal, moved/tot/ideal }'
done
