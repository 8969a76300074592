#!/usr/bin/env bash
# Puts the real CRDs the tests check rendered custom resources against into .tools/crds/ (git-ignored).
#
# Each comes from the Go module that publishes it, through the Go module proxy (`go mod download`
# verifies the module against the Go checksum database), and each extracted file is pinned by sha256.
# Nothing is copied into the repository. Needs Go on PATH (the project needs >= 1.26 for its cluster tests).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.tools/crds"
# The module cache lives in the tools folder; -modcacherw keeps it deletable with rm -rf.
export GOMODCACHE="$root/.tools/go/mod" GOFLAGS=-modcacherw GOTOOLCHAIN=local
mkdir -p "$out"

# file written                                   module                                           version  path in the module                                                          sha256
pins=(
  "gateway-api-v1.2.1-httproutes.yaml             sigs.k8s.io/gateway-api                            v1.2.1   config/crd/standard/gateway.networking.k8s.io_httproutes.yaml                db36230a2f54ca3f1733bebc9d303d4db16c958856bf2be941a2c6269b872014"
  "gateway-api-v1.6.1-httproutes.yaml             sigs.k8s.io/gateway-api                            v1.6.1   config/crd/standard/gateway.networking.k8s.io_httproutes.yaml                a424a0d6c953b162e71d1d97bb7e75012d8f1ac264e7274f2763d1b96ab39852"
  "eso-v0.16.2-externalsecrets.yaml               github.com/external-secrets/external-secrets       v0.16.2  config/crds/bases/external-secrets.io_externalsecrets.yaml                   7888ed7041aaf3d15f15ce4a20924f70be4112452ada638c01c454e9dab65523"
  "prometheus-operator-v0.93.0-servicemonitors.yaml github.com/prometheus-operator/prometheus-operator v0.93.0 example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml a99047972c9dd7679ce2050b9968e8a08773492e671b3e17abd476d42aa78a32"
  "keda-v2.21.0-scaledobjects.yaml                github.com/kedacore/keda/v2                        v2.21.0  config/crd/bases/keda.sh_scaledobjects.yaml                                  af35555862a83933b074af14ad439c4b4ceabaf4daa3e9338e9b23e36d308d80"
)

command -v go >/dev/null || { echo "error: Go (>= 1.26) is needed to fetch the CRDs the tests use; install it and rerun" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

for pin in "${pins[@]}"; do
  read -r name module version member want <<<"$pin"
  target="$out/$name"
  [ -f "$target" ] && [ "$(sha "$target")" = "$want" ] && continue
  dir="$(go mod download -json "$module@$version" | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(d["Error"]) if "Error" in d else print(d["Dir"])')"
  got="$(sha "$dir/$member")"
  if [ "$got" != "$want" ]; then
    echo "error: $member of $module@$version has sha256 $got, expected $want" >&2
    exit 1
  fi
  install -m 0644 "$dir/$member" "$target.tmp" && mv "$target.tmp" "$target"
  echo "fetched $name ($module@$version)"
done
# Files no longer pinned must not linger: the tests read every file in the folder.
for file in "$out"/*.yaml; do
  name="$(basename "$file")"
  printf '%s\n' "${pins[@]}" | grep -q "^$name " || rm -f "$file"
done
