#!/usr/bin/env bash
# The whole test suite: lint, type-check, generated-file drift, then pytest on both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

# The whole suite runs the platform's controllers (tests/test_platform.py), 20 minutes and more to build on
# a cold machine: the build starts now, beside lint and the first test modules, instead of when that
# module's turn comes. The module's fixture waits for it on the cache's lock and finds them built; a build
# that fails here is run again, and reported, by the fixture. Its output: build/controllers.log.
if [ "$#" -eq 0 ] && command -v go >/dev/null; then
  mkdir -p build
  setsid scripts/cluster/controllers.sh >build/controllers.log 2>&1 &
  prebuild=$!
  trap 'kill -- "-$prebuild" 2>/dev/null || true' EXIT # on an early failure, the build goes with us
fi

# The same strictness for the product, its tests and its scripts.
ruff check src tests scripts
ruff format --check src tests scripts
mypy src tests scripts
workload generate --check
# loadfile: each test module runs on one worker, so tests/test_cluster.py starts one control plane per
# Kubernetes version, on one worker. (pytest-xdist 3.8's xdist_group marks are ignored under pytest 9: the
# cluster tests ran on both workers, and on a cold machine both built the same binaries at once.)
python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
