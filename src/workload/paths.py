"""Where the charts and the tools are: in a checkout of the repository, or in an installed package."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# src/workload/paths.py -> the repository root, when the package runs from a checkout (`pip install -e .`).
REPO_ROOT = PACKAGE_DIR.parents[1]


def in_checkout() -> bool:
    """True when running from a checkout (its charts and tools folder sit beside src/)."""
    return (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "charts").is_dir()


def charts_dir() -> Path:
    """WORKLOAD_CHARTS_DIR, else the checkout's charts/, else the charts packed into the wheel."""
    if explicit := os.environ.get("WORKLOAD_CHARTS_DIR"):
        return Path(explicit)
    return REPO_ROOT / "charts" if in_checkout() else PACKAGE_DIR / "charts"


def tools_bin() -> Path:
    """The checkout's tools folder (scripts/install-tools.sh); an installed package has none."""
    return REPO_ROOT / ".tools" / "bin"
