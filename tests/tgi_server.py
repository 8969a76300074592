"""A TGI-protocol test server: the test double for a real TGI, which needs a GPU these machines lack.

It answers the routes the CLI and the helm test call, in TGI's own shapes, and records every exchange
so the tests can validate each response against TGI's published OpenAPI document
(../shared/reference/tgi-openapi.json). /generate_stream uses TGI's exact server-sent-event framing:
`data:{json}` then a blank line per event (axum's encoding, no space after the colon), the last event
carrying generated_text and details, no [DONE] marker, and a `:` keep-alive comment line.

One deliberate difference: real TGI writes `"details":null` on the events before the last, and the
published document types details as `allOf: [StreamDetails], nullable: true`, which openapi-core reads
as "not nullable". The double leaves the optional key out instead, which every reading accepts; the
client treats a missing and a null `details` alike (tested).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from serving import serve

PROTECTED = {"/", "/generate", "/generate_stream", "/v1/chat/completions", "/v1/completions", "/tokenize"}
WORDS = [" a", " container", " orchestration", " system", " for", " automating", " deployment", "."]


@dataclass
class Exchange:
    method: str
    path: str
    request_body: bytes
    status: int
    content_type: str
    response_body: bytes


@dataclass
class FakeTgi:
    """Behaviour switches a test can flip while the server runs."""

    model_id: str = "Qwen/Qwen2.5-0.5B-Instruct"
    api_key: str = ""
    healthy: bool = True
    version: str = "3.3.7"
    request_count: int = 0
    exchanges: list[Exchange] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id, "model_sha": None, "model_pipeline_tag": "text-generation",
            "max_concurrent_requests": 128, "max_best_of": 2, "max_stop_sequences": 4, "max_input_tokens": 2048,
            "max_total_tokens": 4096, "validation_workers": 2, "max_client_batch_size": 4,
            "router": "text-generation-router", "version": self.version, "sha": None, "docker_label": None,
        }  # fmt: skip

    def tokens(self, count: int) -> list[dict[str, Any]]:
        return [
            {"id": 100 + i, "text": WORDS[i % len(WORDS)], "logprob": -0.25, "special": False} for i in range(count)
        ]

    def metrics(self) -> str:
        return (
            "# HELP tgi_request_count Total number of requests\n# TYPE tgi_request_count counter\n"
            f'tgi_request_count{{method="POST"}} {self.request_count}\n'
            "# TYPE tgi_queue_size gauge\ntgi_queue_size 0\n"
        )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.tgi.exchanges.append(Exchange(self.command, self.path, self._body, status, content_type, body))

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _authorised(self) -> bool:
        key = self.server.tgi.api_key
        if key and self.path in PROTECTED and self.headers.get("Authorization") != f"Bearer {key}":
            self._send(401, b"", "")
            return False
        return True

    def do_GET(self) -> None:
        self._body = b""
        tgi = self.server.tgi
        if self.path == "/health":
            if tgi.healthy:
                self._send(200, b"", "")
            else:
                self._json(503, {"error": "unhealthy", "error_type": "healthcheck"})
        elif self.path == "/info":
            self._json(200, tgi.info())
        elif self.path == "/metrics":
            self._send(200, tgi.metrics().encode(), "text/plain; version=0.0.4")
        else:
            self._send(404, b"", "")

    def do_POST(self) -> None:
        self._body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if not self._authorised():
            return
        tgi = self.server.tgi
        try:
            request = json.loads(self._body)
            inputs = request["inputs"]
            parameters = request.get("parameters") or {}
            new_tokens = int(parameters.get("max_new_tokens") or 20)
        except (ValueError, KeyError, TypeError):
            self._json(422, {"error": "Input validation error", "error_type": "validation"})
            return
        tgi.request_count += 1
        tokens = tgi.tokens(new_tokens)
        text = "".join(t["text"] for t in tokens)
        if self.path == "/generate":
            details = {"finish_reason": "length", "generated_tokens": len(tokens), "seed": None,
                       "prefill": [], "tokens": tokens}  # fmt: skip
            self._json(200, {"generated_text": text, **({"details": details} if parameters.get("details") else {})})
        elif self.path == "/generate_stream":
            self._stream(tokens, text, len(inputs.split()))
        else:
            self._send(404, b"", "")

    def _stream(self, tokens: list[dict[str, Any]], text: str, input_length: int) -> None:
        events = []
        for index, token in enumerate(tokens):
            last = index == len(tokens) - 1
            event = {"index": index + 1, "token": token, "top_tokens": [], "generated_text": text if last else None}
            if last:
                event["details"] = {"finish_reason": "length", "generated_tokens": len(tokens),
                                    "input_length": input_length, "seed": None}  # fmt: skip
            events.append(event)
        body = b":\n\n" + b"".join(b"data:" + json.dumps(e, separators=(",", ":")).encode() + b"\n\n" for e in events)
        self._send(200, body, "text/event-stream")


class _Server(ThreadingHTTPServer):
    tgi: FakeTgi
    daemon_threads = True


@contextmanager
def running(tgi: FakeTgi) -> Iterator[str]:
    """Serve `tgi` on a free loopback port for the duration of the block; yields its base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.tgi = tgi
    with serve(server) as url:
        yield url
