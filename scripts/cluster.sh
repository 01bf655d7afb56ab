#!/usr/bin/env bash
# A local Cairn cluster on loopback, for development and the README's main job.
#   scripts/cluster.sh up [--mons N] [--dir DIR] [--port BASE]   start (idempotent)
#   scripts/cluster.sh status [--dir DIR]                        daemons, pids, endpoints
#   scripts/cluster.sh down [--dir DIR]                          stop every daemon by its PID
# Today it runs monitors only: OSDs join with the OSD issue (then `cairn cluster up`
# takes over). Clients find the cluster through DIR/cairn.conf.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${BIN:-$ROOT/build/bin}
cmd=${1:-status}; shift || true
MONS=3; DIR=$ROOT/cluster; PORT=6789
while [ $# -gt 0 ]; do
  case "$1" in
    --mons) MONS=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    *) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
names=(a b c d e f g h i)

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

status() {
  [ -f "$DIR/cairn.conf" ] || { echo "no cluster in $DIR"; return 1; }
  echo "cluster in $DIR (conf: $DIR/cairn.conf)"
  for pidf in "$DIR"/mon.*.pid; do
    [ -e "$pidf" ] || continue
    n=$(basename "$pidf" .pid)
    addr=$(grep -o "^$n=[^ ]*" "$DIR/members" | cut -d= -f2)
    metrics=$(grep -o 'metrics_port=[0-9]*' "$DIR/$n.log" 2>/dev/null | tail -1 | cut -d= -f2)
    if running "$pidf"; then state=running; else state=stopped; fi
    printf "  %-6s pid %-7s %-8s %-16s metrics http://127.0.0.1:%s/metrics  admin %s\n" "$n" "$(cat "$pidf")" \
      "$state" "$addr" "${metrics:-?}" "$DIR/$n/$n.asok"
  done
}

up() {
  mkdir -p "$DIR"
  if [ ! -f "$DIR/members" ]; then
    members=""
    for ((i = 0; i < MONS; i++)); do members+="${members:+,}${names[$i]}=127.0.0.1:$((PORT + i))"; done
    echo "$members" | tr ',' '\n' | sed 's/^/mon./' > "$DIR/members"
    hosts=$(echo "$members" | tr ',' '\n' | cut -d= -f2 | paste -sd, -)
    printf "[global]\nmon_host = %s\n" "$hosts" > "$DIR/cairn.conf"
    for ((i = 0; i < MONS; i++)); do
      "$BIN/cairn-mon" --mkfs --id "${names[$i]}" --data "$DIR/mon.${names[$i]}" --mon-initial-members "$members" >/dev/null
    done
  fi
  for line in $(cat "$DIR/members"); do
    n=${line%%=*}; id=${n#mon.}
    pidf="$DIR/$n.pid"
    running "$pidf" && continue
    "$BIN/cairn-mon" --id "$id" --data "$DIR/$n" --admin-socket "$DIR/$n/$n.asok" >>"$DIR/$n.log" 2>&1 &
    echo $! > "$pidf"
  done
  for _ in $(seq 1 100); do
    if "$BIN/cairn" -c "$DIR/cairn.conf" --timeout 2s mon stat >/dev/null 2>&1; then
      status
      echo
      "$BIN/cairn" -c "$DIR/cairn.conf" status
      echo "Use it:   $BIN/cairn -c $DIR/cairn.conf status   (or export CAIRN_CONF=$DIR/cairn.conf)"
      echo "Stop it:  bash scripts/cluster.sh down --dir $DIR"
      return 0
    fi
    sleep 0.2
  done
  echo "cluster.sh: monitors did not form a quorum; logs in $DIR/*.log" >&2
  return 1
}

down() {
  for pidf in "$DIR"/*.pid; do
    [ -e "$pidf" ] || continue
    if running "$pidf"; then
      pid=$(cat "$pidf")
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      echo "stopped $(basename "$pidf" .pid) (pid $pid)"
    fi
    rm -f "$pidf"
  done
}

case "$cmd" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: cluster.sh up|status|down [--mons N] [--dir DIR] [--port BASE]" >&2; exit 2 ;;
esac
