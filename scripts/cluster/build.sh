#!/usr/bin/env bash
# Builds the test control plane's binaries from Go modules, once per machine, into a cache outside the
# repository keyed by version: kube-apiserver, kube-controller-manager and kube-scheduler (per Kubernetes
# version), etcd, kwok, and the OCI registry the chart is pushed to. Needs Go >= 1.26 and the Go module
# proxy. Cold, a Kubernetes version takes about 12 minutes on 2 cores; a cached one, nothing.
#
#   scripts/cluster/build.sh [KUBERNETES_VERSION...]     (default: 1.35.4 and 1.37.2)
#   prints the folder of each version's binaries
set -euo pipefail
cache="${WORKLOAD_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ml-inference-load/cluster}"
if [ "$#" -gt 0 ]; then kube_versions=("$@"); else kube_versions=(1.35.4 1.37.2); fi
etcd_version=3.6.16
kwok_version=0.8.0
registry_version=3.1.2 # the CNCF Distribution registry, for the chart's OCI push and pull
export GOTOOLCHAIN=local GOFLAGS=-modcacherw CGO_ENABLED=0
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build"
mkdir -p "$cache"
# One build at a time per cache: two test workers (or a person and a test run) asking at once would
# otherwise race on the same output folders; the second waits, then finds the binaries built.
exec 9>"$cache/.build.lock"
flock 9

build_kubernetes() { # version -> $cache/kubernetes-<version>/bin/{kube-apiserver,kube-controller-manager,kube-scheduler}
  local version="$1" out="$cache/kubernetes-$1" work
  [ -x "$out/bin/kube-scheduler" ] && [ -x "$out/bin/kube-apiserver" ] && [ -x "$out/bin/kube-controller-manager" ] && return
  work="$(mktemp -d)"
  (
    cd "$work"
    go mod download -json "k8s.io/kubernetes@v$version" > kubernetes.json
    gomod="$(python3 -c 'import json,sys; print(json.load(open("kubernetes.json"))["GoMod"])')"
    minor="${version#1.}"; minor="${minor%%.*}"
    # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local folders; a
    # module that requires k8s.io/kubernetes replaces each with the published v0.<minor>.<patch> instead.
    {
      echo "module workload.test/controlplane"
      grep -E '^(go|godebug) ' "$gomod"
      echo "require k8s.io/kubernetes v$version"
      grep -E '^\s+k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | awk -v v="v0.${version#1.}" '{print "replace " $1 " => " $1 " " v}'
    } > go.mod
    cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
    go mod tidy -e >/dev/null 2>&1 || true
    go get "k8s.io/kubernetes@v$version" >/dev/null
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags="$ldflags -X $pkg.gitVersion=v$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    mkdir -p "$out/bin.tmp"
    for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
      go build -tags tools -trimpath -ldflags "$ldflags" -o "$out/bin.tmp/$cmd" "k8s.io/kubernetes/cmd/$cmd"
    done
    rm -rf "$out/bin" && mv "$out/bin.tmp" "$out/bin"
  )
  rm -rf "$work"
}

build_etcd() { # -> $cache/etcd-<version>/bin/etcd; a tiny module calling etcdmain.Main, since the etcd
  # module itself has replace directives that `go install` refuses (Debian's etcd 3.4 lacks the watch
  # progress requests kwok relies on).
  local out="$cache/etcd-$etcd_version" work
  [ -x "$out/bin/etcd" ] && return
  work="$(mktemp -d)"
  (
    cd "$work"
    printf 'module workload.test/etcd\n\ngo 1.24\n' > go.mod
    printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > main.go
    go get "go.etcd.io/etcd/server/v3@v$etcd_version" >/dev/null 2>&1
    go mod tidy >/dev/null
    mkdir -p "$out/bin.tmp"
    go build -trimpath -ldflags "-s -w" -o "$out/bin.tmp/etcd" .
    rm -rf "$out/bin" && mv "$out/bin.tmp" "$out/bin"
  )
  rm -rf "$work"
}

build_kwok() { # -> $cache/kwok-<version>/bin/kwok
  local out="$cache/kwok-$kwok_version"
  [ -x "$out/bin/kwok" ] && return
  GOBIN="$out/bin.tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$kwok_version"
  rm -rf "$out/bin" && mv "$out/bin.tmp" "$out/bin"
}

build_registry() { # -> $cache/registry-<version>/bin/registry
  local out="$cache/registry-$registry_version"
  [ -x "$out/bin/registry" ] && return
  GOBIN="$out/bin.tmp" go install -trimpath -ldflags "-s -w" \
    "github.com/distribution/distribution/v3/cmd/registry@v$registry_version"
  rm -rf "$out/bin" && mv "$out/bin.tmp" "$out/bin"
}

for version in "${kube_versions[@]}"; do
  build_kubernetes "$version"
  echo "$cache/kubernetes-$version/bin"
done
build_etcd
echo "$cache/etcd-$etcd_version/bin"
build_kwok
echo "$cache/kwok-$kwok_version/bin"
build_registry
echo "$cache/registry-$registry_version/bin"
