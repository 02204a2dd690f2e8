#!/usr/bin/env bash
# The main job: installs what is missing, builds sinp and runs every service
# in one process (embedded NATS, local PostgreSQL/PostGIS found or started),
# then checks that each service answers SERVING. Ctrl-C stops it.
# Arguments are passed to `sinp up` (e.g. --services intake,review).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
go build -o bin/sinp ./cmd/sinp
export SINP_CLOCK="${SINP_CLOCK:-accelerated:3600}"
bin/sinp up "$@" &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid' INT TERM
if bin/sinp health --wait 120s; then
	say "sinp is up (clock $SINP_CLOCK); Ctrl-C to stop"
else
	kill -INT $pid; wait $pid || true; exit 1
fi
wait $pid
