"""A recording path filter in front of the simulator: the test stand-in for the gateway.

It admits exactly the requests the rendered HTTPRoute's rules match (Exact and PathPrefix, as the Gateway
API defines them; anything else gets the 404 a gateway gives for no matching route) and forwards them to
the upstream unchanged, streaming the answer through. It records every exchange, so the tests can hold
each response to TGI's published schemas whichever client made it.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from serving import serve

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


@dataclass
class Exchange:
    method: str
    path: str
    request_body: bytes
    status: int
    content_type: str
    response_body: bytes


def route_matches(route: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, value) of every path match of an HTTPRoute."""
    found = []
    for rule in route["spec"]["rules"]:
        for match in rule.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]:
            path = match.get("path", {"type": "PathPrefix", "value": "/"})
            found.append((path.get("type", "PathPrefix"), path["value"]))
    return found


def admits(matches: list[tuple[str, str]] | None, path: str) -> bool:
    if matches is None:
        return True
    for kind, value in matches:
        if kind == "Exact" and path == value:
            return True
        if kind == "PathPrefix" and (value in ("/", path) or path.startswith(value.rstrip("/") + "/")):
            return True
    return False


@dataclass
class Gateway:
    upstream: str
    matches: list[tuple[str, str]] | None = None  # None: admit everything (a recorder only)
    exchanges: list[Exchange] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        gateway = self.server.gateway
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        if not admits(gateway.matches, path):
            gateway.exchanges.append(Exchange(self.command, path, body, 404, "", b""))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        target = urlsplit(gateway.upstream)
        upstream = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        response = upstream.getresponse()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        # Recorded as it passes, before the client sees it: a client may stop reading at its last event.
        exchange = Exchange(self.command, path, body, response.status, response.getheader("Content-Type") or "", b"")
        gateway.exchanges.append(exchange)
        while chunk := response.read1(65536):
            exchange.response_body += chunk
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        upstream.close()
        self.wfile.write(b"0\r\n\r\n")


class _Server(ThreadingHTTPServer):
    gateway: Gateway
    daemon_threads = True


@contextmanager
def running(gateway: Gateway) -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.gateway = gateway
    with serve(server) as url:
        yield url
