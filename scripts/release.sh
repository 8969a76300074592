#!/usr/bin/env bash
# Releases the version in src/workload/__init__.py (the one version of the package, the chart and the
# values contract): refuses a dirty tree, stale generated files, a version already released or one the
# CHANGELOG does not describe; then packages the chart and the wheel into dist/ and tags v<version>.
# Pushing the tag, the chart (helm push dist/*.tgz oci://...) and the wheel is left to the person.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
helm="${WORKLOAD_HELM:-.tools/bin/helm}"
fail() { echo "release: $*" >&2; exit 1; }

version="$("$python" -c 'import workload; print(workload.__version__)')"
[ -z "$(git status --porcelain)" ] || fail "the working tree is not clean; commit or stash first"
"$python" -m workload generate --check >/dev/null || fail "generated files are stale; run 'workload generate' and commit"
if git rev-parse -q --verify "refs/tags/v$version" >/dev/null; then
  fail "v$version was already released; raise __version__ in src/workload/__init__.py"
fi
grep -q "^## $version " CHANGELOG.md || fail "CHANGELOG.md has no section '## $version (...)'; describe the release"

rm -rf dist && mkdir dist
"$helm" package charts/ml-inference-load --destination dist >/dev/null
"$python" -m pip wheel --quiet --no-deps --wheel-dir dist .
git tag -a "v$version" -m "ml-inference-load $version"
echo "released $version: $(cd dist && echo *) and tag v$version"
