"""`workload validate FILES-OR-FOLDERS`: plain files on their own, folders and --render through the fleet checker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from workload.problems import Problem
from workload.validation import check_values_file


def validate_paths(
    paths: list[Path],
    *,
    render: bool = False,
    kube_versions: Sequence[str] = (),
    crds: Path | None = None,
    jobs: int = 2,
    skipped: Callable[[Path, str], None] = lambda _path, _reason: None,
) -> dict[str, list[Problem]]:
    """`workload validate`: each file (or each values file of a folder) -> its problems ([] when valid).

    Plain files are checked on their own (the contract, and the fit when the model is in the cache); folders,
    and --render, go through the fleet checker (workload/fleet.py), which also renders with helm and checks
    every object. `skipped` hears of files in a folder that are passed over, and why.
    """
    if not render and not any(path.is_dir() for path in paths):
        return {str(path): check_values_file(path, fit=True).problems for path in paths}
    # Imported only here: the schema libraries cost start-up time a single-file check does not need.
    from workload.fleet import DEFAULT_KUBE_VERSIONS, expand, validate_fleet  # noqa: PLC0415
    from workload.kubeschema import CrdSchemas  # noqa: PLC0415

    crd_schemas = CrdSchemas(sorted(crds.glob("*.yaml"))) if crds else None
    found = expand(paths)
    for path, reason in found.skipped.items():
        skipped(path, reason)
    verdicts = validate_fleet(found.files, render=render, kube_versions=tuple(kube_versions or DEFAULT_KUBE_VERSIONS),
                              crds=crd_schemas, jobs=jobs)  # fmt: skip
    report = {str(v.path): v.problems for v in verdicts}
    for folder in found.empty_folders:
        report[str(folder)] = [Problem("", "no values files (.yaml, .yml or .json) in this folder")]
    return report
