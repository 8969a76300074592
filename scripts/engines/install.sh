#!/usr/bin/env bash
# Installs the real engines the test suite runs (vLLM's CPU build, whose server the suite starts, and SGLang's
# argument parser) into a Python environment outside the repository, once per lock: every package from
# scripts/engines/requirements.lock, pinned by hash. About 6.3 GB; an older lock's environment is removed.
#
#   scripts/engines/install.sh       prints the environment's folder (its bin/python runs the engines)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lock="$here/requirements.lock"
cache="${WORKLOAD_ENGINES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ml-inference-load/engines}"
python="${PYTHON:-python3}"
# The lock's wheels are CPython 3.11's (torch and a dozen others are built per interpreter).
"$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
  echo "error: the engines' lock is for Python 3.11 (found $("$python" --version 2>&1)); set PYTHON=..." >&2
  exit 1
}
key="$(sha256sum "$lock" | cut -c1-12)"
env="$cache/py311-$key"
mkdir -p "$cache"
exec 9>"$cache/.install.lock" # two test workers asking at once: the second waits, then finds it installed
flock 9
if [ ! -f "$env/.installed" ]; then
  for old in "$cache"/py311-*; do [ "$old" = "$env" ] || rm -rf "$old"; done
  rm -rf "$env"
  "$python" -m venv "$env"
  "$env/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$lock" >&2
  touch "$env/.installed"
fi
echo "$env"
