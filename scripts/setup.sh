#!/usr/bin/env bash
# Installs what the platform needs on a Debian machine, when it is missing:
# Go 1.26 (from the Go module proxy), PostgreSQL with PostGIS, 7-Zip and
# GDAL. Sourced by scripts/run.sh and scripts/test.sh; safe to run again.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GO_VERSION=1.26.8

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# Go: the toolchain is a module on the Go module proxy, so a machine without
# Go (or with an older one) gets it from there.
go_ok() { command -v go >/dev/null 2>&1 && [[ "$(go env GOVERSION 2>/dev/null)" =~ ^go1\.(2[6-9]|[3-9][0-9]) ]]; }
if ! go_ok && [[ -x "$root/.tools/go/bin/go" ]]; then export PATH="$root/.tools/go/bin:$PATH"; fi
if ! go_ok; then
	if command -v go >/dev/null 2>&1; then
		# A Go >= 1.21 fetches the right toolchain itself.
		export GOTOOLCHAIN="go$GO_VERSION"
	fi
	if ! go_ok; then
		say "installing Go $GO_VERSION from the Go module proxy into .tools/go"
		command -v curl >/dev/null && command -v unzip >/dev/null || as_root apt-get install -y curl unzip
		tmp="$(mktemp -d)"
		curl -fsSL -o "$tmp/go.zip" "${GOPROXY_URL:-https://proxy.golang.org}/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-$(dpkg --print-architecture).zip"
		unzip -q "$tmp/go.zip" -d "$tmp"
		rm -rf "$root/.tools/go" && mkdir -p "$root/.tools"
		mv "$tmp"/golang.org/toolchain@*/ "$root/.tools/go"
		chmod +x "$root/.tools/go/bin/"* "$root/.tools/go/pkg/tool/"*/* 2>/dev/null || true
		rm -rf "$tmp"
		unset GOTOOLCHAIN
		export PATH="$root/.tools/go/bin:$PATH"
	fi
fi

# Debian packages.
missing=()
pg_major() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1; }
if [[ -z "$(pg_major)" ]]; then missing+=(postgresql); fi
major="$(pg_major)"
if [[ -z "$major" ]]; then
	major="$(apt-cache policy postgresql 2>/dev/null | sed -n 's/.*Candidate: \([0-9]*\).*/\1/p')"
	major="${major:-15}"
fi
if [[ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]]; then missing+=("postgresql-$major-postgis-3"); fi
command -v 7zz >/dev/null 2>&1 || missing+=(7zip)
command -v ogrinfo >/dev/null 2>&1 || missing+=(gdal-bin)
if ((${#missing[@]})); then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get install -y --no-install-recommends "${missing[@]}" ||
		{ as_root apt-get update && as_root apt-get install -y --no-install-recommends "${missing[@]}"; }
fi
