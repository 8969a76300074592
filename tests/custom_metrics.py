"""A small custom metrics API (custom.metrics.k8s.io/v1beta1) registered with the test control plane, so
the real HPA controller can be driven: it serves one Pods metric, tgi_active_requests, with the value a
test sets, for the pods the label selector names. It stands in for prometheus-adapter serving the rule in
docs/autoscaling/prometheus-adapter-rules.yaml; the API's shape is k8s.io/metrics' custom_metrics v1beta1.

The API server's aggregator reaches it through a Service without a selector whose endpoint is this host's
non-loopback address (endpoints may not be loopback), with --enable-aggregator-routing.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

GROUP_VERSION = "custom.metrics.k8s.io/v1beta1"
METRIC = "tgi_active_requests"


def host_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


class MetricsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], pods: Callable[[str, str], list[str]]) -> None:
        super().__init__(address, Handler)
        self.pods = pods  # (namespace, label selector) -> pod names
        self.value = "0"  # what every pod reports
        self.requests: list[str] = []


class Handler(BaseHTTPRequestHandler):
    server: MetricsServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        parts = [unquote(part) for part in url.path.strip("/").split("/")]  # the HPA sends pods/%2A/...
        self.server.requests.append(self.path)
        if url.path.rstrip("/") == f"/apis/{GROUP_VERSION}":
            self._json(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP_VERSION,
                             "resources": [{"name": f"pods/{METRIC}", "singularName": "", "namespaced": True,
                                            "kind": "MetricValueList", "verbs": ["get"]}]})  # fmt: skip
            return
        # /apis/custom.metrics.k8s.io/v1beta1/namespaces/<ns>/pods/<name or *>/<metric>
        if len(parts) == 8 and parts[3] == "namespaces" and parts[5] == "pods" and parts[7] == METRIC:
            namespace, name = parts[4], parts[6]
            selector = parse_qs(url.query).get("labelSelector", [""])[0]
            names = self.server.pods(namespace, selector) if name == "*" else [name]
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            items = [{"describedObject": {"kind": "Pod", "namespace": namespace, "name": pod, "apiVersion": "/v1"},
                      "metricName": METRIC, "timestamp": now, "value": self.server.value} for pod in names]  # fmt: skip
            self._json(200, {"kind": "MetricValueList", "apiVersion": GROUP_VERSION, "metadata": {}, "items": items})
            return
        self._json(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404})


@contextmanager
def custom_metrics_api(
    kubectl: Callable[..., str], cert: Path, key: Path, address: str, pods: Callable[[str, str], list[str]]
) -> Iterator[MetricsServer]:
    """Serve the API on `address` over TLS and register it (APIService, Service, Endpoints); removed after."""
    server = MetricsServer((address, 0), pods)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    manifest = f"""
apiVersion: v1
kind: Namespace
metadata: {{name: custom-metrics}}
---
apiVersion: v1
kind: Service
metadata: {{name: custom-metrics, namespace: custom-metrics}}
spec:
  ports: [{{name: https, port: 443, targetPort: {port}}}]
---
apiVersion: v1
kind: Endpoints
metadata: {{name: custom-metrics, namespace: custom-metrics}}
subsets:
  - addresses: [{{ip: {address}}}]
    ports: [{{name: https, port: {port}}}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {{name: v1beta1.custom.metrics.k8s.io}}
spec:
  group: custom.metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  insecureSkipTLSVerify: true
  service: {{name: custom-metrics, namespace: custom-metrics, port: 443}}
"""
    try:
        kubectl("apply", "-f", "-", input_text=manifest)
        yield server
    finally:
        kubectl("delete", "apiservice", "v1beta1.custom.metrics.k8s.io", "--ignore-not-found")
        kubectl("delete", "namespace", "custom-metrics", "--ignore-not-found", "--wait=false")
        server.shutdown()
        server.server_close()
