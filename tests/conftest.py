"""Shared fixtures: the real helm binaries, rendering, and the schema validators for rendered objects."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from workload.kubeschema import CrdSchemas
from workload.manifests import split_manifests
from workload.paths import REPO_ROOT, tools_bin

CHART = REPO_ROOT / "charts" / "ml-inference-load"
EXAMPLES = REPO_ROOT / "examples"
FIXTURES = Path(__file__).parent / "fixtures"
HELMS = ("helm3", "helm4")
KUBE_VERSIONS = ("1.29", "1.37")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(what: str) -> None:
    """Skip on a developer machine, but fail in CI: a check that silently did not run is no check."""
    if IN_CI:
        pytest.fail(f"{what} is missing; CI must have it (run scripts/setup.sh)")
    pytest.skip(f"{what} is missing (run scripts/setup.sh)")


def helm_path(name: str) -> Path:
    path = tools_bin() / name
    if not path.exists():
        missing(f"{path}")
    return path


@pytest.fixture(params=HELMS)
def helm(request: pytest.FixtureRequest) -> Path:
    """Each test using this runs once with Helm 3 and once with Helm 4."""
    return helm_path(request.param)


class HelmFailed(Exception):
    def __init__(self, stderr: str) -> None:
        super().__init__(stderr)
        self.stderr = stderr


@cache
def _template(helm: Path, values_text: str, extra: tuple[str, ...]) -> str:
    command = [str(helm), "template", "release-name", str(CHART), "--namespace", "test-ns", "--values", "-", *extra]
    result = subprocess.run(command, input=values_text, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise HelmFailed(result.stderr)
    return result.stdout


def helm_template(helm: Path, values_text: str, *extra: str) -> str:
    """Raw `helm template` output for values given as text (memoised: many tests render the same file)."""
    return _template(helm, values_text, tuple(extra))


def render_docs(helm: Path, values_text: str, *extra: str) -> list[dict[str, Any]]:
    return split_manifests(helm_template(helm, values_text, *extra))


Render = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def render(helm: Path) -> Render:
    """render(values_text, *helm_args) -> objects, with this test's helm."""
    return lambda values_text, *extra: render_docs(helm, values_text, *extra)


def crds_dir() -> Path:
    """The real CRDs, fetched by scripts/fetch-crds.sh (part of set-up); WORKLOAD_CRDS_DIR overrides."""
    return Path(os.environ.get("WORKLOAD_CRDS_DIR", REPO_ROOT / ".tools" / "crds"))


@pytest.fixture(scope="session")
def crds() -> CrdSchemas:
    folder = crds_dir()
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        missing(f"CRD folder {folder} (set WORKLOAD_CRDS_DIR)")
    return CrdSchemas(files)


def is_test_hook(doc: dict[str, Any]) -> bool:
    return bool((doc["metadata"].get("annotations") or {}).get("helm.sh/hook") == "test")


def kinds(docs: list[dict[str, Any]]) -> set[str]:
    """The kinds of the rendered objects."""
    return {d["kind"] for d in docs}


def by_kind(docs: list[dict[str, Any]], kind: str, *, test_hook: bool = False) -> dict[str, Any]:
    """The one object of a kind; the `helm test` hook objects are looked at only with test_hook=True."""
    found = [d for d in docs if d["kind"] == kind and is_test_hook(d) == test_hook]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    containers = by_kind(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


def env_of(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """name -> value (or the valueFrom mapping) of the inference container."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(docs)["env"]}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Cluster tests marked newest_kubernetes_only run on the newest Kubernetes the suite pins and are
    deselected (not skipped) on the others: a skip would hide a test that should have run."""
    from controlplane import KUBERNETES_VERSIONS  # noqa: PLC0415 (the cluster tests' module, loaded only here)

    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        version = callspec.params.get("cluster") if callspec is not None else None
        older = version is not None and version != KUBERNETES_VERSIONS[-1]
        (dropped if older and item.get_closest_marker("newest_kubernetes_only") else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
