"""Packs the Helm charts into the wheel as package data (workload/charts/), so the CLI works wherever it
is installed. Everything else about the package is in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CHARTS = Path(__file__).parent / "charts"


class BuildWithCharts(build_py):
    """build_py, plus a copy of charts/ (the charts live at the top of the repository, beside src/)."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "workload" / "charts"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(CHARTS, target, ignore=shutil.ignore_patterns("__pycache__", "*.tgz"))


setup(cmdclass={"build_py": BuildWithCharts})
