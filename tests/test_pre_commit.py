"""The hooks ML teams plug in: .pre-commit-hooks.yaml run by the real `pre-commit` against a team's
repository, and `validate -o github` annotations that point at the offending line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import EXAMPLES
from workload.cli import app, github_error
from workload.paths import REPO_ROOT

GOOD = (EXAMPLES / "minimal.yaml").read_text(encoding="utf-8")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def team_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "team"
    (repo / "deploy" / "workloads").mkdir(parents=True)
    (repo / "deploy" / "workloads" / "qwen.yaml").write_text(GOOD, encoding="utf-8")
    (repo / "deploy" / "workloads" / "broken.yaml").write_text(GOOD + "gpu:\n  count: 0\n", encoding="utf-8")
    (repo / "ci.yaml").write_text("not: a values file\n", encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".")
    return repo


def test_the_hook_validates_the_teams_values_files(team_repo: Path, tmp_path: Path) -> None:
    """`pre-commit try-repo` installs this repository's hook as a team's config would, and runs it."""
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "PIP_CONSTRAINT": str(REPO_ROOT / "constraints.txt")}  # fmt: skip
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO_ROOT), "workload-validate", "--files",
               "deploy/workloads/qwen.yaml", "deploy/workloads/broken.yaml"]  # fmt: skip
    result = subprocess.run(command, cwd=team_repo, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "deploy/workloads/qwen.yaml: ok" in result.stdout
    assert "deploy/workloads/broken.yaml: gpu.count: must be >= 1 (got 0)" in result.stdout
    assert "ci.yaml" not in result.stdout


def test_github_annotations_point_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(GOOD + "gpu:\n  count: 0\nmodle: 1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "-o", "github", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"::error file={path},line=10,title=workload validate::gpu.count: must be >= 1 (got 0)",
        f"::error file={path},line=11,title=workload validate::modle: unknown field; did you mean model?",
    ]


def test_github_annotations_escape_what_workflow_commands_reserve() -> None:
    assert github_error("a,b:c.yaml", 3, "50% of\nit") == (
        "::error file=a%2Cb%3Ac.yaml,line=3,title=workload validate::50%25 of%0Ait"
    )
