"""Validating many workload files at once: `workload validate --render FILES-OR-FOLDERS`.

For each file: the values contract (as `workload validate`), then the real `helm template`, then the
strict Kubernetes schemas of every rendered object (and the real CRDs for custom resources, when a CRD
folder is given). The checks are the same as a CI loop of `helm template` + `kubernetes-validate` per
file; the time is not. Profiling that loop (scripts/bench_fleet.py prints it) shows a process start per
file and per check dominating: helm ~50 ms, each kubernetes-validate run ~130 ms, while rendering one
workload takes a few ms inside one helm process and a cached schema validator checks an object in
about a millisecond. So valid files are rendered in batches, as aliased subcharts of one throw-away
umbrella chart (one helm process per batch, batches in parallel), and the objects are checked by
validators built once.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from workload.helm import HelmError, RenderOptions, find_helm, template
from workload.kubeschema import CrdSchemas, SchemaMissing, builtin_errors
from workload.models import WORKLOAD_TYPES, WorkloadType
from workload.problems import Problem
from workload.validation import check_values_file

DEFAULT_KUBE_VERSIONS = ("1.29", "1.37")
# Parsing helm's output is most of the Python time of a fleet check: use libyaml's loader when present.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Verdict:
    """One file's result: valid when it has no problems."""

    path: Path
    problems: list[Problem]
    objects: int = 0

    @property
    def valid(self) -> bool:
        return not self.problems


# Helm reads any values file as YAML, and JSON is YAML: folders are searched for these (any case).
VALUES_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Expanded:
    """Values files found in the paths given, and what was passed over in their folders, and why."""

    files: list[Path]
    skipped: dict[Path, str]
    empty_folders: list[Path]


def expand(paths: Iterable[Path]) -> Expanded:
    """Files as given; a folder gives its values files (sorted); other entries are reported as skipped."""
    files: list[Path] = []
    skipped: dict[Path, str] = {}
    empty: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        found = []
        for entry in sorted(path.iterdir()):
            if entry.name.startswith("."):
                continue  # hidden files (.gitkeep, editor swap files) are not values files by convention
            if entry.is_dir():
                skipped[entry] = "a folder; folders are not searched recursively"
            elif entry.suffix.lower() in VALUES_SUFFIXES:
                found.append(entry)
            else:
                skipped[entry] = "not a values file (.yaml, .yml or .json)"
        if not found:
            empty.append(path)
        files += found
    return Expanded(files, skipped, empty)


class ObjectChecker:
    """Strict checks of rendered objects; built-in kinds per Kubernetes version, custom kinds by CRD."""

    def __init__(self, kube_versions: Sequence[str], crds: CrdSchemas | None) -> None:
        self.kube_versions = kube_versions
        self.crds = crds

    def problems(self, doc: dict[str, Any]) -> list[Problem]:
        where = f"manifests: {doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
        found: list[Problem] = []
        for version in self.kube_versions:
            try:
                found += [Problem(where, f"Kubernetes {version}: {e}") for e in builtin_errors(doc, version)]
            except SchemaMissing:
                if self.crds is None:
                    break  # a custom resource and no CRDs given: skipped, as kubernetes-validate does
                sources = self.crds.sources(doc["apiVersion"], doc["kind"])
                if not sources:
                    found.append(Problem(where, f"no CRD defines {doc['apiVersion']} {doc['kind']}"))
                for source in sources:
                    found += [Problem(where, f"{source}: {e}") for e in self.crds.errors(doc, source)]
                break
        return found


def _umbrella(chart: Path, batch: list[tuple[str, Path]], folder: Path) -> Path:
    """A throw-away chart with one aliased copy of `chart` per file, each file's text under its alias."""
    root = folder / "fleet"
    (root / "charts").mkdir(parents=True)
    copy = root / "charts" / chart.name
    shutil.copytree(chart, copy)
    # Helm passes a `global` key to every subchart; the chart's strict schema must let that one through.
    schema_path = copy / "values.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    schema["properties"]["global"] = {"type": "object"}
    schema_path.write_text(json.dumps(schema), encoding="utf-8")
    chart_meta = yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8"))
    dependencies = [
        {"name": chart_meta["name"], "version": chart_meta["version"], "alias": alias} for alias, _ in batch
    ]
    (root / "Chart.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v2", "name": "fleet", "version": "0.0.0", "dependencies": dependencies}),
        encoding="utf-8",
    )
    # Each file's own text, indented under its alias, so helm parses exactly what the user wrote.
    with (root / "values.yaml").open("w", encoding="utf-8") as values:
        for alias, path in batch:
            values.write(f"{alias}:\n")
            # Split on "\n" only: str.splitlines() also splits on U+2028 and other characters that YAML
            # keeps inside a scalar, and would break such a value apart.
            for line in path.read_text(encoding="utf-8").split("\n"):
                values.write(f"  {line}\n" if line.strip(" \r") else "\n")
    return root


def _split(rendered: str) -> dict[str, list[dict[str, Any]]]:
    """helm output of the umbrella -> alias -> its objects (by the `# Source: fleet/charts/<alias>/` line)."""
    by_alias: dict[str, list[dict[str, Any]]] = {}
    for chunk in (part + "\n" for part in rendered.split("\n---\n")):  # keep block scalars' final newline
        source = next((ln for ln in chunk.splitlines() if ln.startswith("# Source: fleet/charts/")), None)
        doc = yaml.load(chunk, Loader=FAST_LOADER)
        if source and doc:
            by_alias.setdefault(source.split("/")[2], []).append(doc)
    return by_alias


def _render_batch(helm: Path, member: WorkloadType, batch: list[tuple[str, Path]]) -> dict[Path, Any]:
    """Path -> its objects, or -> list[Problem] when that file's render failed."""
    with tempfile.TemporaryDirectory(prefix="workload-fleet-") as folder:
        root = _umbrella(member.chart_dir, batch, Path(folder))
        result = subprocess.run(
            [str(helm), "template", "fleet", str(root)], capture_output=True, text=True, check=False
        )
    if result.returncode == 0:
        by_alias = _split(result.stdout)
        return {path: by_alias.get(alias, []) for alias, path in batch}
    # Something in the batch failed: render each file alone, as the user would, to know which.
    outcome: dict[Path, Any] = {}
    for _, path in batch:
        try:
            text = template(member.chart_dir, [path], RenderOptions(release="fleet", namespace="default"), helm)
            outcome[path] = [d for d in yaml.safe_load_all(text) if d]
        except HelmError as error:
            outcome[path] = error.problems
    return outcome


_checker: ObjectChecker | None = None  # a worker process's own checker (its validators are built once)


def _check_batch(checker: ObjectChecker, rendered: dict[Path, Any]) -> dict[Path, tuple[list[Problem], int]]:
    results: dict[Path, tuple[list[Problem], int]] = {}
    for path, outcome in rendered.items():
        if outcome and isinstance(outcome[0], Problem):
            results[path] = (list(outcome), 0)
        else:
            results[path] = ([p for doc in outcome for p in checker.problems(doc)], len(outcome))
    return results


def _check_in_worker(rendered: dict[Path, Any]) -> dict[Path, tuple[list[Problem], int]]:
    assert _checker is not None
    return _check_batch(_checker, rendered)


def validate_fleet(
    paths: Sequence[Path],
    *,
    render: bool,
    kube_versions: Sequence[str] = DEFAULT_KUBE_VERSIONS,
    crds: CrdSchemas | None = None,
    jobs: int = 2,
    batch_size: int = 40,
) -> list[Verdict]:
    global _checker  # noqa: PLW0603 - handed to forked workers, which inherit its warm validators
    verdicts = {path: Verdict(path, []) for path in paths}
    to_render: dict[str, list[Path]] = {}
    for path in paths:
        checked = check_values_file(path, fit=True)
        verdicts[path].problems = checked.problems
        if render and checked.member is not None and checked.values is not None:
            to_render.setdefault(checked.member.name, []).append(path)
    if not to_render:
        return list(verdicts.values())
    helm = find_helm()
    batches = [
        (WORKLOAD_TYPES[name], [(f"w{i:05d}", p) for i, p in enumerate(files[start : start + batch_size], start)])
        for name, files in to_render.items()
        for start in range(0, len(files), batch_size)
    ]
    _checker = ObjectChecker(kube_versions, crds)
    workers = max(1, jobs)
    # The first batch is rendered and checked here, before any thread exists: that builds every
    # validator once. The worker processes for the other batches are forked next, still before any
    # thread starts (forking a process that runs threads can deadlock the child on a lock a thread
    # held), and inherit the warm validators. Only then do helm renders run in threads.
    first, *rest = batches
    results = [_check_batch(_checker, _render_batch(helm, *first))]
    if rest:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as checkers:
            checkers.submit(int).result()  # forks every worker now (fork pools start all at the first submit)
            with ThreadPoolExecutor(max_workers=workers) as renderers:
                rendered = [renderers.submit(_render_batch, helm, member, batch) for member, batch in rest]
                pending = [checkers.submit(_check_in_worker, future.result()) for future in rendered]
            results += [job.result() for job in pending]
    for result in results:
        for path, (problems, objects) in result.items():
            verdicts[path].problems = problems
            verdicts[path].objects = objects
    return list(verdicts.values())
