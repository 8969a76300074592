#!/usr/bin/env bash
# Sets up a fresh clone: Python environment (.venv), helm 3 + helm 4 + kubectl + checkov (.tools), the real
# engines' environment (vLLM's CPU build and SGLang's parser, in ~/.cache/ml-inference-load/engines), the npm
# toolchain and TGI's schemas (node_modules), the CRDs the tests need (.tools/crds), then renders the
# bundled example workload to build/example/ so you can see what the chart produces.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "error: Python >= 3.11 is needed (found $("$python" --version 2>&1)); set PYTHON=..." >&2
  exit 1
}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]'
# An editable install leaves src/ without bytecode, and PYTHONDONTWRITEBYTECODE (common in CI) keeps it so:
# compiled once here, `workload validate FILE` starts about 15 ms sooner (a wheel install compiles itself).
.venv/bin/python -m compileall -q src

scripts/install-tools.sh

# The real engines the suite runs: vLLM's CPU build (its server starts from the chart's command line) and
# SGLang's argument parser, every package pinned by hash, installed once per lock outside the repository.
scripts/engines/install.sh >/dev/null

# The TypeScript and Backstage toolchain that checks the generated interfaces and catalog entities, and
# TGI's published request/response schemas (@huggingface/tasks), exactly as package-lock.json pins them.
npm ci --no-audit --no-fund --loglevel=error

# The real CRDs that rendered custom resources are checked against, from the Go modules that publish them.
scripts/fetch-crds.sh

rm -rf build/example
.venv/bin/workload validate examples/llama-3.2-1b.yaml
.venv/bin/workload render examples/llama-3.2-1b.yaml --output-dir build/example
echo
echo "Set up. Try:  .venv/bin/workload render examples/llama-3.2-1b.yaml   and   scripts/test.sh"
