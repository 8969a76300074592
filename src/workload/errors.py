"""The user-facing failures of the `workload` command: one family, one line each, one exit code per kind.

Commands raise these; `cli.py` catches them in one place and prints the message as one line. Problems
with a values file are not exceptions (they are `Problem`s, reported per file with exit code 1).

| exit code | meaning |
|---|---|
| 0 | done; every check passed |
| 1 | the values, the render, the deploy or a check failed (each problem printed) |
| 2 | the command line is wrong (an unknown option or a value it does not take) |
| 3 | a tool is missing or cannot run (helm, kubectl), or a port cannot be listened on |
| 4 | the cluster or a server could not be reached or refused the request |
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from workload.problems import Problem


class ExitCode(IntEnum):
    """How a `workload` command ends (the table above); every command exits with one of these."""

    OK = 0
    FAILED = 1  # the values, the render, the deploy or a check failed
    USAGE = 2  # the command line (or an input it names) is wrong
    TOOL = 3  # a tool is missing or cannot run, or a port cannot be listened on
    UNREACHABLE = 4  # the cluster or a server could not be reached or refused the request


class WorkloadError(Exception):
    """A failure a person can act on; str() is one line."""

    exit_code: ClassVar[ExitCode] = ExitCode.FAILED

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()) if "\n" in message else message)


class ToolError(WorkloadError):
    """A tool the command needs is missing, or cannot be run."""

    exit_code = ExitCode.TOOL


class ClusterError(WorkloadError):
    """kubectl (and so the cluster) failed; the message is kubectl's first error line."""

    exit_code = ExitCode.UNREACHABLE


class HttpError(WorkloadError):
    """A server could not be reached or did not answer as the engine does."""

    exit_code = ExitCode.UNREACHABLE


class HelmError(WorkloadError):
    """helm failed; `problems` are the faults it reported, one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def find_tool(name: str, variable: str, project_bin: Path) -> str:
    """$variable (checked), else the project's tools folder, else PATH; a one-line ToolError otherwise."""
    if explicit := os.environ.get(variable):
        path = Path(explicit)
        if not path.is_file():
            raise ToolError(f"{variable}={explicit}: no such file; point it at a {name} binary, or unset it")
        if not os.access(path, os.X_OK):
            raise ToolError(f"{variable}={explicit}: not executable; point it at a {name} binary, or unset it")
        return explicit
    local = project_bin / name
    if local.exists():
        return str(local)
    if found := shutil.which(name):
        return found
    raise ToolError(f"{name} not found: run scripts/setup.sh in a checkout, put {name} on PATH, or set {variable}")


def check_version(binary: str, name: str, version_args: Sequence[str], minimums: dict[int, tuple[int, int]]) -> str:
    """The binary, if its version (vMAJOR.MINOR...) meets the minimum for its major version; else a ToolError."""
    result = _version_output(binary, tuple(version_args))
    match = re.search(r"v(\d+)\.(\d+)\.(\d+)", result.stdout + result.stderr)
    if result.returncode != 0 or match is None:
        raise ToolError(f"{binary} does not answer like {name} ({' '.join(version_args)} failed); {_WANTED[name]}")
    major, minor = int(match[1]), int(match[2])
    if major not in minimums or (major, minor) < minimums[major]:
        raise ToolError(f"{binary} is {name} {match[0]}; {_WANTED[name]}")
    return binary


@cache
def _version_output(binary: str, version_args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    return run_tool([binary, *version_args])  # once per binary and process: every helm call would repeat it


_WANTED = {
    "helm": "workload needs Helm >= 3.17 or Helm 4: install it from the Helm project's releases (or run "
    "scripts/setup.sh in a checkout) and put it on PATH, or set WORKLOAD_HELM",
    "kubectl": "workload needs kubectl >= 1.28: install it from the Kubernetes project's releases (or run "
    "scripts/setup.sh in a checkout) and put it on PATH, or set WORKLOAD_KUBECTL",
}


def run_tool(command: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """subprocess.run for helm and kubectl: a binary that cannot be started is a ToolError, not a traceback."""
    try:
        return subprocess.run(list(command), capture_output=True, text=True, check=False, **kwargs)
    except OSError as error:
        raise ToolError(f"cannot run {command[0]}: {error.strerror or error}") from None
