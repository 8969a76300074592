"""A TGI simulator: serves Text Generation Inference's HTTP API with no GPU and no model.

A standard client (huggingface_hub, openai, text-generation) cannot tell it from TGI 3.3.7 at the
protocol level: the same routes, request checks, response bodies, error bodies and status codes, and
server-sent-event framing, each taken from TGI's router (docs/reference/tgi-router.md cites file and
line). The text is deterministic (the same request gives the same answer) and each token can take a
configurable time, so streams, timeouts and concurrency limits behave as they would on a GPU.

Standard library only, because the same file runs in the chart's simulator pod on a plain Python image:
`workload generate` copies it to charts/ml-inference-load/files/tgi_simulator.py. It reads TGI's own
environment variables (MODEL_ID, PORT, HOSTNAME, API_KEY, MAX_INPUT_TOKENS, MAX_TOTAL_TOKENS,
MAX_CONCURRENT_REQUESTS), so the pod keeps the real container's environment; flags override them.
On SIGTERM it stops accepting connections and lets requests in flight finish, as TGI does.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import chain
from typing import Any

TGI_VERSION = "3.3.7"
KEEP_ALIVE_SECONDS = 15.0  # axum's default SSE keep-alive interval
# The answer the simulated model gives, one token per entry; it starts at a point chosen by the input.
WORDS = (
    " Kubernetes", " schedules", " containers", " onto", " nodes", ",", " restarts", " them", " when",
    " they", " fail", " and", " scales", " them", " with", " demand", ".",
)  # fmt: skip
EOS = {"id": 2, "text": "</s>", "logprob": -0.01, "special": True}
TOKEN = re.compile(r"\s*\S+")


@dataclass
class Settings:
    """What the simulated server reports in /info and enforces, with TGI's defaults."""

    model_id: str = "simulated/model"
    api_key: str = ""
    token_delay: float = 0.0  # seconds per generated token
    max_concurrent_requests: int = 128
    max_input_tokens: int = 4095
    max_total_tokens: int = 4096
    max_best_of: int = 2
    max_stop_sequences: int = 4
    max_client_batch_size: int = 4
    answer_tokens: int = 16  # tokens before the end-of-sequence token when max_new_tokens is not set
    drain_seconds: float = 90.0  # TGI's graceful termination timeout
    healthy: bool = True  # False: /health answers TGI's 503, to try probes and alerts


class ApiError(Exception):
    """An error TGI answers with: a status, and a JSON body {error, error_type} or plain text."""

    def __init__(self, status: int, message: str, error_type: str = "", plain: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.error_type, self.plain = status, message, error_type, plain

    def body(self) -> dict[str, str]:
        return {"error": self.message, "error_type": self.error_type}


def validation(message: str) -> ApiError:
    return ApiError(422, f"Input validation error: {message}", "validation")


def overloaded() -> ApiError:
    return ApiError(429, "Model is overloaded", "overloaded")


# ---------------------------------------------------------------------------------------------- tokens


def tokenize(text: str) -> list[dict[str, Any]]:
    """TGI's /tokenize shape: id, text and character offsets; a token is a word with its leading space."""
    return [
        {"id": 3 + zlib.crc32(m[0].encode()) % 32000, "text": m[0], "start": m.start(), "stop": m.end()}
        for m in TOKEN.finditer(text)
    ]


@dataclass
class Generation:
    """One request's generated tokens, computed up front (the text is deterministic)."""

    inputs: str
    input_length: int
    tokens: list[dict[str, Any]]
    finish_reason: str
    seed: int | None

    @property
    def text(self) -> str:
        return "".join(t["text"] for t in self.tokens if not t["special"])


def generate_tokens(inputs: str, params: Params, answer_tokens: int) -> Generation:
    """max_new_tokens words (finish 'length'), or without it a short answer and an end-of-sequence token."""
    start = zlib.crc32(inputs.encode()) % len(WORDS)
    budget, stop = params.max_new_tokens, params.stop
    tokens: list[dict[str, Any]] = []
    text, reason = "", "length"
    limit = budget if budget is not None else answer_tokens
    while len(tokens) < limit:
        word = WORDS[(start + len(tokens)) % len(WORDS)]
        tokens.append({"id": 1000 + WORDS.index(word), "text": word, "logprob": -0.25, "special": False})
        text += word
        if any(text.endswith(s) for s in stop if s):
            reason = "stop_sequence"
            break
    else:
        if budget is None:
            tokens.append(dict(EOS))
            reason = "eos_token"
    return Generation(inputs, len(tokenize(inputs)), tokens, reason, params.seed)


# ------------------------------------------------------------------------------------ request checks


def _field(body: dict[str, Any], name: str, kinds: tuple[type, ...], default: Any = None) -> Any:
    """A JSON field of the expected type, else the 422 plain-text answer axum's Json extractor gives."""
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) and bool not in kinds:
        value = object()  # JSON true is not a number for serde
    if not isinstance(value, kinds):
        raise ApiError(422, f"Failed to deserialize the JSON body into the target type: {name}: invalid type",
                       plain=True)  # fmt: skip
    return value


def _inputs(body: dict[str, Any]) -> str:
    """The `inputs` every generate-shaped request must carry, as serde requires it."""
    inputs = _field(body, "inputs", (str,))
    if inputs is None:
        raise ApiError(422, "Failed to deserialize the JSON body into the target type: missing field `inputs`",
                       plain=True)  # fmt: skip
    return str(inputs)


def parse_json(raw: bytes, content_type: str) -> dict[str, Any]:
    """axum's Json extractor: application/json or application/*+json, then JSON, then a JSON object."""
    mime = content_type.split(";", maxsplit=1)[0].strip().lower()
    if not (mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))):
        raise ApiError(415, "Expected request with `Content-Type: application/json`", plain=True)
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise ApiError(400, f"Failed to parse the request body as JSON: {error}", plain=True) from None
    if not isinstance(body, dict):
        raise ApiError(422, "Failed to deserialize the JSON body into the target type: expected a map", plain=True)
    return body


@dataclass
class Params:
    """The generation parameters TGI validates (router/src/validation.rs), checked the same way."""

    max_new_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    details: bool = False
    decoder_input_details: bool = False
    return_full_text: bool | None = None
    best_of: int | None = None
    seed: int | None = None
    top_n_tokens: int | None = None


def parse_params(raw: Any, settings: Settings) -> Params:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ApiError(422, "Failed to deserialize the JSON body into the target type: parameters", plain=True)
    number = (int, float)
    checks: tuple[tuple[str, Callable[[float], bool], str], ...] = (
        ("temperature", lambda x: x > 0, "`temperature` must be strictly positive"),
        ("repetition_penalty", lambda x: x > 0, "`repetition_penalty` must be strictly positive"),
        ("frequency_penalty", lambda x: -2 <= x <= 2, "`frequency_penalty` must be >= -2.0 and <= 2.0"),
        ("top_p", lambda x: 0 < x < 1, "`top_p` must be > 0.0 and < 1.0"),
        ("typical_p", lambda x: 0 < x < 1, "`typical_p` must be > 0.0 and < 1.0"),
        ("top_k", lambda x: x > 0, "`top_k` must be strictly positive"),
    )
    for name, check, message in checks:
        value = _field(raw, name, number)
        if value is not None and not check(value):
            raise validation(message)
    params = Params(
        max_new_tokens=_field(raw, "max_new_tokens", (int,)),
        stop=list(_field(raw, "stop", (list,), [])),
        details=bool(_field(raw, "details", (bool,), False)),
        decoder_input_details=bool(_field(raw, "decoder_input_details", (bool,), False)),
        return_full_text=_field(raw, "return_full_text", (bool,)),
        best_of=_field(raw, "best_of", (int,)),
        seed=_field(raw, "seed", (int,)),
        top_n_tokens=_field(raw, "top_n_tokens", (int,)),
    )
    if params.best_of is not None and not 0 < params.best_of <= settings.max_best_of:
        raise validation(f"`best_of` must be > 0 and <= {settings.max_best_of}. Given: {params.best_of}")
    if len(params.stop) > settings.max_stop_sequences:
        most = settings.max_stop_sequences
        raise validation(f"`stop` supports up to {most} stop sequences. Given: {len(params.stop)}")
    if params.max_new_tokens is not None and params.max_new_tokens <= 0:
        raise validation("`max_new_tokens` must be strictly positive")
    return params


def check_lengths(inputs: str, params: Params, settings: Settings) -> None:
    if not inputs:
        raise validation("`inputs` cannot be empty")
    length = len(tokenize(inputs))
    new = params.max_new_tokens if params.max_new_tokens is not None else settings.max_total_tokens - length
    if length + new > settings.max_total_tokens:
        raise validation(f"`inputs` tokens + `max_new_tokens` must be <= {settings.max_total_tokens}. "
                         f"Given: {length} `inputs` tokens and {new} `max_new_tokens`")  # fmt: skip
    if length > settings.max_input_tokens:
        raise validation(f"`inputs` must have less than {settings.max_input_tokens} tokens. Given: {length}")


def chat_prompt(body: dict[str, Any]) -> str:
    """The simulated chat template: each message as '<|role|>\\ncontent\\n', then the assistant's turn."""
    messages = _field(body, "messages", (list,))
    if messages is None:
        raise ApiError(422, "Failed to deserialize the JSON body into the target type: missing field `messages`",
                       plain=True)  # fmt: skip
    parts = []
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ApiError(422, "Failed to deserialize the JSON body into the target type: messages", plain=True)
        content = message.get("content") or ""
        if isinstance(content, list):
            content = "".join(c.get("text", "") for c in content if isinstance(c, dict))
        parts.append(f"<|{message['role']}|>\n{content}\n")
    return "".join(parts) + "<|assistant|>\n"


# ------------------------------------------------------------------------------------------- metrics


class Metrics:
    """TGI's Prometheus metrics (names and types from docs/source/reference/metrics.md and the router)."""

    DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

    def __init__(self, settings: Settings) -> None:
        self.lock = threading.Lock()
        # Token histograms get TGI's 64 linear buckets up to their limit (router/src/server.rs, the exporter's
        # buckets for tgi_request_input_length and tgi_request_generated_tokens); durations the ones above.
        self.buckets: dict[str, tuple[float, ...]] = {
            "tgi_request_input_length": tuple(settings.max_input_tokens / 64 * (i + 1) for i in range(64)),
            "tgi_request_generated_tokens": tuple(settings.max_total_tokens / 64 * (i + 1) for i in range(64)),
        }
        self.counters: dict[str, float] = {"tgi_request_count": 0, "tgi_request_success": 0}
        self.failures: dict[str, float] = {}
        self.running = 0
        self.running_tokens = 0
        self.max_total_tokens = settings.max_total_tokens * settings.max_concurrent_requests
        self.histograms: dict[str, list[float]] = {}

    def count(self, name: str) -> None:
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + 1

    def fail(self, error_type: str) -> None:
        with self.lock:
            self.failures[error_type] = self.failures.get(error_type, 0) + 1

    def observe(self, name: str, value: float) -> None:
        with self.lock:
            self.histograms.setdefault(name, []).append(value)

    def render(self) -> str:
        with self.lock:
            lines = []
            for name, value in sorted(self.counters.items()):
                lines += [f"# TYPE {name} counter", f"{name} {value:g}"]
            if self.failures:
                lines.append("# TYPE tgi_request_failure counter")
                lines += [f'tgi_request_failure{{err="{k}"}} {v:g}' for k, v in sorted(self.failures.items())]
            gauges = {
                "tgi_queue_size": 0,
                "tgi_batch_current_size": self.running,
                "tgi_batch_current_max_tokens": self.running_tokens,
                "tgi_batch_max_total_tokens": self.max_total_tokens,
            }
            for name, value in gauges.items():
                lines += [f"# TYPE {name} gauge", f"{name} {value}"]
            for name, values in sorted(self.histograms.items()):
                lines.append(f"# TYPE {name} histogram")
                for bound in self.buckets.get(name, self.DURATION_BUCKETS):
                    lines.append(f'{name}_bucket{{le="{bound:g}"}} {sum(v <= bound for v in values)}')
                lines += [f'{name}_bucket{{le="+Inf"}} {len(values)}', f"{name}_sum {sum(values):g}",
                          f"{name}_count {len(values)}"]  # fmt: skip
            return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------------- server


class Simulator(ThreadingHTTPServer):
    daemon_threads = True
    # A load test opens hundreds of connections at once: with socketserver's backlog of 5 the kernel drops the
    # rest of the burst and each client waits for its SYN retry (1 s) or gives up (found with 50 concurrent
    # streams from the openai client). The kernel caps it at net.core.somaxconn.
    request_queue_size = 4096

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away is no server error: no traceback for it (others as socketserver says)."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    def __init__(self, address: tuple[str, int], settings: Settings) -> None:
        super().__init__(address, Handler)
        self.settings = settings
        self.metrics = Metrics(settings)
        self.slots = threading.BoundedSemaphore(settings.max_concurrent_requests)
        self.in_flight = 0
        self.idle = threading.Condition()
        self.draining = False

    def info(self) -> dict[str, Any]:
        s = self.settings
        return {
            "model_id": s.model_id, "model_sha": None, "model_pipeline_tag": "text-generation",
            "max_concurrent_requests": s.max_concurrent_requests, "max_best_of": s.max_best_of,
            "max_stop_sequences": s.max_stop_sequences, "max_input_tokens": s.max_input_tokens,
            "max_total_tokens": s.max_total_tokens, "validation_workers": 2,
            "max_client_batch_size": s.max_client_batch_size, "router": "text-generation-router",
            "version": TGI_VERSION, "sha": None, "docker_label": None,
        }  # fmt: skip

    def fingerprint(self) -> str:
        return f"{TGI_VERSION}-native"

    def drain(self) -> None:
        """Stop accepting, then wait (up to drain_seconds) for requests in flight, as TGI does on SIGTERM."""
        self.draining = True
        self.shutdown()
        self.socket.close()  # new connections are refused from now on, as axum's graceful shutdown does
        deadline = time.monotonic() + self.settings.drain_seconds
        with self.idle:
            while self.in_flight and time.monotonic() < deadline:
                self.idle.wait(deadline - time.monotonic())


# Routes that need the API key when one is set (router/src/server.rs lines 2203-2235).
PROTECTED = {"/", "/generate", "/generate_stream", "/v1/chat/completions", "/v1/completions", "/vertex",
             "/invocations", "/tokenize"}  # fmt: skip


class Handler(BaseHTTPRequestHandler):
    server: Simulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def send_response(self, code: int, message: str | None = None) -> None:
        """Status line and Date, without the Server header http.server adds (TGI's axum sends none)."""
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    # --- responses

    def _send(self, status: int, body: bytes, content_type: str = "", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.server.draining:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload, separators=(",", ":")).encode(), "application/json", headers)

    def _error(self, error: ApiError) -> None:
        if error.plain:
            self._send(error.status, error.message.encode(), "text/plain; charset=utf-8")
        else:
            self._json(error.status, error.body())

    def _events(self, events: Iterator[Any], headers: dict[str, str] | None = None) -> None:
        """Server-sent events as axum 0.7 writes them: `data: {json}` and a blank line; `:` keep-alives."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        last = time.monotonic()
        for event in events:
            if event is None:  # a pause: keep the connection alive as axum does
                if time.monotonic() - last >= KEEP_ALIVE_SECONDS:
                    self._chunk(b":\n\n")
                    last = time.monotonic()
                continue
            data = event if isinstance(event, str) else json.dumps(event, separators=(",", ":"))
            self._chunk(f"data: {data}\n\n".encode())
            last = time.monotonic()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    # --- dispatch

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        handler = GET_ROUTES.get(path)
        if handler is None:
            self._send(405 if path in POST_ROUTES else 404, b"")
            return
        with self._in_flight():
            handler(self)

    @contextmanager
    def _in_flight(self) -> Iterator[None]:
        """Counts the request as in flight, so a drain waits for it."""
        with self.server.idle:
            self.server.in_flight += 1
        try:
            yield
        finally:
            with self.server.idle:
                self.server.in_flight -= 1
                self.server.idle.notify_all()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        handler = POST_ROUTES.get(path)
        if handler is None:
            self._send(405 if path in GET_ROUTES else 404, b"")
            return
        if path in PROTECTED and not self._authorised():
            self._send(401, b"")
            return
        with self._in_flight():
            try:
                handler(self, parse_json(raw, self.headers.get("Content-Type", "")))
            except ApiError as error:
                if error.error_type:
                    self.server.metrics.fail(error.error_type)
                self._error(error)
            except (ConnectionError, TimeoutError):
                self.close_connection = True  # the client went away mid-stream; nothing to answer

    def _authorised(self) -> bool:
        key = self.server.settings.api_key
        given = self.headers.get("Authorization")
        return not key or (given is not None and given.lower() == f"Bearer {key}".lower())

    # --- GET routes

    def _health(self) -> None:
        if self.server.settings.healthy:
            self._send(200, b"")
        else:
            self._json(503, {"error": "unhealthy", "error_type": "healthcheck"})

    def _info(self) -> None:
        self._json(200, self.server.info())

    def _metrics(self) -> None:
        self._send(200, self.server.metrics.render().encode(), "text/plain; charset=utf-8")

    def _models(self) -> None:
        model = self.server.settings.model_id
        self._json(200, {"object": "list", "data": [{"id": model, "object": "model", "created": 0, "owned_by": model}]})

    # --- generation core

    def _run(self, inputs: str, params: Params, count: bool = True) -> Generation:
        settings = self.server.settings
        if count:
            self.server.metrics.count("tgi_request_count")
        check_lengths(inputs, params, settings)
        return generate_tokens(inputs, params, settings.answer_tokens)

    def _tokens(self, generation: Generation) -> Iterator[dict[str, Any] | None]:
        """Each token after the per-token delay, with keep-alive pauses (None) in long waits."""
        delay = self.server.settings.token_delay
        metrics = self.server.metrics
        started = time.monotonic()
        with metrics.lock:
            metrics.running += 1
            metrics.running_tokens += generation.input_length + len(generation.tokens)
        try:
            for token in generation.tokens:
                deadline = time.monotonic() + delay
                while (left := deadline - time.monotonic()) > 0:
                    time.sleep(min(left, 1.0))
                    yield None
                yield token
        finally:
            with metrics.lock:
                metrics.running -= 1
                metrics.running_tokens -= generation.input_length + len(generation.tokens)
            elapsed = time.monotonic() - started
            metrics.count("tgi_request_success")
            metrics.observe("tgi_request_duration", elapsed)
            metrics.observe("tgi_request_inference_duration", elapsed)
            metrics.observe("tgi_request_mean_time_per_token_duration", elapsed / max(len(generation.tokens), 1))
            # Recorded with the ones above on every success (docs/source/reference/metrics.md): the simulator
            # admits at once, so nothing queues.
            metrics.observe("tgi_request_queue_duration", 0.0)
            metrics.observe("tgi_request_generated_tokens", len(generation.tokens))
            metrics.observe("tgi_request_input_length", generation.input_length)

    def _complete(self, generation: Generation) -> None:
        for _ in self._tokens(generation):
            pass

    def _generate_now(self, inputs: str, params: Params) -> Generation:
        """A whole generation in a concurrency slot, as the non-streaming routes answer; 429 when full."""
        if not self._slot():
            self.server.metrics.count("tgi_request_count")
            raise overloaded()
        try:
            generation = self._run(inputs, params)
            self._complete(generation)
        finally:
            self._release()
        return generation

    def _openai_stream(
        self, prompt: str, params: Params, chunks: Callable[[dict[str, Any]], Iterator[dict[str, Any]]]
    ) -> Iterator[dict[str, Any] | str | None]:
        """TGI's token stream as an OpenAI stream: errors in OpenAI's event shape, then data: [DONE]."""
        for event in self._stream_events({"inputs": prompt, "parameters": _plain(params)}, False):
            if event is None:
                yield None
            elif "error" in event:
                yield {"error": {"message": event["error"], "http_status_code": 422}}
            else:
                yield from chunks(event)

    def _slot(self) -> bool:
        """A concurrency slot (TGI's semaphore of max_concurrent_requests); False when all are taken."""
        return self.server.slots.acquire(blocking=False)

    def _release(self) -> None:
        self.server.slots.release()

    def _generate_body(self, body: dict[str, Any], default_full_text: bool) -> tuple[dict[str, Any], dict[str, str]]:
        inputs = _inputs(body)
        params = parse_params(body.get("parameters"), self.server.settings)
        generation = self._generate_now(inputs, params)
        full_text = params.return_full_text if params.return_full_text is not None else default_full_text
        response: dict[str, Any] = {"generated_text": (inputs if full_text else "") + generation.text}
        if params.details or params.decoder_input_details:
            prefill = [{"id": t["id"], "text": t["text"], "logprob": None} for t in tokenize(inputs)]
            response["details"] = {
                "finish_reason": generation.finish_reason, "generated_tokens": len(generation.tokens),
                "seed": params.seed, "prefill": prefill if params.decoder_input_details else [],
                "tokens": generation.tokens,
            }  # fmt: skip
        headers = {"x-compute-type": "simulated", "x-prompt-tokens": str(generation.input_length),
                   "x-generated-tokens": str(len(generation.tokens))}  # fmt: skip
        return response, headers

    def _stream_events(self, body: dict[str, Any], default_full_text: bool) -> Iterator[dict[str, Any] | None]:
        """TGI's /generate_stream events; errors after the headers are events too, as in TGI."""
        inputs = _inputs(body)
        params = parse_params(body.get("parameters"), self.server.settings)

        def events() -> Iterator[dict[str, Any] | None]:
            self.server.metrics.count("tgi_request_count")
            if params.best_of not in (None, 1):
                self.server.metrics.fail("validation")
                yield validation("`best_of` != 1 is not supported when streaming tokens").body()
                return
            if params.decoder_input_details:
                self.server.metrics.fail("validation")
                yield validation("`decoder_input_details` == true is not supported when streaming tokens").body()
                return
            if not self._slot():
                self.server.metrics.fail("overloaded")
                yield overloaded().body()
                return
            try:
                generation = self._run(inputs, params, count=False)
            except ApiError as error:
                self._release()
                self.server.metrics.fail(error.error_type)
                yield error.body()
                return
            try:
                full_text = params.return_full_text if params.return_full_text is not None else default_full_text
                index = 0
                for token in self._tokens(generation):
                    if token is None:
                        yield None
                        continue
                    index += 1
                    last = index == len(generation.tokens)
                    details = None
                    if last and params.details:
                        details = {"finish_reason": generation.finish_reason,
                                   "generated_tokens": len(generation.tokens), "seed": params.seed,
                                   "input_length": generation.input_length}  # fmt: skip
                    yield {
                        "index": index, "token": token,
                        "generated_text": ((inputs if full_text else "") + generation.text) if last else None,
                        "details": details,
                    }  # fmt: skip
            finally:
                self._release()

        return events()

    # --- POST routes

    def _generate(self, body: dict[str, Any]) -> None:
        response, headers = self._generate_body(body, False)
        self._json(200, response, headers)

    def _generate_stream(self, body: dict[str, Any]) -> None:
        self._events(self._stream_events(body, False), {"x-compute-type": "simulated", "X-Accel-Buffering": "no"})

    def _compat(self, body: dict[str, Any]) -> None:
        """POST /: /generate_stream when `stream` is true, else /generate wrapped in a list (api-inference)."""
        if _field(body, "stream", (bool,), False):
            self._events(self._stream_events(body, True), {"x-compute-type": "simulated", "X-Accel-Buffering": "no"})
        else:
            response, headers = self._generate_body(body, True)
            self._json(200, [response], headers)

    def _chat(self, body: dict[str, Any]) -> None:
        settings = self.server.settings
        prompt = chat_prompt(body)
        model = _field(body, "model", (str,))
        model_id = settings.model_id if model in (None, "tgi") else model
        max_tokens = _field(body, "max_tokens", (int,), _field(body, "max_completion_tokens", (int,)))
        params = parse_params({"max_new_tokens": max_tokens, "stop": _field(body, "stop", (list,), []),
                               "temperature": _field(body, "temperature", (int, float)),
                               "top_p": _field(body, "top_p", (int, float)), "seed": _field(body, "seed", (int,)),
                               "frequency_penalty": _field(body, "frequency_penalty", (int, float)),
                               "details": True}, settings)  # fmt: skip
        stream = bool(_field(body, "stream", (bool,), False))
        options = _field(body, "stream_options", (dict,), {})
        created = int(time.time())
        base = {"id": "", "created": created, "model": model_id, "system_fingerprint": self.server.fingerprint()}
        if not stream:
            generation = self._generate_now(prompt, params)
            finish = "stop" if generation.finish_reason == "eos_token" else generation.finish_reason
            self._json(200, {
                "object": "chat.completion", **base,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": generation.text},
                             "logprobs": None, "finish_reason": finish}],
                "usage": _usage(generation),
            })  # fmt: skip
            return

        def chunks(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
            token, details = event["token"], event["details"]
            finish = None
            if details:
                finish = "stop" if details["finish_reason"] == "eos_token" else details["finish_reason"]
            content = "" if token["special"] else token["text"]
            yield {"object": "chat.completion.chunk", **base, "choices": [{
                "index": 0, "delta": {"role": "assistant", "content": content},
                "logprobs": None, "finish_reason": finish}], "usage": None}  # fmt: skip
            if details and options.get("include_usage"):
                usage = {"prompt_tokens": details["input_length"], "completion_tokens": details["generated_tokens"],
                         "total_tokens": details["input_length"] + details["generated_tokens"]}  # fmt: skip
                yield {"object": "chat.completion.chunk", **base, "choices": [], "usage": usage}

        self._events(
            chain(self._openai_stream(prompt, params, chunks), ["[DONE]"]),
            {"x-compute-type": "simulated", "X-Accel-Buffering": "no"},
        )

    def _completions(self, body: dict[str, Any]) -> None:
        settings = self.server.settings
        raw_prompt = body.get("prompt")
        prompts = [raw_prompt] if isinstance(raw_prompt, str) else raw_prompt
        if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
            raise ApiError(422, "Failed to deserialize the JSON body into the target type: prompt", plain=True)
        if body.get("suffix") is not None:
            raise ApiError(422, "Suffix is not supported and can be achieved by preprocessing the prompt.",
                           "suffix not supported")  # fmt: skip
        if len(prompts) > settings.max_client_batch_size:
            raise ApiError(422, "Number of prompts exceeds the maximum allowed batch size of "
                           f"{settings.max_client_batch_size}", "batch size exceeded")  # fmt: skip
        params = parse_params({"max_new_tokens": _field(body, "max_tokens", (int,)),
                               "stop": _field(body, "stop", (list,), []), "seed": _field(body, "seed", (int,)),
                               "temperature": _nonzero(_field(body, "temperature", (int, float))),
                               "top_p": _field(body, "top_p", (int, float)), "details": True}, settings)  # fmt: skip
        # Checked as TGI's serde does; TGI would take a model other than "tgi" as a LoRA adapter id.
        _field(body, "model", (str,))
        base = {"id": "", "created": int(time.time()), "model": settings.model_id,
                "system_fingerprint": self.server.fingerprint()}  # fmt: skip
        if not _field(body, "stream", (bool,), False):
            generations = []
            for prompt in prompts:
                generations.append(self._generate_now(prompt, params))
            usage = {key: sum(_usage(g)[key] for g in generations)
                     for key in ("prompt_tokens", "completion_tokens", "total_tokens")}  # fmt: skip
            self._json(200, {"object": "text_completion", **base, "choices": [
                {"index": i, "text": g.text, "logprobs": None, "finish_reason": g.finish_reason}
                for i, g in enumerate(generations)], "usage": usage})  # fmt: skip
            return

        def chunks(index: int, event: dict[str, Any]) -> Iterator[dict[str, Any]]:
            details = event["details"]
            choice = {"index": index, "text": event["token"]["text"], "logprobs": None,
                      "finish_reason": details["finish_reason"] if details else ""}  # fmt: skip
            chunk: dict[str, Any] = {"object": "text_completion", **base, "choices": [choice]}
            if details:
                prompt_tokens, generated = details["input_length"], details["generated_tokens"]
                chunk["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": generated,
                                  "total_tokens": prompt_tokens + generated}  # fmt: skip
            yield chunk

        streams = [self._openai_stream(p, params, partial(chunks, i)) for i, p in enumerate(prompts)]
        self._events(chain(*streams, ["[DONE]"]), {"x-compute-type": "simulated", "X-Accel-Buffering": "no"})

    def _tokenize(self, body: dict[str, Any]) -> None:
        inputs = _inputs(body)
        self._json(200, tokenize(inputs))

    def _chat_tokenize(self, body: dict[str, Any]) -> None:
        self.server.metrics.count("tgi_request_count")
        prompt = chat_prompt(body)
        self._json(200, {"tokenize_response": tokenize(prompt), "templated_text": prompt})

    def _invocations(self, body: dict[str, Any]) -> None:
        """SageMaker's route: a generate, chat or completion request, told apart by its fields."""
        if "messages" in body:
            self._chat(body)
        elif "prompt" in body:
            self._completions(body)
        else:
            self._compat(body)

    def _vertex(self, body: dict[str, Any]) -> None:
        """Vertex AI's route: {"instances": [{"inputs", "parameters"}]} -> {"predictions": [text]}."""
        instances = _field(body, "instances", (list,))
        if not instances:
            raise ApiError(422, "Input validation error", "Input validation error")
        predictions = []
        for instance in instances:
            response, _ = self._generate_body(instance if isinstance(instance, dict) else {}, False)
            predictions.append(response["generated_text"])
        self._json(200, {"predictions": predictions})


GET_ROUTES: dict[str, Callable[[Handler], None]] = {
    "/": Handler._health, "/health": Handler._health, "/ping": Handler._health, "/info": Handler._info,
    "/metrics": Handler._metrics, "/v1/models": Handler._models,
}  # fmt: skip
POST_ROUTES: dict[str, Callable[[Handler, dict[str, Any]], None]] = {
    "/": Handler._compat, "/generate": Handler._generate, "/generate_stream": Handler._generate_stream,
    "/v1/chat/completions": Handler._chat, "/v1/completions": Handler._completions, "/tokenize": Handler._tokenize,
    "/chat_tokenize": Handler._chat_tokenize, "/invocations": Handler._invocations, "/vertex": Handler._vertex,
}  # fmt: skip


def _usage(generation: Generation) -> dict[str, int]:
    generated = len(generation.tokens)
    return {"prompt_tokens": generation.input_length, "completion_tokens": generated,
            "total_tokens": generation.input_length + generated}  # fmt: skip


def _nonzero(temperature: float | None) -> float | None:
    """TGI's completions route treats temperature 0 as greedy decoding, not as an invalid temperature."""
    return None if temperature == 0 else temperature


def _plain(params: Params) -> dict[str, Any]:
    return {"max_new_tokens": params.max_new_tokens, "stop": params.stop, "seed": params.seed, "details": True}


# ----------------------------------------------------------------------------------------------- run


def settings_from_env(env: dict[str, str]) -> Settings:
    """TGI's environment variables, so the simulator pod can keep the real container's environment."""
    settings = Settings(model_id=env.get("MODEL_ID") or Settings.model_id, api_key=env.get("API_KEY", ""))
    for name, attribute in (("MAX_INPUT_TOKENS", "max_input_tokens"), ("MAX_TOTAL_TOKENS", "max_total_tokens"),
                            ("MAX_CONCURRENT_REQUESTS", "max_concurrent_requests")):  # fmt: skip
        if env.get(name):
            setattr(settings, attribute, int(env[name]))
    if env.get("GRACEFUL_TERMINATION_TIMEOUT"):
        settings.drain_seconds = float(env["GRACEFUL_TERMINATION_TIMEOUT"])
    if env.get("SIMULATOR_TOKEN_DELAY_MS"):
        settings.token_delay = float(env["SIMULATOR_TOKEN_DELAY_MS"]) / 1000
    return settings


def log(message: str, target: str = "text_generation_launcher") -> None:
    """A line in TGI's log format, so `workload deploy` and `verify` read the simulator's start-up too."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1e6) % 1_000_000:06d}Z"
    print(f"{stamp}  INFO {target}: {message}", flush=True)


def serve(settings: Settings, host: str, port: int, ready: Callable[[Simulator], None] | None = None) -> None:
    """Run until SIGTERM or SIGINT, then drain like TGI."""
    model = settings.model_id
    server = Simulator((host, port), settings)  # bind first: a busy port fails before any log line
    log(f"Starting check and download process for {model}", "download: text_generation_launcher")
    log("Files are already present on the host. Skipping download.")
    log(f"Successfully downloaded weights for {model}", "download: text_generation_launcher")
    log("Shard ready in 0.0s rank=0", "shard-manager: text_generation_launcher")
    log("Warming up model", "text_generation_router_v3: backends/v3/src/lib.rs:125")
    total = settings.max_total_tokens * settings.max_concurrent_requests
    log(f"Setting max batch total tokens to {total}", "text_generation_router_v3: backends/v3/src/lib.rs:137")
    log(f"Simulated TGI {TGI_VERSION} (no GPU, no weights) serving {model} on {host}:{server.server_address[1]}")
    log("Connected", "text_generation_router::server: router/src/server.rs:2406")
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log("signal received, starting graceful shutdown", "text_generation_router::server")
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # A short poll interval: on SIGTERM the listener closes within 50 ms.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    if ready:
        ready(server)
    stop.wait()
    server.drain()
    server.server_close()


def parse_args(argv: list[str], env: dict[str, str]) -> tuple[Settings, str, int]:
    """Flags; with --from-env (the chart's pod) TGI's environment variables give the defaults."""
    parser = argparse.ArgumentParser(prog="tgi_simulator", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--from-env", action="store_true", help="read MODEL_ID, API_KEY, MAX_* as TGI does")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--model-id")
    parser.add_argument("--api-key")
    parser.add_argument("--token-delay-ms", type=float)
    parser.add_argument("--max-concurrent-requests", type=int)
    args = parser.parse_args(argv)
    settings = settings_from_env(env) if args.from_env else Settings()
    for name in ("model_id", "api_key", "max_concurrent_requests"):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))
    if args.token_delay_ms is not None:
        settings.token_delay = args.token_delay_ms / 1000
    return settings, args.host, args.port


def main(argv: list[str] | None = None) -> int:
    settings, host, port = parse_args(sys.argv[1:] if argv is None else argv, dict(os.environ))
    serve(settings, host, port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
