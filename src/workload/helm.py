"""Running the real `helm` binary, and reading its errors back as one-line problems."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from workload.errors import HelmError, check_version, find_tool, run_tool
from workload.paths import tools_bin
from workload.problems import Problem, field_path

__all__ = ["HelmError", "RenderOptions", "find_helm", "problems_from_helm_error", "template"]


def find_helm() -> Path:
    """WORKLOAD_HELM, else the checkout's .tools/bin/helm (Helm 4), else helm on PATH; Helm >= 3.17 or 4."""
    binary = find_tool("helm", "WORKLOAD_HELM", tools_bin())
    return Path(check_version(binary, "helm", ["version", "--template", "{{.Version}}"], {3: (3, 17), 4: (4, 0)}))


@dataclass(frozen=True)
class RenderOptions:
    release: str
    namespace: str
    kube_version: str | None = None
    api_versions: Sequence[str] = ()


def template(chart: Path, values_files: Sequence[Path], options: RenderOptions, helm: Path | None = None) -> str:
    """`helm template` the chart with the given values files; returns the manifests or raises HelmError."""
    command = [
        str(helm or find_helm()), "template", options.release, str(chart),
        "--namespace", options.namespace,
    ]  # fmt: skip
    for values in values_files:
        command += ["--values", str(values)]
    if options.kube_version:
        command += ["--kube-version", options.kube_version]
    for api in options.api_versions:
        command += ["--api-versions", api]
    result = run_tool(command)
    if result.returncode != 0:
        raise HelmError(problems_from_helm_error(result.stderr))
    return result.stdout


_HELM4_SCHEMA = re.compile(r"^- at '([^']*)': (.*)$")
_HELM3_SCHEMA = re.compile(r"^- ([^:]+): (.*)$")
_EXECUTION = re.compile(r"execution error at \([^)]*\): (.*)$")


def _pointer_to_path(pointer: str) -> str:
    """'/environmentVariables/0/name' -> 'environmentVariables[0].name' (JSON pointer escapes undone)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/") if p]
    return field_path(int(p) if p.isdigit() else p for p in parts)


def _dotted_to_path(dotted: str) -> str:
    """Helm 3's 'environmentVariables.0.name' (or '(root)') -> 'environmentVariables[0].name'."""
    if dotted == "(root)":
        return ""
    return _pointer_to_path("/" + dotted.replace(".", "/"))


def problems_from_helm_error(stderr: str) -> list[Problem]:
    """Helm 3 and Helm 4 word schema errors differently; both become Problem(path, message)."""
    problems = []
    for raw in stderr.splitlines():
        line = raw.strip()
        if m := _HELM4_SCHEMA.match(line):
            problems.append(Problem(_pointer_to_path(m.group(1)), m.group(2)))
        elif m := _EXECUTION.search(line):
            path, _, message = m.group(1).partition(": ")
            problems.append(Problem(path, message) if message else Problem("", path))
        elif (m := _HELM3_SCHEMA.match(line)) and " " not in m.group(1):
            problems.append(Problem(_dotted_to_path(m.group(1)), m.group(2)))
    if not problems:
        first = next((ln for ln in stderr.splitlines() if ln.strip()), "helm failed with no message")
        problems.append(Problem("", first.removeprefix("Error: ").strip()))
    return problems
