"""`helm lint --strict` is clean on Helm 3 and Helm 4 for every example values file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import CHART, EXAMPLES, FIXTURES

VALUES = [*sorted(EXAMPLES.glob("*.yaml")), FIXTURES / "values" / "everything.yaml"]


@pytest.mark.parametrize("values", VALUES, ids=[v.stem for v in VALUES])
def test_lint_strict_is_clean(helm: Path, values: Path) -> None:
    result = subprocess.run(
        [str(helm), "lint", "--strict", str(CHART), "--values", str(values)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout
    assert "[ERROR]" not in result.stdout


def test_lint_strict_fails_on_bad_values(helm: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((EXAMPLES / "minimal.yaml").read_text(encoding="utf-8") + "gpus: 2\n", encoding="utf-8")
    result = subprocess.run(
        [str(helm), "lint", "--strict", str(CHART), "--values", str(bad)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "gpus" in result.stdout + result.stderr
