#!/usr/bin/env bash
# Builds the platform's own controllers that the cluster suite runs against the test control plane, from
# their Go modules, once per machine, into a cache outside the repository keyed by version: Prometheus and
# the Prometheus Operator (which turns the chart's ServiceMonitor into Prometheus' scrape configuration), the
# KEDA operator and its metrics API server, prometheus-adapter (the custom metrics API of `engine: hpa`), the
# External Secrets Operator and Vault. Needs Go >= 1.26 and
# the Go module proxy. Their CRDs are read from the same modules (tests/platform.py).
#
#   scripts/cluster/controllers.sh [NAME ...]   (default: all; the names are in `all` below)
#   prints one line per controller: <name> <folder of its binaries> <its Go module's source folder>
set -euo pipefail
cache="${WORKLOAD_CONTROLLERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ml-inference-load/controllers}"
all=(prometheus prometheus-operator keda prometheus-adapter external-secrets vault)
if [ "$#" -gt 0 ]; then wanted=("$@"); else wanted=("${all[@]}"); fi
prometheus_version=0.316.0 # Prometheus 3.16.0 (its Go module is versioned 0.3xx.y for 3.xx.y)
operator_version=0.93.0    # the Prometheus Operator whose CRDs scripts/fetch-crds.sh pins
adapter_version=0.12.0     # prometheus-adapter, the newest release (2024-05)
keda_version=2.21.0        # the newest KEDA whose go line (1.26.0) this machine's Go builds
eso_version=0.16.2         # the newest ESO served whole by the module proxy (1.x is split into modules it
#                            replaces with local folders); serves and stores external-secrets.io/v1
vault_version=1.21.1 # 1.21.2 on calls sdk functions (TryRecordObservationWithRequest) that no published sdk has
export GOTOOLCHAIN=local GOFLAGS=-modcacherw CGO_ENABLED=0 GOWORK=off # a copied go.work names folders the module zip lacks
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build"
mkdir -p "$cache"
exec 9>"$cache/.build.lock" # one build at a time per cache (see scripts/cluster/build.sh)
flock 9

source_of() { # module@version -> its source folder in the module cache (downloading it)
  go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'
}

# A module whose go.mod has replace directives cannot be built with `go install module@version`; it is
# built as the main module from a writable copy of its source, with its own go.mod and go.sum.
# DROP_LOCAL_REPLACES=1: its replaces of sibling modules with folders the module zip lacks are dropped, so it
# builds against the published versions it requires; -mod=mod adds their missing go.sum lines, each checked
# against the checksum database. TAGS: build tags (each controller's own, documented upstream).
build_as_main() { # module version out package... -> binaries in $out/bin, named after each package's folder
  local module="$1" version="$2" out="$3" work source pkg name mod=()
  shift 3
  source="$(source_of "$module@v$version")"
  work="$(mktemp -d)"
  cp -r "$source/." "$work/" && chmod -R u+w "$work"
  if [ "${DROP_LOCAL_REPLACES:-0}" = 1 ]; then
    sed -i -E '/^(replace)?[[:space:]]*[^[:space:]()]+ => \.\//d' "$work/go.mod" # a line, or inside a block
    mod=(-mod=mod)
  fi
  mkdir -p "$out/bin.tmp"
  for pkg in "$@"; do
    name="${pkg##*/}"
    [ "$pkg" = "." ] && name="${module##*/}"
    (cd "$work" && go build "${mod[@]}" -tags "${TAGS:-}" -trimpath -ldflags "-s -w ${LDFLAGS:-}" \
      -o "$out/bin.tmp/$name" "$pkg")
  done
  rm -rf "$work" "$out/bin" && mv "$out/bin.tmp" "$out/bin"
}

# Prometheus with Kubernetes service discovery only (and the static, file and HTTP ones it always keeps):
# the operator's configuration uses no other, and the cloud SDKs of the rest were half of the cold build.
# The tags are Prometheus' own (its README's "Service discovery plugins", plugins/plugin_*.go).
build_prometheus() {
  local out="$cache/prometheus-v$prometheus_version-kubernetes-sd"
  local minor="${prometheus_version#0.}" # 316.0 -> 3.16.0
  [ -x "$out/bin/prometheus" ] || LDFLAGS="-X github.com/prometheus/common/version.Version=3.${minor:1}" \
    TAGS=remove_all_sd,enable_kubernetes_sd \
    build_as_main github.com/prometheus/prometheus "$prometheus_version" "$out" ./cmd/prometheus
  echo "prometheus $out/bin $(source_of "github.com/prometheus/prometheus@v$prometheus_version")"
}

build_prometheus_operator() {
  local out="$cache/prometheus-operator-v$operator_version"
  local module=github.com/prometheus-operator/prometheus-operator
  [ -x "$out/bin/prometheus-operator" ] || {
    DROP_LOCAL_REPLACES=1 LDFLAGS="-X github.com/prometheus/common/version.Version=$operator_version" \
      build_as_main "$module" "$operator_version" "$out" ./cmd/operator
    mv "$out/bin/operator" "$out/bin/prometheus-operator"
  }
  echo "prometheus-operator $out/bin $(source_of "$module@v$operator_version")"
}

build_keda() { # the operator (runs the scalers, owns the HPA) and the adapter (external.metrics.k8s.io)
  local out="$cache/keda-v$keda_version"
  if ! [ -x "$out/bin/keda" ] || ! [ -x "$out/bin/keda-adapter" ]; then
    LDFLAGS="-X github.com/kedacore/keda/v2/version.Version=$keda_version" \
      build_as_main github.com/kedacore/keda/v2 "$keda_version" "$out" ./cmd/operator ./cmd/adapter
    mv "$out/bin/operator" "$out/bin/keda" && mv "$out/bin/adapter" "$out/bin/keda-adapter"
  fi
  echo "keda $out/bin $(source_of "github.com/kedacore/keda/v2@v$keda_version")"
}

build_prometheus_adapter() {
  local out="$cache/prometheus-adapter-v$adapter_version" module=sigs.k8s.io/prometheus-adapter
  [ -x "$out/bin/prometheus-adapter" ] || {
    build_as_main "$module" "$adapter_version" "$out" ./cmd/adapter
    mv "$out/bin/adapter" "$out/bin/prometheus-adapter"
  }
  echo "prometheus-adapter $out/bin $(source_of "$module@v$adapter_version")"
}

build_external_secrets() {
  local out="$cache/external-secrets-v$eso_version"
  [ -x "$out/bin/external-secrets" ] || build_as_main github.com/external-secrets/external-secrets "$eso_version" "$out" .
  echo "external-secrets $out/bin $(source_of "github.com/external-secrets/external-secrets@v$eso_version")"
}

# Vault's go.mod replaces its api and sdk modules with folders of its repository (./api, ./sdk) that the
# module zip lacks: it builds against the published api v1.22.0 and sdk v0.20.0 it requires instead (for
# 1.21.1 they are what its folders held; 1.21.4's folders differ from every published sdk). Built minimal
# (Vault's own `minimal` tag, its Makefile's BUILD_MINIMAL: core features only), which keeps the KV engine
# (helper/builtinplugins/registry.go) and drops the cloud and database plugins the suite never mounts.
build_vault() {
  local out="$cache/vault-v$vault_version-minimal"
  [ -x "$out/bin/vault" ] || DROP_LOCAL_REPLACES=1 TAGS=minimal build_as_main github.com/hashicorp/vault "$vault_version" "$out" .
  echo "vault $out/bin $(source_of "github.com/hashicorp/vault@v$vault_version")"
}

for name in "${wanted[@]}"; do
  case "$name" in
    prometheus) build_prometheus ;;
    prometheus-operator) build_prometheus_operator ;;
    keda) build_keda ;;
    prometheus-adapter) build_prometheus_adapter ;;
    external-secrets) build_external_secrets ;;
    vault) build_vault ;;
    *) echo "controllers.sh: unknown controller '$name' (${all[*]})" >&2; exit 2 ;;
  esac
done
