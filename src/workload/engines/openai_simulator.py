"""An OpenAI-compatible engine without a GPU or a model: vLLM's (and later SGLang's) HTTP API as the real
server answers it, with deterministic text, for `workload simulate --engine vllm` and the chart's
simulator mode. Each engine is a Profile (its routes, which of them the API key guards, its health and
drain semantics, its metric names and error bodies), written from the engine's source and from a real
vLLM server (docs/reference/vllm.md).

Standard library only: `workload generate` copies this file to charts/ml-inference-load/files/, and the
simulator pod runs it with plain Python and the engine's own command line (`--engine vllm MODEL --port ...`).
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
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WORDS = (
    "the", "cluster", "schedules", "each", "model", "server", "onto", "a", "node", "with", "a", "free",
    "accelerator", "and", "routes", "requests", "through", "the", "gateway", "while", "the", "autoscaler",
    "watches", "the", "queue", "and", "the", "cache",
)  # fmt: skip
TOKEN = re.compile(r"\s*\S+")
ENGINE_ABORT = "EngineCore encountered an issue. See stack trace (above) for the root cause."
LISTEN_BACKLOG = 4096  # every connection a load test opens is accepted (the kernel caps it at somaxconn)


class ApiError(Exception):
    """An engine's error answer (its body is the profile's: OpenAI's nested object for vLLM, flat for SGLang)."""

    def __init__(self, status: int, message: str, kind: str = "BadRequestError", param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param = status, message, kind, param


def nested_error(error: ApiError) -> dict[str, Any]:
    """vLLM: {"error": {"message", "type", "param", "code"}} (entrypoints/serve/engine/serving.py)."""
    return {"error": {"message": error.message, "type": error.kind, "param": error.param, "code": error.status}}


def flat_error(error: ApiError) -> dict[str, Any]:
    """SGLang: ErrorResponse(object="error", message, type, param, code) (srt/entrypoints/openai/protocol.py:106-111,
    serving_base.py:205-221)."""
    return {"object": "error", "message": error.message, "type": error.kind, "param": error.param,
            "code": error.status}  # fmt: skip


def vllm_budget(settings: Settings, used: int, limit: int | None, param: str) -> int:
    """vLLM 0.32.0: max_tokens above max_model_len and prompts above it are refused (renderers/params.py:256-268,
    521-535); otherwise max_tokens is cut to what the context leaves (entrypoints/serve/utils/api_utils.py:169-199)."""
    n = settings.max_model_len
    if limit is not None and limit > n:
        raise ApiError(400, f"{param}={limit} cannot be greater than max_model_len={n}. Please request fewer output "
                       f"tokens. (parameter={param}, value={limit})", param=param)  # fmt: skip
    if used > n:  # the tokenizer stops at n + 1 tokens, hence "at least" (params.py:521-528)
        raise ApiError(400, f"This model's maximum context length is {n} tokens. However, your prompt contains at "
                       f"least {n + 1} input tokens, which exceeds this limit even without any output tokens. Please "
                       f"reduce the length of the input prompt. (parameter=input_tokens, value={n + 1})",
                       param="input_tokens")  # fmt: skip
    return min(limit if limit is not None else settings.answer_tokens, n - used)


def sglang_budget(settings: Settings, used: int, limit: int | None, _param: str) -> int:
    """SGLang 0.5.23: the prompt must be shorter than the context, and prompt plus max_tokens must fit in it
    (srt/managers/tokenizer_manager.py:1337-1377; a ValueError is a 400 "BadRequest", serving_base.py)."""
    n = settings.max_model_len
    if used >= n:
        raise ApiError(400, f"The input ({used} tokens) is longer than the model's context length ({n} tokens).",
                       "BadRequest")  # fmt: skip
    if limit is not None and limit + used > n:
        raise ApiError(400, f"Requested token count exceeds the model's maximum context length of {n} tokens. You "
                       f"requested a total of {limit + used} tokens: {used} tokens from the input messages and {limit} "
                       "tokens for the completion. Please reduce the number of tokens in the input messages or the "
                       "completion to fit within the limit.", "BadRequest")  # fmt: skip
    return limit if limit is not None else min(settings.answer_tokens, n - used)


@dataclass(frozen=True)
class Shapes:
    """The fields an engine adds to OpenAI's answers (null unless a request asks for them), keyed by where they go."""

    answer: dict[str, Any] = field(default_factory=dict)  # a completion's or a chat answer's top level
    chat_answer: dict[str, Any] = field(default_factory=dict)  # a chat answer's top level, beyond `answer`
    usage: dict[str, Any] = field(default_factory=dict)
    text_choice: dict[str, Any] = field(default_factory=dict)  # a completion's choice
    chat_choice: dict[str, Any] = field(default_factory=dict)
    message: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)  # an entry of /v1/models
    text_chunk_choice: dict[str, Any] = field(default_factory=dict)  # a streamed completion chunk's choice
    chat_head: dict[str, Any] = field(default_factory=dict)  # the first chat chunk's top level
    chat_chunk_choice: dict[str, Any] = field(default_factory=dict)  # a streamed chat chunk's choice
    last_chunk: dict[str, Any] = field(default_factory=dict)  # the top level of the stream's last chunk
    finish_with_last_token: bool = False  # the last token's chunk carries finish_reason (no empty chunk after it)


# Measured on vLLM 0.32.0 (tests/test_real_vllm.py compares the simulator with the real server, call by call).
VLLM_FINGERPRINT = "vllm-0.32.0-5e2cd0f6"
VLLM_SHAPES = Shapes(
    answer={"service_tier": None, "system_fingerprint": VLLM_FINGERPRINT, "kv_transfer_params": None,
            "ec_transfer_params": None, "metrics": None},
    chat_answer={"prompt_logprobs": None, "prompt_token_ids": None, "prompt_text": None},
    usage={"prompt_tokens_details": None, "completion_tokens_details": None},
    text_choice={"token_ids": None, "prompt_logprobs": None, "prompt_token_ids": None, "routed_experts": None},
    chat_choice={"token_ids": None, "routed_experts": None},
    message={"refusal": None, "annotations": None, "audio": None, "function_call": None, "reasoning": None},
    model={"permission": [{"id": "modelperm-0", "object": "model_permission", "created": 0,
                           "allow_create_engine": False, "allow_sampling": True, "allow_logprobs": True,
                           "allow_search_indices": False, "allow_view": True, "allow_fine_tuning": False,
                           "organization": "*", "group": None, "is_blocking": False}]},
    text_chunk_choice={"stop_reason": None, "prompt_token_ids": None, "token_ids": None},
    chat_head={"prompt_token_ids": None, "prompt_text": None},
    chat_chunk_choice={"token_ids": None},
    last_chunk={"system_fingerprint": VLLM_FINGERPRINT},
    finish_with_last_token=True,
)  # fmt: skip


@dataclass(frozen=True)
class Profile:
    """What differs between OpenAI-compatible engines, as data."""

    name: str
    version: str
    guarded: Callable[[str], bool]  # the paths the API key guards
    unauthorised: bytes  # the 401 body
    owned_by: str  # /v1/models' owned_by
    running: str  # gauge of requests running
    waiting: str  # gauge of requests waiting
    kv_usage: str  # gauge of the KV cache's used share
    success: str  # counter of finished requests (by finished_reason where the engine labels it)
    prompt_tokens: str
    generation_tokens: str
    ttft: str  # histogram of time to first token
    e2e: str  # histogram of request latency
    itl: str  # histogram of the time between two tokens of a request
    labels: Callable[[str], str]  # the label set of the gauges, for a served model name
    drain_cuts: bool  # when the drain's time is up, streams in flight are cut with an error event
    draining_health: int  # what /health answers during the drain
    draining_refuses: bool  # new requests during the drain get 500
    success_reasons: bool  # the success counter is labelled with finished_reason
    routes: frozenset[tuple[str, str]]  # (method, path) it serves, of ROUTES
    error_body: Callable[[ApiError], dict[str, Any]]
    budget: Callable[[Settings, int, int | None, str], int]  # tokens to generate, or an ApiError
    # The label set of the request counters and histograms, where it differs from the gauges'.
    request_labels: Callable[[str], str] | None = None
    aborted: str | None = None  # a counter of aborted requests, where the engine has one
    shapes: Shapes = Shapes()
    not_found: str = "The model `{model}` does not exist."  # {model}: asked for, {served}: the served name
    no_prompt: str = "prompt must be a string"  # a completion without a prompt
    health_type: str = "application/json"  # /health's content type (vLLM sends none)


VLLM = Profile(
    name="vllm",
    version="0.32.0",
    # entrypoints/serve/middleware/register.py: the key guards /v1, /v2, /inference and /cohere only; the rest
    # (/health, /ping, /version, /load, /tokenize, /invocations, /metrics) answers without it (measured).
    guarded=lambda path: path.startswith(("/v1", "/v2", "/inference", "/cohere")),
    unauthorised=b'{"error":"Unauthorized"}',
    owned_by="vllm",
    running="vllm:num_requests_running",
    waiting="vllm:num_requests_waiting",
    kv_usage="vllm:kv_cache_usage_perc",
    success="vllm:request_success_total",
    prompt_tokens="vllm:prompt_tokens_total",
    generation_tokens="vllm:generation_tokens_total",
    ttft="vllm:time_to_first_token_seconds",
    e2e="vllm:e2e_request_latency_seconds",
    itl="vllm:inter_token_latency_seconds",
    labels=lambda model: f'engine="0",model_name="{model}"',
    drain_cuts=True,
    draining_health=200,  # measured: /health stays 200 while vLLM drains, and new requests get 500
    draining_refuses=True,
    success_reasons=True,
    error_body=nested_error,
    budget=vllm_budget,
    shapes=VLLM_SHAPES,
    not_found="The model `{model}` does not exist. Valid aliases: {served}.",  # engine/serving.py:75-79
    no_prompt="Either prompt or prompt_embeds must be provided and non-empty. (parameter=prompt)",  # measured
    health_type="",
    routes=frozenset(
        {
            ("GET", "/health"),
            ("GET", "/ping"),
            ("POST", "/ping"),
            ("GET", "/version"),
            ("GET", "/load"),
            ("GET", "/metrics"),
            ("GET", "/v1/models"),
            ("POST", "/tokenize"),
            ("POST", "/v1/completions"),
            ("POST", "/v1/chat/completions"),
            ("POST", "/invocations"),
        }
    ),
)
SGLANG = Profile(
    name="sglang",
    version="0.5.23",
    # srt/utils/auth.py:20-151: the key guards every route but /health*, /ready* and /metrics* (/ping included).
    guarded=lambda path: not path.startswith(("/health", "/ready", "/metrics")),
    unauthorised=b'{"error":"Unauthorized"}',
    owned_by="sglang",
    running="sglang:num_running_reqs",
    waiting="sglang:num_queue_reqs",
    kv_usage="sglang:token_usage",
    success="sglang:num_requests_total",  # no finish reason: counted per request (metrics_collector.py:1940)
    prompt_tokens="sglang:prompt_tokens_total",
    generation_tokens="sglang:generation_tokens_total",
    ttft="sglang:time_to_first_token_seconds",
    e2e="sglang:e2e_request_latency_seconds",
    itl="sglang:inter_token_latency_seconds",
    aborted="sglang:num_aborted_requests_total",  # metrics_collector.py:1960
    # The scheduler's gauges and the tokenizer's counters and histograms (observability/metrics_collector.py:
    # 1382-1392 and 1804-1811).
    labels=lambda model: f'engine_type="unified",model_name="{model}",moe_ep_rank="0",pp_rank="0",tp_rank="0"',
    request_labels=lambda model: f'engine_type="unified",model_name="{model}"',
    drain_cuts=False,  # the drain has no time limit (tokenizer_manager.py:3508-3560): the grace period ends it
    draining_health=503,  # /health answers 503 once SIGTERM set gracefully_exit (http_server.py:731-733)
    draining_refuses=False,  # new requests are not refused during the drain (inferred: no check in the path)
    success_reasons=False,
    error_body=flat_error,
    budget=sglang_budget,
    # srt/entrypoints/http_server.py:714-2215; no /version or /load route.
    routes=frozenset(
        {
            ("GET", "/health"),
            ("GET", "/health_generate"),
            ("GET", "/ready"),
            ("GET", "/ping"),
            ("GET", "/metrics"),
            ("GET", "/v1/models"),
            ("POST", "/tokenize"),
            ("POST", "/v1/completions"),
            ("POST", "/v1/chat/completions"),
            ("POST", "/invocations"),
        }
    ),
)
PROFILES = {profile.name: profile for profile in (VLLM, SGLANG)}


@dataclass(frozen=True)
class Settings:
    """What the simulated server serves and enforces."""

    profile: Profile = VLLM
    model_id: str = "simulated/model"  # the served model name
    api_key: str = ""
    token_delay: float = 0.0  # seconds per generated token
    max_concurrent_requests: int = 256  # running at once; the rest wait (vLLM's --max-num-seqs)
    max_model_len: int = 4096
    answer_tokens: int = 16  # tokens generated when max_tokens is not given
    drain_seconds: float = 0.0  # vLLM's --shutdown-timeout: 0 aborts what is in flight
    healthy: bool = True


def tokens_of(text: str) -> list[str]:
    return TOKEN.findall(text)


def answer(prompt: str, count: int) -> list[str]:
    """`count` deterministic tokens for a prompt: the same prompt always gets the same text."""
    start = sum(map(ord, prompt)) % len(WORDS)
    return [(" " if i else "") + WORDS[(start + i) % len(WORDS)] for i in range(count)]


class Metrics:
    """The engine's Prometheus metrics, by the profile's names."""

    BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)

    def __init__(self, settings: Settings) -> None:
        self.settings, self.lock = settings, threading.Lock()
        self.running = self.waiting = 0
        self.counters: dict[str, float] = {}
        self.histograms: dict[str, list[float]] = {}

    def add(self, name: str, value: float = 1) -> None:
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + value

    def observe(self, name: str, value: float) -> None:
        with self.lock:
            self.histograms.setdefault(name, []).append(value)

    def render(self) -> str:
        p, labels = self.settings.profile, self.settings.profile.labels(self.settings.model_id)
        with self.lock:
            usage = min(1.0, self.running * self.settings.answer_tokens / max(1, self.settings.max_model_len))
            lines = [f"# TYPE {p.running} gauge", f"{p.running}{{{labels}}} {self.running}",
                     f"# TYPE {p.waiting} gauge", f"{p.waiting}{{{labels}}} {self.waiting}",
                     f"# TYPE {p.kv_usage} gauge", f"{p.kv_usage}{{{labels}}} {usage}"]  # fmt: skip
            labels = (p.request_labels or p.labels)(self.settings.model_id)
            successes = {k: v for k, v in self.counters.items() if k.startswith(p.success)}
            lines.append(f"# TYPE {p.success.removesuffix('_total')} counter")
            if not p.success_reasons:
                lines.append(f"{p.success}{{{labels}}} {sum(successes.values()):g}")
            for reason in ("abort", "length", "stop") if p.success_reasons else ():
                count = successes.get(p.success + reason, 0)
                lines.append(f'{p.success}{{{labels},finished_reason="{reason}"}} {count:g}')
            for name in (p.prompt_tokens, p.generation_tokens):
                lines += [f"# TYPE {name.removesuffix('_total')} counter",
                          f"{name}{{{labels}}} {self.counters.get(name, 0):g}"]  # fmt: skip
            if p.aborted:
                lines += [f"# TYPE {p.aborted.removesuffix('_total')} counter",
                          f"{p.aborted}{{{labels}}} {self.counters.get(p.aborted, 0):g}"]  # fmt: skip
            for name in (p.ttft, p.e2e, p.itl):
                values = self.histograms.get(name, [])
                lines.append(f"# TYPE {name} histogram")
                for bound in self.BUCKETS:
                    lines.append(f'{name}_bucket{{{labels},le="{bound}"}} {sum(v <= bound for v in values)}')
                lines += [f'{name}_bucket{{{labels},le="+Inf"}} {len(values)}',
                          f"{name}_count{{{labels}}} {len(values)}",
                          f"{name}_sum{{{labels}}} {sum(values)}"]  # fmt: skip
            return "\n".join(lines) + "\n"


class Simulator(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away is no server error: no traceback for it (others as socketserver says)."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    def __init__(self, address: tuple[str, int], settings: Settings) -> None:
        super().__init__(address, Handler)
        self.settings = settings
        self.metrics = Metrics(settings)
        self.slots = threading.Semaphore(settings.max_concurrent_requests)
        self.in_flight = 0
        self.idle = threading.Condition()
        self.draining = False
        self.cut = threading.Event()  # set when a drain gives up on the requests in flight

    def drain(self) -> None:
        """SIGTERM: keep answering (new requests get 500), wait up to drain_seconds, then cut what is left."""
        self.draining = True
        deadline = time.monotonic() + self.settings.drain_seconds  # inf: until done (the grace period ends it)
        with self.idle:
            while self.in_flight and time.monotonic() < deadline:
                self.idle.wait(min(1.0, deadline - time.monotonic()))
        self.cut.set()
        with self.idle:
            while self.in_flight:
                self.idle.wait(1.0)
        self.shutdown()


class Handler(BaseHTTPRequestHandler):
    server: Simulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, separators=(",", ":")).encode())

    def _error(self, error: ApiError) -> None:
        self._json(error.status, self.server.settings.profile.error_body(error))

    @contextmanager
    def _in_flight(self) -> Iterator[None]:
        with self.server.idle:
            self.server.in_flight += 1
        try:
            yield
        finally:
            with self.server.idle:
                self.server.in_flight -= 1
                self.server.idle.notify_all()

    def do_GET(self) -> None:
        self._route("GET", b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._route("POST", self.rfile.read(length) if length else b"")

    def _route(self, method: str, raw: bytes) -> None:
        path = self.path.split("?")[0]
        served = self.server.settings.profile.routes
        handler = ROUTES.get((method, path)) if (method, path) in served else None
        if handler is None:
            known = any(p == path for _, p in served)
            self._json(405 if known else 404, {"detail": "Method Not Allowed" if known else "Not Found"})
            return
        settings = self.server.settings
        key = settings.api_key
        if key and settings.profile.guarded(path) and self.headers.get("Authorization") != f"Bearer {key}":
            self._send(401, settings.profile.unauthorised)
            return
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            self._error(ApiError(400, "Invalid JSON in the request body"))
            return
        if method == "POST" and not isinstance(body, dict):
            self._error(ApiError(400, "The request body must be a JSON object"))
            return
        with self._in_flight():
            try:
                handler(self, body)
            except ApiError as error:
                self._error(error)
            except (ConnectionError, TimeoutError):
                self.close_connection = True

    # --- info routes

    def _health(self, _body: dict[str, Any]) -> None:
        s = self.server.settings
        status = 200 if s.healthy else 503
        if self.server.draining:
            status = s.profile.draining_health
        self._send(status, b"", s.profile.health_type)

    def _version(self, _body: dict[str, Any]) -> None:
        self._json(200, {"version": self.server.settings.profile.version})

    def _load(self, _body: dict[str, Any]) -> None:
        self._json(200, {"server_load": self.server.in_flight - 1})

    def _models(self, _body: dict[str, Any]) -> None:
        s = self.server.settings
        model = {"id": s.model_id, "object": "model", "created": int(time.time()), "owned_by": s.profile.owned_by,
                 "root": s.model_id, "parent": None, "max_model_len": s.max_model_len,
                 **s.profile.shapes.model}  # fmt: skip
        self._json(200, {"object": "list", "data": [model]})

    def _metrics(self, _body: dict[str, Any]) -> None:
        self._send(200, self.server.metrics.render().encode(), "text/plain; version=0.0.4; charset=utf-8")

    def _tokenize(self, body: dict[str, Any]) -> None:
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            raise ApiError(400, "prompt must be a string", param="prompt")
        count = len(tokens_of(prompt))
        self._json(200, {"count": count, "max_model_len": self.server.settings.max_model_len,
                         "tokens": list(range(1, count + 1)), "token_strs": None})  # fmt: skip

    # --- generation

    def _request(self, body: dict[str, Any], prompt: str) -> tuple[int, int]:
        """(prompt tokens, tokens to generate), refused as the engine refuses them."""
        s = self.server.settings
        if body.get("model") not in (None, s.model_id):
            message = s.profile.not_found.format(model=body.get("model"), served=s.model_id)
            raise ApiError(404, message, "NotFoundError", "model")
        if self.server.draining and s.profile.draining_refuses:
            raise ApiError(500, "The server is shutting down", "InternalServerError")
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise ApiError(400, "max_tokens must be at least 1", param="max_tokens")
        used = len(tokens_of(prompt))
        param = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
        return used, s.profile.budget(s, used, limit, param)

    def _generate(self, prompt: str, wanted: int) -> Iterator[str | None]:
        """The tokens, one per token delay; None when the drain cut the request."""
        m, s = self.server.metrics, self.server.settings
        start = time.monotonic()
        with m.lock:
            m.waiting += 1
        self.server.slots.acquire()
        with m.lock:
            m.waiting -= 1
            m.running += 1
        previous = start
        try:
            for i, token in enumerate(answer(prompt, wanted)):
                if s.token_delay:
                    time.sleep(s.token_delay)
                if self.server.cut.is_set() and s.profile.drain_cuts:
                    m.add(s.profile.success + "abort")
                    yield None
                    return
                now = time.monotonic()
                if i == 0:
                    m.observe(s.profile.ttft, now - start)
                else:  # every step of every request, streamed or not (the engines record it per step)
                    m.observe(s.profile.itl, now - previous)
                previous = now
                m.add(s.profile.generation_tokens)
                yield token
        finally:
            with m.lock:
                m.running -= 1
            self.server.slots.release()
            m.observe(s.profile.e2e, time.monotonic() - start)

    def _finished(self, used: int, wanted: int, limit: Any) -> str:
        m, s = self.server.metrics, self.server.settings
        reason = "length" if limit is not None else "stop"
        m.add(s.profile.success + reason)
        m.add(s.profile.prompt_tokens, used)
        return reason

    def _completions(self, body: dict[str, Any]) -> None:
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            raise ApiError(400, self.server.settings.profile.no_prompt, param="prompt")
        used, wanted = self._request(body, prompt)
        self._respond(body, prompt, used, wanted, chat=False)

    def _chat(self, body: dict[str, Any]) -> None:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ApiError(400, "messages must be a non-empty list", param="messages")
        prompt = " ".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
        used, wanted = self._request(body, prompt)
        self._respond(body, prompt, used, wanted, chat=True)

    def _respond(self, body: dict[str, Any], prompt: str, used: int, wanted: int, *, chat: bool) -> None:
        s, limit = self.server.settings, body.get("max_completion_tokens", body.get("max_tokens"))
        shapes = s.profile.shapes
        ident = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex
        head = {"id": ident, "object": "chat.completion" if chat else "text_completion", "created": int(time.time()),
                "model": s.model_id}  # fmt: skip
        if not body.get("stream"):
            pieces = list(self._generate(prompt, wanted))
            if None in pieces:
                raise ApiError(500, ENGINE_ABORT, "InternalServerError")
            reason = self._finished(used, wanted, limit)
            text = "".join(p for p in pieces if p)
            choice: dict[str, Any] = {"index": 0, "logprobs": None, "finish_reason": reason, "stop_reason": None}
            if chat:
                choice.update(message={"role": "assistant", "content": text, **shapes.message}, **shapes.chat_choice)
            else:
                choice.update(text=text, **shapes.text_choice)
            usage = {"prompt_tokens": used, "completion_tokens": len(pieces), "total_tokens": used + len(pieces),
                     **shapes.usage}  # fmt: skip
            extra = {**shapes.answer, **(shapes.chat_answer if chat else {})}
            self._json(200, {**head, "choices": [choice], "usage": usage, **extra})
        else:
            self._stream({**head, "object": "chat.completion.chunk" if chat else "text_completion"}, body, prompt,
                         used, wanted, chat=chat)  # fmt: skip

    def _stream(self, chunk: dict[str, Any], body: dict[str, Any], prompt: str, used: int, wanted: int, *,
                chat: bool) -> None:  # fmt: skip
        shapes, limit = self.server.settings.profile.shapes, body.get("max_completion_tokens", body.get("max_tokens"))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        if chat:
            head_choice = {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None,
                           "finish_reason": None}  # fmt: skip
            self._event({**chunk, "choices": [head_choice], **shapes.chat_head})
        per_choice = shapes.chat_chunk_choice if chat else shapes.text_chunk_choice
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        final = {} if with_usage else shapes.last_chunk  # the usage chunk is last when it is asked for

        def finishing(content: dict[str, Any]) -> None:
            reason = self._finished(used, wanted, limit)
            choice = {"index": 0, **content, "logprobs": None, "finish_reason": reason, **per_choice,
                      "stop_reason": None}  # fmt: skip
            self._event({**chunk, "choices": [choice], **final})

        count = 0
        for count, piece in enumerate(self._generate(prompt, wanted), start=1):
            if piece is None:  # vLLM's answer to an abort at shutdown, measured on the real server
                self._event({"error": {"message": ENGINE_ABORT, "type": "InternalServerError", "code": 500}})
                break
            content: dict[str, Any] = {"delta": {"content": piece}} if chat else {"text": piece}
            if count == wanted and shapes.finish_with_last_token:
                finishing(content)
            else:
                choice = {"index": 0, **content, "logprobs": None, "finish_reason": None, **per_choice}
                self._event({**chunk, "choices": [choice]})
        else:
            if not shapes.finish_with_last_token or not count:
                finishing({"delta": {"content": ""}} if chat else {"text": ""})
            if with_usage:
                usage = {"prompt_tokens": used, "completion_tokens": count, "total_tokens": used + count}
                self._event({**chunk, "choices": [], "usage": usage, **shapes.last_chunk})
        self._chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _event(self, payload: dict[str, Any]) -> None:
        self._chunk(f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode())

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


ROUTES: dict[tuple[str, str], Callable[[Handler, dict[str, Any]], None]] = {
    ("GET", "/health"): Handler._health,
    ("GET", "/health_generate"): Handler._health,
    ("GET", "/ready"): lambda handler, _body: handler._send(503 if handler.server.draining else 200, b""),
    ("GET", "/ping"): Handler._health,
    ("POST", "/ping"): Handler._health,
    ("GET", "/version"): Handler._version,
    ("GET", "/load"): Handler._load,
    ("GET", "/metrics"): Handler._metrics,
    ("GET", "/v1/models"): Handler._models,
    ("POST", "/tokenize"): Handler._tokenize,
    ("POST", "/v1/completions"): Handler._completions,
    ("POST", "/v1/chat/completions"): Handler._chat,
    # SageMaker's route: a chat or a completion by the body's shape (entrypoints/serve/sagemaker/api_router.py).
    ("POST", "/invocations"): lambda handler, body: (handler._chat if "messages" in body else handler._completions)(
        body
    ),
}


def log(message: str) -> None:
    """A log line in the engine's own shape, so `workload deploy` reads the simulator's log as the engine's."""
    print(f"INFO {time.strftime('%m-%d %H:%M:%S')} [simulator] {message}", flush=True)


def serve(settings: Settings, host: str, port: int, ready: Callable[[Simulator], None] | None = None) -> None:
    """Run until SIGTERM or SIGINT, then drain as the engine does."""
    server = Simulator((host, port), settings)  # bind first: a busy port fails before any log line
    log(f"Starting vLLM API server on http://{host}:{port} (simulated {settings.profile.name}: {settings.model_id})")

    def on_signal(_signum: int, _frame: object) -> None:
        threading.Thread(target=server.drain, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log("Application startup complete.")
    if ready is not None:
        ready(server)
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    log("Shutting down")


def parse_args(argv: list[str], env: dict[str, str]) -> tuple[Settings, str, int]:
    """The engine's own command line (the chart's args), as far as the simulator needs it; other flags are the
    engine's and are ignored."""
    parser = argparse.ArgumentParser(prog="openai_simulator", add_help=True)
    parser.add_argument("--engine", default="vllm", choices=sorted(PROFILES))
    # vLLM: `vllm serve MODEL`, flags with `_` or `-`; SGLang: `--model-path MODEL`, dashes only (the chart renders
    # dashes). The simulator takes both spellings, so it reads what either engine reads.
    parser.add_argument("model", nargs="?", default="simulated/model")
    parser.add_argument("--model-path", "--model_path", "--model")
    parser.add_argument("--served-model-name", "--served_model_name", nargs="+")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--api-key", "--api_key")
    parser.add_argument("--max-model-len", "--max_model_len", "--context-length", "--context_length", type=int,
                        default=4096)  # fmt: skip
    parser.add_argument("--max-num-seqs", "--max_num_seqs", "--max-running-requests", "--max_running_requests",
                        type=int, default=256)  # fmt: skip
    parser.add_argument("--shutdown-timeout", "--shutdown_timeout", type=float)
    parser.add_argument("--token-delay-ms", type=float, default=float(env.get("SIMULATOR_TOKEN_DELAY_MS", "0")))
    known, _engine_flags = parser.parse_known_args(argv)
    profile = PROFILES[known.engine]
    unbounded = float("inf") if not profile.drain_cuts else 0.0  # SGLang drains until done; vLLM's default is 0
    settings = Settings(
        profile=profile, model_id=(known.served_model_name or [known.model_path or known.model])[0],
        api_key=known.api_key or env.get("VLLM_API_KEY", ""), token_delay=known.token_delay_ms / 1000,
        max_concurrent_requests=known.max_num_seqs, max_model_len=known.max_model_len,
        drain_seconds=unbounded if known.shutdown_timeout is None else known.shutdown_timeout,
    )  # fmt: skip
    return settings, known.host, known.port


def main(argv: list[str] | None = None) -> int:
    settings, host, port = parse_args(sys.argv[1:] if argv is None else argv, dict(os.environ))
    try:
        serve(settings, host, port)
    except OSError as error:
        print(f"cannot listen on {host}:{port}: {error.strerror or error}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
