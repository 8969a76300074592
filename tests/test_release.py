"""One version everywhere, and a release script that refuses what should not be released."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import CHART, helm_path
from workload import __version__
from workload.cli import app
from workload.paths import REPO_ROOT


def test_one_version_for_package_chart_and_contract() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    assert chart["version"] == __version__
    assert chart["appVersion"] == "3.3.7"
    assert schema["$comment"].endswith(f"Values contract {__version__}.")
    result = CliRunner().invoke(app, ["--version"])
    assert result.output == (
        f"workload {__version__} (chart ml-inference-load {__version__}, values contract {__version__}, "
        "default TGI 3.3.7)\n"
    )
    assert f"## {__version__} " in (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone of the committed repository (the release script works on commits, not the work tree)."""
    target = tmp_path / "repo"
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(target)], check=True, capture_output=True)
    for key, value in (("user.email", "release@example.com"), ("user.name", "release")):
        subprocess.run(["git", "config", key, value], cwd=target, check=True)
    return target


def release(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(repo / "src"),
           "WORKLOAD_HELM": str(helm_path("helm4"))}  # fmt: skip
    return subprocess.run(["scripts/release.sh"], cwd=repo, env=env, capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip


def test_release_refuses_a_dirty_tree_stale_files_and_a_released_version(clone: Path) -> None:
    (clone / "README.md").write_text("changed\n", encoding="utf-8")
    assert release(clone).stderr == "release: the working tree is not clean; commit or stash first\n"
    subprocess.run(["git", "checkout", "README.md"], cwd=clone, check=True)

    models = clone / "src" / "workload" / "models" / "ml_inference_load" / "serving.py"
    models.write_text(models.read_text(encoding="utf-8").replace("Image pull policy.", "Pull policy."), "utf-8")
    subprocess.run(["git", "commit", "--quiet", "-am", "a description changes"], cwd=clone, check=True)
    assert release(clone).stderr == "release: generated files are stale; run 'workload generate' and commit\n"
    subprocess.run(["git", "reset", "--quiet", "--hard", "HEAD~1"], cwd=clone, check=True)

    done = release(clone)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (clone / "dist").iterdir()) == [
        f"ml-inference-load-{__version__}.tgz", f"ml_inference_load-{__version__}-py3-none-any.whl",
    ]  # fmt: skip
    assert release(clone).stderr == (
        f"release: v{__version__} was already released; raise __version__ in src/workload/__init__.py\n"
    )
