"""Checks of a running OpenAI-compatible engine (vLLM, SGLang) over HTTP: /health, /v1/models, a completion,
a streamed chat completion, and /metrics.

Standard library only, because the same file is the chart's `helm test` script for those engines:
`workload generate` copies it to charts/ml-inference-load/files/openai_check.py, and the test pod runs it
with plain Python. Run as a script it reads ENGINE_URL, ENGINE_TITLE, MODEL_ID and (optionally) API_KEY.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PROMPT = "Kubernetes is"


@dataclass(frozen=True)
class Check:
    """One check's outcome: what was checked, whether it passed, what was seen, and where to look if not."""

    name: str
    ok: bool
    detail: str
    hint: str = ""


class OpenAiClient:
    """A minimal OpenAI-API HTTP client. `host` overrides the Host header (to reach a gateway by address)."""

    def __init__(self, base_url: str, api_key: str = "", host: str = "", timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.host = host
        self.timeout = timeout

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> urllib.request.Request:
        headers = {"Accept": "*/*"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.host:
            headers["Host"] = self.host
        data = json.dumps(body).encode() if body is not None else None
        return urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
        """(status, body) of one request; HTTP errors are returned, not raised."""
        try:
            with urllib.request.urlopen(self._request(method, path, body), timeout=self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def stream(self, path: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Server-sent events of a streaming route, as JSON objects, up to `data: [DONE]`."""
        request = self._request("POST", path, body)
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            for raw in response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("data:"):
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    yield json.loads(payload)


def _error_text(body: bytes) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:200]
    error = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
    return str(error.get("message", error) if isinstance(error, dict) else error)[:200]


def _refused(name: str, status: int, body: bytes, title: str) -> Check:
    if status == 401:
        return Check(name, False, "401 Unauthorized", "the API key is missing or wrong (apiKey)")
    if status == 404:
        return Check(name, False, "404 Not Found", "the route is not exposed: check ingress.paths")
    return Check(name, False, f"{status}: {_error_text(body)}", f"read the {title} log for the request")


def check_health(client: OpenAiClient, title: str) -> Check:
    try:
        status, body = client.call("GET", "/health")
    except OSError as error:
        return Check("health", False, f"no answer: {error}", "is the pod Ready? kubectl describe pod; kubectl logs")
    if status == 200:
        return Check("health", True, "200 OK")
    return Check("health", False, f"{status}: {_error_text(body)}", f"{title} reports itself unhealthy; read its log")


def check_models(client: OpenAiClient, expected_model_id: str, title: str) -> Check:
    """GET /v1/models lists the served model (the chart serves it under model.id)."""
    try:
        status, body = client.call("GET", "/v1/models")
        listed = [m.get("id") for m in json.loads(body).get("data", [])] if status == 200 else []
    except (OSError, ValueError, AttributeError) as error:
        return Check("models", False, f"no answer: {error}", "is the Service pointing at the pod's http port?")
    if status != 200:
        return _refused("models", status, body, title)
    if expected_model_id and expected_model_id not in listed:
        return Check("models", False, f"serves {listed}, expected {expected_model_id!r}",
                     "another release answers on this address, or model.id changed without a rollout")  # fmt: skip
    return Check("models", True, f"serves {', '.join(str(m) for m in listed)}")


def check_completion(client: OpenAiClient, model_id: str, title: str) -> Check:
    body = {"model": model_id, "prompt": PROMPT, "max_tokens": 8}
    try:
        status, raw = client.call("POST", "/v1/completions", body)
        answer = json.loads(raw) if status == 200 else {}
    except (OSError, ValueError) as error:
        return Check("completion", False, f"no answer: {error}", "check the route and the pod log")
    if status != 200:
        return _refused("completion", status, raw, title)
    text = ((answer.get("choices") or [{}])[0]).get("text")
    if not isinstance(text, str):
        return Check("completion", False, "no choices[0].text in the answer", f"is this a {title} server?")
    return Check("completion", True, f"{len(text)} characters: {text[:40]!r}")


def check_chat_stream(client: OpenAiClient, model_id: str, title: str) -> Check:
    """A streamed chat completion, as the openai client sends it: deltas, then a finish reason."""
    body = {"model": model_id, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 8, "stream": True}
    deltas, finish = 0, None
    try:
        for event in client.stream("/v1/chat/completions", body):
            for choice in event.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    deltas += 1
                finish = choice.get("finish_reason") or finish
    except urllib.error.HTTPError as error:
        return _refused("chat_stream", error.code, error.read(), title)
    except (OSError, ValueError) as error:
        return Check("chat_stream", False, f"stream broke: {error}",
                     "a proxy may buffer or cut server-sent events; check route timeouts")  # fmt: skip
    if deltas == 0 or finish is None:
        return Check("chat_stream", False, f"{deltas} content deltas, finish reason {finish}",
                     f"the stream ended early; check gateway timeouts and the {title} log")  # fmt: skip
    return Check("chat_stream", True, f"{deltas} content deltas, finish reason {finish}")


def metric_total(client: OpenAiClient, name: str) -> float | None:
    """Sum of one Prometheus metric's samples (all label sets), or None if absent or unreachable."""
    try:
        status, raw = client.call("GET", "/metrics")
    except OSError:
        return None
    if status != 200:
        return None
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in raw.decode("utf-8").splitlines()
        if line.startswith(name) and line[len(name) : len(name) + 1] in (" ", "{")
    ]
    return sum(values) if values else None


def request_checks(client: OpenAiClient, model_id: str, title: str) -> list[Check]:
    """The request checks in order: /health, /v1/models (serving model_id), a completion, a streamed chat."""
    return [
        check_health(client, title),
        check_models(client, model_id, title),
        check_completion(client, model_id, title),
        check_chat_stream(client, model_id, title),
    ]


def main() -> int:
    client = OpenAiClient(os.environ["ENGINE_URL"], os.environ.get("API_KEY", ""))
    checks = request_checks(client, os.environ.get("MODEL_ID", ""), os.environ.get("ENGINE_TITLE", "engine"))
    for check in checks:
        line = f"{'PASS' if check.ok else 'FAIL'} {check.name}: {check.detail}"
        print(line + (f" (look at: {check.hint})" if not check.ok and check.hint else ""), flush=True)
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
