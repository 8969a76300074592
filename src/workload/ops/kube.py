"""The real `kubectl`, driven as a subprocess: reading objects and logs, and port-forwarding.

Everything the day-2 commands know about a cluster comes through this class, so tests can run the
same code against recorded API objects served to the real kubectl binary (tests/fake_apiserver.py).
"""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from workload.chart_facts import CONTAINER_NAME
from workload.errors import ClusterError, ToolError, check_version, find_tool, run_tool
from workload.paths import tools_bin


def find_kubectl() -> str:
    """WORKLOAD_KUBECTL, else the checkout's .tools/bin/kubectl, else kubectl on PATH; kubectl >= 1.28."""
    binary = find_tool("kubectl", "WORKLOAD_KUBECTL", tools_bin())
    return check_version(binary, "kubectl", ["version", "--client", "--output", "json"], {1: (1, 28)})


def selector(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


class Kubectl:
    """kubectl bound to one namespace (and optionally a context) of the current kubeconfig."""

    def __init__(self, namespace: str, context: str | None = None, binary: str | None = None) -> None:
        self.namespace = namespace
        self.context = context
        self.binary = binary or find_kubectl()

    def _base(self) -> list[str]:
        command = [self.binary, "--namespace", self.namespace]
        if self.context:
            command += ["--context", self.context]
        return command

    def run(self, *args: str, timeout: float = 30) -> str:
        try:
            result = run_tool([*self._base(), *args], timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ClusterError(f"kubectl {args[0]} timed out after {timeout:.0f} s") from None
        if result.returncode != 0:
            first = next((ln for ln in result.stderr.splitlines() if ln.strip()), "kubectl failed")
            raise ClusterError(first.removeprefix("error: ").removeprefix("Error from server "))
        return result.stdout

    def get(self, resource: str, name: str) -> dict[str, Any] | None:
        """One object, or None when it does not exist."""
        try:
            found: dict[str, Any] = json.loads(self.run("get", resource, name, "--output", "json"))
        except ClusterError as error:
            if "NotFound" in str(error) or "not found" in str(error):
                return None
            raise
        return found

    def find(self, resource: str, labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
        args = ["get", resource, "--output", "json"]
        if labels:
            args += ["--selector", selector(labels)]
        items: list[dict[str, Any]] = json.loads(self.run(*args)).get("items", [])
        return items

    def logs(self, pod: str, container: str = CONTAINER_NAME, tail: int | None = None, previous: bool = False) -> str:
        args = ["logs", pod, "--container", container]
        if tail is not None:
            args += ["--tail", str(tail)]
        if previous:
            args.append("--previous")
        try:
            return self.run(*args)
        except ClusterError as error:
            if "waiting to start" in str(error) or "previous terminated container" in str(error):
                return ""
            raise

    def events_for(self, kind: str, name: str) -> list[dict[str, Any]]:
        """Events about one object, oldest first."""
        events = [
            e for e in self.find("events")
            if e.get("involvedObject", {}).get("kind") == kind and e.get("involvedObject", {}).get("name") == name
        ]  # fmt: skip
        return sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")

    @contextmanager
    def port_forward(self, target: str, remote_port: int, timeout: float = 20) -> Iterator[int]:
        """Forward a free local port to `target` (e.g. service/name); yields the local port."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            local = probe.getsockname()[1]
        try:
            process = subprocess.Popen(
                [*self._base(), "port-forward", target, f"{local}:{remote_port}", "--address", "127.0.0.1"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
        except OSError as error:
            raise ToolError(f"cannot run {self.binary}: {error.strerror or error}") from None
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    message = process.stderr.read().strip() if process.stderr else ""
                    raise ClusterError(f"port-forward to {target} failed: {message}")
                with socket.socket() as client:
                    if client.connect_ex(("127.0.0.1", local)) == 0:
                        break
                time.sleep(0.2)
            else:
                raise ClusterError(f"port-forward to {target} did not open within {timeout:.0f} s")
            yield local
        finally:
            process.terminate()
            process.wait(timeout=5)


def secret_value(kube: Kubectl, name: str, key: str) -> str | None:
    """A decoded key of a Secret, or None."""
    secret = kube.get("secret", name)
    if not secret or key not in (secret.get("data") or {}):
        return None
    return base64.b64decode(secret["data"][key]).decode()


def container_spec(deployment: dict[str, Any], container: str = CONTAINER_NAME) -> dict[str, Any]:
    """One container of a Deployment ({} when it has none by that name)."""
    specs = deployment["spec"]["template"]["spec"].get("containers", [])
    return next((spec for spec in specs if spec["name"] == container), {})


def container_env(deployment: dict[str, Any], container: str = CONTAINER_NAME) -> dict[str, Any]:
    """name -> literal value, or the valueFrom mapping, of one container of a Deployment."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container_spec(deployment, container).get("env", [])}


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)
