#!/usr/bin/env bash
# Regenerates proto/gen from the .proto files with pinned tools (tools/go.mod).
# Usage: proto/generate.sh [--check]   (--check fails if gen/ drifted)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.tools/bin"
mkdir -p "$bin"
(cd "$root/tools" && GOWORK=off go build -o "$bin/" \
	github.com/bufbuild/buf/cmd/buf \
	google.golang.org/protobuf/cmd/protoc-gen-go \
	google.golang.org/grpc/cmd/protoc-gen-go-grpc)
cd "$root/proto"
PATH="$bin:$PATH" buf lint
PATH="$bin:$PATH" buf generate
if [[ "${1:-}" == "--check" ]]; then
	cd "$root"
	if ! git diff --quiet --exit-code -- proto/gen || [[ -n "$(git ls-files --others --exclude-standard proto/gen)" ]]; then
		echo "proto/gen is out of date with the .proto files: run proto/generate.sh and commit" >&2
		git status --short proto/gen >&2
		exit 1
	fi
fi
