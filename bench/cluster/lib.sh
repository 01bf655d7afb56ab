# Shared by the bench/cluster scripts (sourced; needs $BIN, and $DIR and $PORT for fresh_cluster).

# Starts a fresh local cluster under $DIR (whatever ran there is stopped and removed):
# 1 monitor on $PORT, then `cairn cluster up` ARGS (e.g. --osds 3), file-backed OSDs of
# ${OSD_SIZE:-16G}. Exports CAIRN_CONF for the commands that follow.
fresh_cluster() {
  "$BIN/cairn" cluster down --dir "$DIR" >/dev/null 2>&1
  rm -rf "$DIR"
  "$BIN/cairn" cluster up --mons 1 --dir "$DIR" --port "$PORT" --osd-size "${OSD_SIZE:-16G}" "$@" >/dev/null || return 1
  export CAIRN_CONF=$DIR/cairn.conf
}

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

# For the per-op counting scripts: a fresh cluster of 3 OSDs (${OSD_SIZE:-4G} each)
# with a size-3 pool "bench" of 64 PGs, active+clean; for a read bench (ARGS not
# starting with "write") objects are written first. Then starts
# `cairn rados -p bench bench SECONDS ARGS --no-cleanup` in the background, its
# output in $BENCH_OUT, its PID in $BENCH_PID.
start_counted_bench() {
  local seconds=$1
  shift
  OSD_SIZE=${OSD_SIZE:-4G} fresh_cluster --osds 3 || return 1
  "$BIN/cairn" osd pool create bench 64 --size 3 --min-size 2 >/dev/null
  wait_clean 120 || { echo "PGs never became active+clean" >&2; return 1; }
  if [ "$1" != write ]; then
    "$BIN/cairn" rados -p bench bench 8 write -b 4096 -t 16 --no-cleanup >/dev/null 2>&1
  fi
  BENCH_OUT=$(mktemp)
  "$BIN/cairn" rados -p bench bench "$seconds" "$@" --no-cleanup >"$BENCH_OUT" 2>&1 &
  BENCH_PID=$!
}
