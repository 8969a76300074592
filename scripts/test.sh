#!/usr/bin/env bash
# The whole test suite: lint, type-check, generated-file drift, then pytest on both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

# The same strictness for the product, its tests and its scripts.
ruff check src tests scripts
ruff format --check src tests scripts
mypy src tests scripts
workload generate --check
# loadfile: each test module runs on one worker, so tests/test_cluster.py starts one control plane per
# Kubernetes version, on one worker. (pytest-xdist 3.8's xdist_group marks are ignored under pytest 9: the
# cluster tests ran on both workers, and on a cold machine both built the same binaries at once.)
python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
