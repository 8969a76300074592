#!/usr/bin/env bash
# The whole test suite: lint, type-check, generated-file drift, then pytest on both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

ruff check src tests
ruff format --check src tests
mypy src
workload generate --check
python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
