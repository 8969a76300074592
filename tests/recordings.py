"""The recorded Kubernetes objects and TGI logs in tests/fixtures/recordings (see its README for which are
constructed and which are checked against the test control plane)."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from conftest import FIXTURES

RECORDINGS = FIXTURES / "recordings"


def recording(name: str) -> Any:
    return yaml.safe_load((RECORDINGS / name).read_text(encoding="utf-8"))


def log(name: str) -> str:
    return (RECORDINGS / "logs" / name).read_text(encoding="utf-8")


def pod(status: str) -> dict[str, Any]:
    """The recorded pod with one of the recorded statuses."""
    obj: dict[str, Any] = copy.deepcopy(recording("pod.yaml"))
    obj["status"] = copy.deepcopy(recording("pod-statuses.yaml")[status])
    return obj


POD_NAME = recording("pod.yaml")["metadata"]["name"]
