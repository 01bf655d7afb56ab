# Shared by the bench/cluster scripts (sourced; needs $BIN and CAIRN_CONF set).

# Waits until `cairn pg stat` says every PG is active+clean; 1 after about $1 seconds (default 600).
wait_clean() {
  local tries=$(( ${1:-600} * 4 )) s
  for _ in $(seq 1 "$tries"); do
    s=$("$BIN/cairn" pg stat)
    [[ $s =~ ^([0-9]+)\ pgs:\ ([0-9]+)\ active\+clean ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && return 0
    sleep 0.25
  done
  return 1
}
