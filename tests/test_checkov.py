"""The security gate: checkov on the default render and on the every-option render.

Zero failed checks except the skip list in security/checkov-skips.yaml, and every skip must still be
needed (fail on some render without it), so the list cannot silently grow stale.
"""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES, FIXTURES, helm_path, helm_template, missing
from workload.paths import REPO_ROOT, tools_bin

SKIPS: list[dict[str, str]] = yaml.safe_load((REPO_ROOT / "security" / "checkov-skips.yaml").read_text())
RENDERS = {
    "default": EXAMPLES / "minimal.yaml",
    "every-option": FIXTURES / "values" / "everything.yaml",
}


def checkov_path() -> Path:
    path = tools_bin() / "checkov"
    if not path.exists():
        missing(str(path))
    return path


@cache
def failed_checks(render_name: str, skip: bool, folder: Path) -> list[tuple[str, str]]:
    """(check id, resource) of every failed check; the render is namespaced like a real install."""
    manifest = folder / f"{render_name}.yaml"
    manifest.write_text(helm_template(helm_path("helm4"), RENDERS[render_name].read_text(encoding="utf-8")))
    command = [str(checkov_path()), "-f", str(manifest), "--framework", "kubernetes", "--skip-download",
               "--output", "json", "--quiet"]  # fmt: skip
    if skip:
        command += ["--skip-check", ",".join(s["id"] for s in SKIPS)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    report: Any = json.loads(result.stdout) if result.stdout.strip() else {}
    reports = report if isinstance(report, list) else [report]
    failed = []
    for item in reports:
        for check in item.get("results", {}).get("failed_checks", []):
            failed.append((check["check_id"], check["resource"]))
    if not reports or not any("summary" in r for r in reports):
        # An empty answer with --quiet means nothing failed; make sure checkov actually ran.
        assert result.returncode == 0, result.stderr[-2000:]
    return sorted(failed)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("checkov")


def test_every_skip_has_a_reason() -> None:
    # Short on purpose; CKV_K8S_23 and CKV_K8S_40 are one cause (stock TGI >= 3.1.1 runs only as uid 0).
    assert len(SKIPS) <= 6, "the skip list is meant to stay short"
    for skip in SKIPS:
        assert skip["id"].startswith(("CKV_K8S_", "CKV2_K8S_"))
        assert len(skip["reason"]) > 40


@pytest.mark.parametrize("render_name", sorted(RENDERS))
def test_no_failed_checks_beyond_the_skip_list(render_name: str, workdir: Path) -> None:
    assert failed_checks(render_name, True, workdir) == []


def test_checkov_runs_and_finds_real_problems(workdir: Path) -> None:
    """Without the skip list the default render fails the skipped checks: the gate is not a no-op."""
    failed = {check for check, _ in failed_checks("default", False, workdir)}
    assert "CKV_K8S_43" in failed


def test_each_skip_is_still_needed(workdir: Path) -> None:
    failing = {check for name in RENDERS for check, _ in failed_checks(name, False, workdir)}
    assert {s["id"] for s in SKIPS} <= failing, "remove skips that no longer fail"


def test_every_option_render_passes_the_checks_skipped_for_defaults(workdir: Path) -> None:
    """Digest, pull policy, NetworkPolicy and a non-root image are opt-in; turned on, they satisfy checkov."""
    failed = {check for check, _ in failed_checks("every-option", False, workdir)}
    assert failed.isdisjoint({"CKV_K8S_43", "CKV_K8S_15", "CKV2_K8S_6", "CKV_K8S_23", "CKV_K8S_40"})
