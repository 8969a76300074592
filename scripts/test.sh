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
# loadgroup: the tests on the real control plane (xdist_group "cluster") share one worker and one cluster.
python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadgroup "$@"
