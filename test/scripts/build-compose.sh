#!/usr/bin/env bash
# Builds Docker Compose v2 (the `docker compose` CLI) from its Go module into $2/bin/docker-compose.
# `go install` refuses the module (its go.mod has replace and exclude directives), so the module's own
# source is copied out of the module cache and built as the main module, with its directives in force.
# Usage: build-compose.sh <version> <outdir>
set -euo pipefail
version="$1"; out="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dir="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/docker/compose/v2@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -n "$dir" ] || { echo "no module directory for github.com/docker/compose/v2@$version" >&2; exit 1; }
cp -r "$dir" "$work/src" && chmod -R u+w "$work/src"
cd "$work/src"
mkdir -p "$out/bin"
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/docker/compose/v2/internal.Version=$version" -o "$out/bin/docker-compose.tmp" ./cmd
mv "$out/bin/docker-compose.tmp" "$out/bin/docker-compose"
