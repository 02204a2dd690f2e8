#!/usr/bin/env bash
# The main job: installs what is missing, builds sinp and runs the demo of
# the whole request lifecycle (`sinp demo`): every service in one process on
# an embedded NATS server and the local PostgreSQL/PostGIS (found, or
# started), with a clock that runs 21 days in under a minute. It prints each
# step, and at the end the requesters' drop zones.
# Arguments are passed to `sinp demo` (e.g. --observations 1000000,
# --clock manual, --json). `bin/sinp up` runs the platform without the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
go build -o bin/sinp ./cmd/sinp
exec bin/sinp demo "$@"
