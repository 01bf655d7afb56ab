#!/bin/bash
# End-to-end checks of cairn-crushtool: build, text round trip, test, diff, balance, errors.
set -euo pipefail
T=$1
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$T" --build --hosts 3 --osds-per-host 4 -o "$W/a"
"$T" -d "$W/a" -o "$W/a.txt"
"$T" -c "$W/a.txt" -o "$W/b"
cmp "$W/a" "$W/b" || fail "binary round trip"
"$T" -d "$W/b" | cmp - "$W/a.txt" || fail "text round trip"

out=$("$T" -i "$W/a" --test --rule 0 --num-rep 3 --min-x 0 --max-x 9999 --show-utilization)
grep -q "bad mappings 0" <<<"$out" || fail "test: $out"
grep -q "device 11 (osd.11)" <<<"$out" || fail "utilization"

"$T" -i "$W/a" --add-osd 12 --host host0 --weight 1 -o "$W/c"
out=$("$T" -i "$W/a" --diff "$W/c" --rule 1 --min-x 0 --max-x 99999)
grep -q "to   device 12" <<<"$out" || fail "diff: $out"
[ "$(grep -c "to   device" <<<"$out")" = 1 ] || fail "data moved to more than the new device: $out"

out=$("$T" -i "$W/a" --balance --pg-num 256 --rule 0)
grep -q "target met" <<<"$out" || fail "balance: $out"

printf 'type 0 osd\nbogus\n' > "$W/bad.txt"
if "$T" -c "$W/bad.txt" -o "$W/x" 2> "$W/err"; then fail "bad text accepted"; fi
grep -q "line 2" "$W/err" || fail "error lacks line: $(cat "$W/err")"
printf '\x01\x01\xff\xff' > "$W/bad.bin"
if "$T" -d "$W/bad.bin" 2> "$W/err"; then fail "bad binary accepted"; fi
if "$T" --no-such-flag 2>/dev/null; then fail "bad flag accepted"; fi
echo PASS
