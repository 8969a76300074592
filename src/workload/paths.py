"""Where the repository's charts, examples and tools are."""

from __future__ import annotations

import os
from pathlib import Path

# src/workload/paths.py -> repository root (the package is used from its checkout: `pip install -e .`).
REPO_ROOT = Path(__file__).resolve().parents[2]


def charts_dir() -> Path:
    """The charts folder; WORKLOAD_CHARTS_DIR overrides it."""
    return Path(os.environ.get("WORKLOAD_CHARTS_DIR", REPO_ROOT / "charts"))


def tools_bin() -> Path:
    """Project-local binaries installed by scripts/install-tools.sh."""
    return REPO_ROOT / ".tools" / "bin"
