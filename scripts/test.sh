#!/usr/bin/env bash
# The test command: installs what is missing, starts PostgreSQL if nothing
# runs, then checks format, vet, staticcheck, generated code, go.mod files,
# builds every module and runs every test against real PostgreSQL/PostGIS and
# real (embedded) NATS servers.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

modules=(platform proto sevenz observations services/intake services/extractor services/review services/delivery services/feeds cmd/sinp)

say "format (gofmt)"
unformatted="$(gofmt -l "${modules[@]}")"
if [[ -n "$unformatted" ]]; then echo "not gofmt'ed:" >&2; echo "$unformatted" >&2; exit 1; fi

say "vet"
go vet sinp.occitanie.fr/...

say "staticcheck"
mkdir -p .tools/bin
(cd tools && GOWORK=off go build -o ../.tools/bin/ honnef.co/go/tools/cmd/staticcheck)
.tools/bin/staticcheck sinp.occitanie.fr/...

say "generated code is up to date"
proto/generate.sh --check

say "each module builds on its own, go.mod tidy"
for m in "${modules[@]}"; do
	(cd "$m" && GOWORK=off go mod tidy -diff >/dev/null) || { echo "$m/go.mod is not tidy: run (cd $m && GOWORK=off go mod tidy)" >&2; exit 1; }
	(cd "$m" && GOWORK=off go build ./...)
done
go build -o bin/sinp ./cmd/sinp

say "database"
SINP_TEST_DATABASE_URL="$(bin/sinp db ensure --admin)"
export SINP_TEST_DATABASE_URL
echo "tests use $SINP_TEST_DATABASE_URL" >&2

say "tests"
go test -count=1 -timeout 40m "$@" sinp.occitanie.fr/...
say "all checks passed"
