"""Checks of a running TGI server over HTTP: /health, /info, /generate, /generate_stream, the OpenAI
chat route /v1/chat/completions, and /metrics.

Standard library only, because the same file is the chart's `helm test` script: `workload generate`
copies it to charts/ml-inference-load/files/tgi_check.py, and the test pod runs it with plain Python.
Run as a script it reads TGI_URL, MODEL_ID and (optionally) API_KEY from the environment.
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


class TgiClient:
    """A minimal TGI HTTP client. `host` overrides the Host header (to reach a gateway by address)."""

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
        """Server-sent events of a streaming route, as JSON objects (comments and blank lines skipped)."""
        request = self._request("POST", path, body)
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            data: list[str] = []
            for raw in response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif not line and data:
                    payload = "\n".join(data)
                    data = []
                    if payload != "[DONE]":
                        yield json.loads(payload)


def _error_text(body: bytes) -> str:
    try:
        parsed = json.loads(body)
        return str(parsed.get("error", parsed)) if isinstance(parsed, dict) else str(parsed)
    except ValueError:
        return body.decode("utf-8", "replace")[:200]


def check_health(client: TgiClient) -> Check:
    try:
        status, body = client.call("GET", "/health")
    except OSError as error:
        return Check("health", False, f"no answer: {error}", "is the pod Ready? kubectl describe pod; kubectl logs")
    if status == 200:
        return Check("health", True, "200 OK")
    return Check("health", False, f"{status}: {_error_text(body)}", "TGI reports itself unhealthy; read the pod log")


def check_info(client: TgiClient, expected_model_id: str) -> Check:
    try:
        status, body = client.call("GET", "/info")
        info = json.loads(body) if status == 200 else {}
    except (OSError, ValueError) as error:
        return Check("info", False, f"no answer: {error}", "is the Service pointing at the pod's http port?")
    if status != 200:
        return Check("info", False, f"{status}: {_error_text(body)}", "GET /info should always answer")
    model = info.get("model_id")
    version = info.get("version", "?")
    if expected_model_id and model != expected_model_id:
        return Check("info", False, f"serves {model!r}, expected {expected_model_id!r}",
                     "another release answers on this address, or model.id changed without a rollout")  # fmt: skip
    return Check("info", True, f"model {model}, TGI {version}")


def check_generate(client: TgiClient) -> Check:
    body = {"inputs": PROMPT, "parameters": {"max_new_tokens": 8, "details": True}}
    try:
        status, raw = client.call("POST", "/generate", body)
    except OSError as error:
        return Check("generate", False, f"no answer: {error}", "check the route and the pod log")
    if status == 401:
        return Check("generate", False, "401 Unauthorized", "the API key is missing or wrong (apiKey)")
    if status != 200:
        return Check("generate", False, f"{status}: {_error_text(raw)}", "read the TGI log for the request")
    text = json.loads(raw).get("generated_text")
    if not isinstance(text, str):
        return Check("generate", False, "no generated_text in the answer", "is this a TGI server?")
    return Check("generate", True, f"{len(text)} characters: {text[:40]!r}")


def check_generate_stream(client: TgiClient) -> Check:
    body = {"inputs": PROMPT, "parameters": {"max_new_tokens": 8}}
    tokens, final = 0, None
    try:
        for event in client.stream("/generate_stream", body):
            if "token" in event:
                tokens += 1
            if event.get("generated_text") is not None:
                final = event
    except urllib.error.HTTPError as error:
        hint = "the API key is missing or wrong (apiKey)" if error.code == 401 else "read the TGI log"
        return Check("generate_stream", False, f"{error.code}: {_error_text(error.read())}", hint)
    except (OSError, ValueError) as error:
        return Check("generate_stream", False, f"stream broke: {error}",
                     "a proxy may buffer or cut server-sent events; check route timeouts")  # fmt: skip
    if tokens == 0 or final is None:
        return Check("generate_stream", False, f"{tokens} token events, final event: {final is not None}",
                     "the stream ended early; check gateway timeouts and the TGI log")  # fmt: skip
    return Check("generate_stream", True, f"{tokens} token events and a final generated_text")


def check_chat_completion(client: TgiClient) -> Check:
    """One OpenAI-style chat completion, as the openai and huggingface_hub clients send it."""
    body = {"model": "tgi", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 8}
    try:
        status, raw = client.call("POST", "/v1/chat/completions", body)
        answer = json.loads(raw) if status == 200 else {}
    except (OSError, ValueError) as error:
        return Check("chat_completion", False, f"no answer: {error}", "check the route and the pod log")
    if status == 401:
        return Check("chat_completion", False, "401 Unauthorized", "the API key is missing or wrong (apiKey)")
    if status == 404:
        return Check("chat_completion", False, "404 Not Found",
                     "/v1/chat/completions is not routed: check ingress.paths")  # fmt: skip
    if status != 200:
        hint = "the model may have no chat template; read the TGI log"
        return Check("chat_completion", False, f"{status}: {_error_text(raw)}", hint)
    choices = answer.get("choices") or [{}]
    content = (choices[0].get("message") or {}).get("content")
    if not isinstance(content, str):
        return Check("chat_completion", False, "no choices[0].message.content in the answer", "is this a TGI server?")
    return Check("chat_completion", True, f"{len(content)} characters: {content[:40]!r}")


def metric_total(client: TgiClient, name: str) -> float | None:
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


def request_checks(client: TgiClient, model_id: str) -> list[Check]:
    """The request checks in order: /health, /info (serving model_id, if given), generate, stream, chat."""
    return [
        check_health(client),
        check_info(client, model_id),
        check_generate(client),
        check_generate_stream(client),
        check_chat_completion(client),
    ]


def main() -> int:
    client = TgiClient(os.environ["TGI_URL"], os.environ.get("API_KEY", ""))
    checks = request_checks(client, os.environ.get("MODEL_ID", ""))
    for check in checks:
        line = f"{'PASS' if check.ok else 'FAIL'} {check.name}: {check.detail}"
        print(line + (f" (look at: {check.hint})" if not check.ok and check.hint else ""), flush=True)
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
