#!/usr/bin/env bash
# The main job: install dependencies, build, and bring up a local Cairn cluster on
# loopback (today: three monitors; OSDs come with the OSD issue), printing its
# endpoints. The daemons keep running: stop them with `bash scripts/cluster.sh down`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
echo
bash scripts/cluster.sh up "$@"
