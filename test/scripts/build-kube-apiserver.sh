#!/usr/bin/env bash
# Builds kube-apiserver from the Go module k8s.io/kubernetes into $2 (a cache dir keyed by version).
# k8s.io/kubernetes points its staging modules at ./staging, so a wrapper module must
# replace each of them with the published version of the same release.
set -euo pipefail
version="$1"    # e.g. v1.34.4
out="$2"        # directory that will hold bin/kube-apiserver
staging="v0.${version#v1.}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
gomod="$(go mod download -json "k8s.io/kubernetes@${version}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
{
  echo "module kubeapiserverbuild"
  echo "go 1.24"
  echo "require k8s.io/kubernetes ${version}"
  grep -E '^\s*k8s.io/[a-z0-9-]+ => \./staging/' "$gomod" \
    | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}'
} > go.mod
cat > tools.go <<'GO'
//go:build tools
package tools
import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true
GOFLAGS=-mod=mod go get "k8s.io/kubernetes@${version}" >/dev/null
mkdir -p "$out/bin"
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' -o "$out/bin/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
mv "$out/bin/kube-apiserver.tmp" "$out/bin/kube-apiserver"
