#!/usr/bin/env bash
# Builds one main package of a Go module into $4/bin/$5 through a throwaway wrapper module.
# `go install mod@version` refuses modules whose go.mod carries replace directives (etcd's do),
# so the wrapper requires the module at the published version and builds the package from it.
# Usage: build-go-binary.sh <module> <version> <package> <outdir> <binary-name>
set -euo pipefail
module="$1"; version="$2"; pkg="$3"; out="$4"; name="$5"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'module wrapperbuild\n\ngo 1.24\n\nrequire %s %s\n' "$module" "$version" > go.mod
printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" > tools.go
GOFLAGS=-mod=mod go mod tidy
mkdir -p "$out/bin"
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' -o "$out/bin/$name.tmp" "$pkg"
mv "$out/bin/$name.tmp" "$out/bin/$name"
