"""`workload validate --render` over folders: the same verdicts and objects as one render per file."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import CHART, EXAMPLES, FIXTURES, crds_dir, helm_path
from workload.cli import app
from workload.fleet import ObjectChecker, _render_batch, validate_fleet
from workload.helm import RenderOptions, template
from workload.kubeschema import CrdSchemas
from workload.models import WORKLOAD_TYPES

MEMBER = WORKLOAD_TYPES["ML_INFERENCE_LOAD"]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WORKLOAD_HELM", str(helm_path("helm4")))
    for source in [*EXAMPLES.glob("*.yaml"), *(FIXTURES / "values").glob("*.yaml")]:
        shutil.copy(source, tmp_path / source.name)
    (tmp_path / "broken.yaml").write_text((EXAMPLES / "minimal.yaml").read_text() + "gpus: 2\n")
    (tmp_path / "cross.yaml").write_text((EXAMPLES / "minimal.yaml").read_text() + "ingress: {enabled: true}\n")
    (tmp_path / "notes.txt").write_text("not a values file: ignored by the folder expansion")
    return tmp_path


def test_folder_verdicts(folder: Path) -> None:
    crds = CrdSchemas(sorted(crds_dir().glob("*.yaml"))) if crds_dir().is_dir() else None
    verdicts = {v.path.name: v for v in validate_fleet(sorted(folder.glob("*.yaml")), render=True, crds=crds)}
    assert {name for name, v in verdicts.items() if not v.valid} == {"broken.yaml", "cross.yaml"}
    assert verdicts["cross.yaml"].problems[0].path == "ingress.host"
    assert verdicts["everything.yaml"].objects >= 10


def test_umbrella_render_equals_one_render_per_file(folder: Path) -> None:
    """Batching is an implementation detail: each file's objects are exactly those of its own render."""
    files = [folder / "everything.yaml", folder / "minimal.yaml", folder / "llama-3.2-1b.yaml"]
    batched = _render_batch(helm_path("helm4"), MEMBER, [(f"w{i}", p) for i, p in enumerate(files)])
    for path in files:
        alone = template(
            MEMBER.chart_dir, [path], RenderOptions(release="fleet", namespace="default"), helm_path("helm4")
        )
        assert batched[path] == [d for d in yaml.safe_load_all(alone) if d], path.name


def test_a_failing_batch_falls_back_to_single_renders(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If helm fails on one file of a batch, the others still get their own verdicts."""
    charts = tmp_path / "charts"
    shutil.copytree(CHART, charts / CHART.name)
    trap = (
        '{{- if eq .Values.serviceName "qwen-small" }}{{ fail "trap: this chart copy refuses qwen-small" }}{{ end }}\n'
    )
    (charts / CHART.name / "templates" / "trap.yaml").write_text(trap)
    monkeypatch.setenv("WORKLOAD_CHARTS_DIR", str(charts))
    files = [folder / "minimal.yaml", folder / "llama-3.2-1b.yaml"]
    verdicts = {v.path.name: v for v in validate_fleet(files, render=True)}
    assert verdicts["llama-3.2-1b.yaml"].valid
    assert [str(p) for p in verdicts["minimal.yaml"].problems] == ["trap: this chart copy refuses qwen-small"]


def test_object_checker_reports_schema_faults() -> None:
    checker = ObjectChecker(("1.29",), None)
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"ports": "80"}}
    (problem,) = checker.problems(bad)
    assert problem.path == "manifests: Service/x"
    assert "Kubernetes 1.29" in problem.message
    custom = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert checker.problems(custom) == [], "custom kinds without CRDs are skipped, as kubernetes-validate does"


def test_cli_over_a_folder(folder: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--render", str(folder)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert sum(line.endswith(": ok") for line in lines) == len(list(folder.glob("*.yaml"))) - 2
    assert any(line.startswith(f"{folder / 'broken.yaml'}: gpus: unknown field") for line in lines)


_FORK_THREADS: list[set[str]] = []
os.register_at_fork(before=lambda: _FORK_THREADS.append({t.name for t in threading.enumerate()}))


def test_workers_are_forked_before_any_helm_thread_starts(folder: Path) -> None:
    """Forking while threads run can deadlock the child (CPython warns from 3.12): the checker workers
    must be forked while only the threads that were there before the call exist."""
    minimal = (EXAMPLES / "minimal.yaml").read_text(encoding="utf-8")
    for i in range(45):  # two batches of 40: the second goes to forked workers
        (folder / f"many-{i:02d}.yaml").write_text(minimal.replace("qwen-small", f"qwen-{i:02d}"), encoding="utf-8")
    before = {t.name for t in threading.enumerate()}
    _FORK_THREADS.clear()
    verdicts = validate_fleet(sorted(folder.glob("many-*.yaml")), render=True, jobs=2)
    assert all(v.valid for v in verdicts)
    assert _FORK_THREADS, "no worker was forked: the test does not test anything"
    assert all(threads <= before for threads in _FORK_THREADS), (before, _FORK_THREADS)
