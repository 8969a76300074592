"""A Kubernetes API server that serves recorded objects over plain HTTP, so the real `kubectl` binary
can be driven by the day-2 commands on a machine with no cluster.

It answers what those commands ask: API discovery, GET of one object, LIST with an equality label
selector, and pod logs (`tailLines`, `previous`). Objects and logs are plain dicts/strings a test sets
and may change between polls (the `state` attribute). Writes and port-forwarding are not served.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from serving import serve

# resource (plural) -> (group/version, kind)
RESOURCES = {
    "pods": ("v1", "Pod"),
    "secrets": ("v1", "Secret"),
    "events": ("v1", "Event"),
    "services": ("v1", "Service"),
    "deployments": ("apps/v1", "Deployment"),
    "replicasets": ("apps/v1", "ReplicaSet"),
    "httproutes": ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    "horizontalpodautoscalers": ("autoscaling/v2", "HorizontalPodAutoscaler"),
}


@dataclass
class ClusterState:
    """namespace -> resource -> objects, and (namespace, pod) -> log text (and previous-run log text)."""

    objects: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    logs: dict[tuple[str, str], str] = field(default_factory=dict)
    previous_logs: dict[tuple[str, str], str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    missing_groups: set[str] = field(default_factory=set)  # API groups this cluster does not serve

    def put(self, obj: dict[str, Any]) -> None:
        namespace = obj["metadata"].get("namespace", "default")
        resource = next(r for r, (_, kind) in RESOURCES.items() if kind == obj["kind"])
        items = self.objects.setdefault(namespace, {}).setdefault(resource, [])
        items[:] = [o for o in items if o["metadata"]["name"] != obj["metadata"]["name"]] + [obj]


def _discovery(path: str, missing_groups: set[str]) -> dict[str, Any] | None:
    groups = sorted({gv for gv, _ in RESOURCES.values() if "/" in gv and gv.split("/")[0] not in missing_groups})
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}  # fmt: skip
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": gv.split("/")[0], "versions": [{"groupVersion": gv, "version": gv.split("/")[1]}],
             "preferredVersion": {"groupVersion": gv, "version": gv.split("/")[1]}} for gv in groups]}  # fmt: skip
    for gv in ["v1", *groups]:
        if path == ("/api/v1" if gv == "v1" else f"/apis/{gv}"):
            resources = [{"name": r, "singularName": kind.lower(), "namespaced": True, "kind": kind,
                          "verbs": ["get", "list"]} for r, (g, kind) in RESOURCES.items() if g == gv]  # fmt: skip
            if gv == "v1":
                resources.append({"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod",
                                  "verbs": ["get"]})  # fmt: skip
            return {"kind": "APIResourceList", "groupVersion": gv, "resources": resources}
    return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _not_found(self, what: str) -> None:
        status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                  "message": f"{what} not found"}  # fmt: skip
        self._send(404, json.dumps(status).encode())

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        state = self.server.state
        state.requests.append(self.path)
        if (found := _discovery(url.path, state.missing_groups)) is not None:
            self._send(200, json.dumps(found).encode())
            return
        parts = url.path.strip("/").split("/")
        # /api/v1/namespaces/NS/RES[/NAME[/log]] or /apis/G/V/namespaces/NS/RES[/NAME]
        offset = 2 if parts[0] == "api" else 3
        if len(parts) < offset + 3 or parts[offset] != "namespaces":
            self._not_found(url.path)
            return
        namespace, resource = parts[offset + 1], parts[offset + 2]
        items = state.objects.get(namespace, {}).get(resource, [])
        if len(parts) == offset + 3:
            wanted = dict(p.split("=", 1) for p in query.get("labelSelector", [""])[0].split(",") if p)
            matching = [o for o in items if wanted.items() <= (o["metadata"].get("labels") or {}).items()]
            gv, kind = RESOURCES.get(resource, ("v1", "List"))
            body = {"kind": f"{kind}List", "apiVersion": gv, "metadata": {"resourceVersion": "1"}, "items": matching}
            self._send(200, json.dumps(body).encode())
            return
        name = parts[offset + 3]
        obj = next((o for o in items if o["metadata"]["name"] == name), None)
        if obj is None:
            self._not_found(f'{resource} "{name}"')
        elif len(parts) == offset + 5 and parts[offset + 4] == "log":
            source = state.previous_logs if query.get("previous") == ["true"] else state.logs
            lines = source.get((namespace, name), "").splitlines(keepends=True)
            if tail := query.get("tailLines"):
                lines = lines[-int(tail[0]) :]
            self._send(200, "".join(lines).encode(), "text/plain")
        else:
            self._send(200, json.dumps(obj).encode())


class _Server(ThreadingHTTPServer):
    state: ClusterState
    daemon_threads = True


@contextmanager
def serving(state: ClusterState) -> Iterator[str]:
    """Serve `state` on a free loopback port; yields the server URL for a kubeconfig."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = state
    with serve(server) as url:
        yield url


def write_kubeconfig(path: Path, server: str, namespace: str) -> Path:
    """A kubeconfig for one plain-HTTP API server (the recorded cluster)."""
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: recorded\n"
        f"clusters: [{{name: recorded, cluster: {{server: '{server}'}}}}]\n"
        f"contexts: [{{name: recorded, context: {{cluster: recorded, namespace: {namespace}, user: none}}}}]\n"
        "users: [{name: none, user: {}}]\n",
        encoding="utf-8",
    )
    return path
