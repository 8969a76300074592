"""`workload render`: validate, then render the manifests with the real helm; nothing is written unless both
succeed. One file per object when asked for a folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from workload.helm import HelmError, RenderOptions, template
from workload.manifests import split_manifests
from workload.problems import Problem
from workload.validation import check_values_file


@dataclass(frozen=True)
class Rendered:
    """The manifests, or the problems that stopped them (from the contract, or from helm)."""

    manifests: str
    problems: list[Problem]


def render_file(
    file: Path,
    *,
    release: str | None = None,
    namespace: str | None = None,
    kube_version: str | None = None,
    api_versions: tuple[str, ...] = (),
) -> Rendered:
    checked = check_values_file(file)
    if checked.values is None or checked.member is None:
        return Rendered("", checked.problems)
    document = checked.document or {}
    options = RenderOptions(
        release=release or str(document["serviceName"]),
        namespace=namespace or str(document.get("namespace") or "default"),
        kube_version=kube_version,
        api_versions=api_versions,
    )
    try:
        return Rendered(template(checked.member.chart_dir, [file], options), [])
    except HelmError as exc:
        return Rendered("", exc.problems)


def write_manifests(manifests: str, folder: Path) -> int:
    """One file per object, NN-kind-name.yaml, in the order helm rendered them; returns how many."""
    documents = split_manifests(manifests)
    folder.mkdir(parents=True, exist_ok=True)
    for index, doc in enumerate(documents):
        name = f"{index:02d}-{doc['kind'].lower()}-{doc['metadata']['name']}.yaml"
        (folder / name).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return len(documents)
