"""`workload simulate` at the protocol level: TGI's error bodies and status codes, its SSE framing, its
metrics, its API-key scope, its concurrency limit and its graceful drain (docs/reference/tgi-router.md)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest

from serving import serve
from simulated import MODEL, Running, simulated
from tgi_schemas import response_errors, sse_events
from workload.engines.tgi.simulator import Settings, Simulator

# TGI's documented metrics (v3.3.7 docs/source/reference/metrics.md) the simulator serves, with their types.
SERVED_METRICS = {
    "tgi_request_count": "counter", "tgi_request_success": "counter", "tgi_queue_size": "gauge",
    "tgi_batch_current_size": "gauge", "tgi_batch_current_max_tokens": "gauge",
    "tgi_batch_max_total_tokens": "gauge", "tgi_request_duration": "histogram",
}  # fmt: skip


def call(url: str, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
         raw: bytes | None = None) -> tuple[int, str, bytes]:  # fmt: skip
    """(status, content type, body) of one request."""
    target = urlsplit(url)
    connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    sent = {"Content-Type": "application/json"} if data is not None else {}
    connection.request(method, path, body=data, headers={**sent, **(headers or {})})
    response = connection.getresponse()
    answer = (response.status, response.getheader("Content-Type") or "", response.read())
    connection.close()
    return answer


@pytest.fixture
def tgi() -> Iterator[Running]:
    with simulated(Settings(model_id=MODEL, max_total_tokens=64, max_input_tokens=32)) as running:
        yield running
        assert running.schema_errors() == []


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"inputs": ""}, 422, "Input validation error: `inputs` cannot be empty"),
        (
            {"inputs": "a b", "parameters": {"max_new_tokens": 0}},
            422,
            "Input validation error: `max_new_tokens` must be strictly positive",
        ),
        (
            {"inputs": "a b", "parameters": {"max_new_tokens": 63}},
            422,
            "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 64. Given: 2 `inputs` tokens and 63 "
            "`max_new_tokens`",
        ),
        (
            {"inputs": " ".join(["w"] * 40), "parameters": {"max_new_tokens": 1}},
            422,
            "Input validation error: `inputs` must have less than 32 tokens. Given: 40",
        ),
        (
            {"inputs": "a", "parameters": {"temperature": 0}},
            422,
            "Input validation error: `temperature` must be strictly positive",
        ),
        ({"inputs": "a", "parameters": {"top_p": 1.0}}, 422, "Input validation error: `top_p` must be > 0.0 and < 1.0"),
        (
            {"inputs": "a", "parameters": {"stop": ["1", "2", "3", "4", "5"]}},
            422,
            "Input validation error: `stop` supports up to 4 stop sequences. Given: 5",
        ),
    ],
    ids=["empty", "zero-new", "too-many-total", "too-long-input", "temperature", "top-p", "stop-count"],
)
def test_validation_errors_are_tgis(tgi: Running, body: dict[str, Any], status: int, message: str) -> None:
    got_status, content_type, answer = call(tgi.url, "POST", "/generate", body)
    assert (got_status, content_type) == (status, "application/json")
    assert json.loads(answer) == {"error": message, "error_type": "validation"}


def test_request_format_errors_are_axums(tgi: Running) -> None:
    """The Json extractor's rejections: 415 without a JSON content type, 400 bad JSON, 422 wrong shape."""
    assert call(tgi.url, "POST", "/generate", raw=b'{"inputs":"a"}', headers={"Content-Type": "text/plain"})[:2] == (
        415, "text/plain; charset=utf-8")  # fmt: skip
    status, _, body = call(tgi.url, "POST", "/generate", raw=b"{not json")
    assert status == 400
    assert body.startswith(b"Failed to parse the request body as JSON")
    status, _, body = call(tgi.url, "POST", "/generate", {"parameters": {}})
    assert status == 422
    assert body.startswith(b"Failed to deserialize the JSON body into the target type")
    assert call(tgi.url, "GET", "/generate")[0] == 405
    assert call(tgi.url, "GET", "/docs/nothing")[0] == 404


def test_api_key_scope_is_tgis() -> None:
    """Bearer key, compared case-insensitively, on the generation routes only; 401 with an empty body."""
    with simulated(Settings(model_id=MODEL, api_key="Secret-Key")) as tgi:
        generate = {"inputs": "a", "parameters": {"max_new_tokens": 1}}
        assert call(tgi.url, "POST", "/generate", generate)[:3] == (401, "", b"")
        assert call(tgi.url, "POST", "/generate", generate, headers={"Authorization": "Bearer wrong"})[0] == 401
        assert call(tgi.url, "POST", "/generate", generate, headers={"Authorization": "bearer secret-key"})[0] == 200
        for path in ("/", "/generate_stream", "/v1/chat/completions", "/v1/completions", "/tokenize"):
            assert call(tgi.url, "POST", path, {"inputs": "a"})[0] == 401, path
        for path in ("/health", "/info", "/metrics", "/v1/models", "/"):
            assert call(tgi.url, "GET", path)[0] == 200, path
        assert call(tgi.url, "POST", "/chat_tokenize", {"messages": [{"role": "user", "content": "a"}]})[0] == 200


def test_streams_are_framed_as_tgi_frames_them(tgi: Running) -> None:
    """axum 0.7.9: `data: {json}` then a blank line; /generate_stream has no [DONE], OpenAI routes end with it."""
    status, content_type, body = call(
        tgi.url, "POST", "/generate_stream", {"inputs": "a b", "parameters": {"max_new_tokens": 3, "details": True}}
    )
    assert (status, content_type) == (200, "text/event-stream")
    assert body.startswith(b'data: {"index":1,')
    events = [json.loads(e) for e in sse_events(body)]
    assert [e["generated_text"] for e in events][:2] == [None, None]
    assert events[-1]["details"]["finish_reason"] == "length"
    chat = call(
        tgi.url,
        "POST",
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "a"}], "stream": True, "max_tokens": 2},
    )[2]
    assert sse_events(chat)[-1] == "[DONE]"
    assert chat.endswith(b"data: [DONE]\n\n")


def test_concurrency_limit_answers_429_and_streams_an_overload_event() -> None:
    """TGI's semaphore: 429 'Model is overloaded' when full; on /generate_stream the error is an event."""
    settings = Settings(model_id=MODEL, max_concurrent_requests=1, token_delay=0.05)
    with simulated(settings) as tgi:
        slow = threading.Thread(
            target=call, args=(tgi.url, "POST", "/generate", {"inputs": "a", "parameters": {"max_new_tokens": 20}})
        )
        slow.start()
        deadline = time.monotonic() + 5
        while tgi.simulator.metrics.running == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        status, _, body = call(tgi.url, "POST", "/generate", {"inputs": "b", "parameters": {"max_new_tokens": 1}})
        stream = call(tgi.url, "POST", "/generate_stream", {"inputs": "b", "parameters": {"max_new_tokens": 1}})
        slow.join()
        assert (status, json.loads(body)) == (429, {"error": "Model is overloaded", "error_type": "overloaded"})
        assert stream[0] == 200
        assert [json.loads(e) for e in sse_events(stream[2])] == [
            {"error": "Model is overloaded", "error_type": "overloaded"}
        ]
        assert 'tgi_request_failure{err="overloaded"} 2' in call(tgi.url, "GET", "/metrics")[2].decode()
        assert tgi.schema_errors() == []


def test_metrics_have_tgis_names_and_types(tgi: Running) -> None:
    call(tgi.url, "POST", "/generate", {"inputs": "a", "parameters": {"max_new_tokens": 2}})
    text = call(tgi.url, "GET", "/metrics")[2].decode()
    types = {line.split(" ")[2]: line.split(" ")[3] for line in text.splitlines() if line.startswith("# TYPE ")}
    assert {name: types.get(name) for name in SERVED_METRICS} == SERVED_METRICS
    assert "tgi_request_count 1" in text.splitlines()
    assert 'tgi_request_duration_bucket{le="+Inf"} 1' in text


def test_same_request_same_answer(tgi: Running) -> None:
    body = {"inputs": "Kubernetes is", "parameters": {"max_new_tokens": 5}}
    first, second = (call(tgi.url, "POST", "/generate", body)[2] for _ in range(2))
    assert first == second
    other = call(tgi.url, "POST", "/generate", {**body, "inputs": "Something else entirely"})[2]
    assert other != first


def test_the_schema_check_catches_what_tgi_would_not_send() -> None:
    """The checker the client tests rely on can fail: wrong framing, [DONE] on TGI's own stream, bad shapes."""
    request = b'{"inputs":"a"}'
    ok_event = b'data: {"index":1,"token":{"id":1,"text":"a","logprob":-1.0,"special":false},"generated_text":"a"}\n\n'
    assert response_errors("POST", "/generate_stream", request, 200, "text/event-stream", ok_event) == []
    assert response_errors("POST", "/generate_stream", request, 200, "text/event-stream", ok_event[:5] +
                           ok_event[6:])  # fmt: skip
    assert response_errors("POST", "/generate_stream", request, 200, "text/event-stream",
                           ok_event + b"data: [DONE]\n\n")  # fmt: skip
    assert response_errors("POST", "/generate", request, 200, "application/json", b'{"text":"a"}')
    assert response_errors("POST", "/", request, 200, "application/json", b'{"generated_text":"a"}')
    assert response_errors("POST", "/generate", request, 401, "", b"unauthorised")
    assert response_errors("GET", "/metrics", b"", 200, "text/plain", b"tgi_x 1\n")


@contextmanager
def simulate_process(token_delay_ms: int) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`workload simulate` in a process of its own (signals reach it as they reach TGI), once it is
    Connected: (the process, its URL). Killed on the way out if still running."""
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "workload", "simulate", "--port", str(port), "--token-delay-ms", str(token_delay_ms)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if b"Connected" in line:
                break
        yield process, f"http://127.0.0.1:{port}"
    finally:
        process.kill()


def test_sigterm_drains_like_tgi() -> None:
    """A stream in flight at SIGTERM completes; the listener closes at once (router/src/server.rs line 2330)."""
    with simulate_process(token_delay_ms=100) as (process, url):
        assert process.stdout is not None
        result: list[tuple[int, str, bytes]] = []
        stream = threading.Thread(target=lambda: result.append(call(
            url, "POST", "/generate_stream", {"inputs": "a", "parameters": {"max_new_tokens": 10}})))  # fmt: skip
        stream.start()
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        for line in process.stdout:
            if b"graceful shutdown" in line:
                break
        time.sleep(0.2)  # the listener closes within one 50 ms poll
        with pytest.raises(ConnectionRefusedError):
            call(url, "GET", "/health")
        stream.join(timeout=10)
        assert process.wait(timeout=10) == 0
    events = [json.loads(e) for e in sse_events(result[0][2])]
    assert len(events) == 10
    assert events[-1]["generated_text"]


def test_no_request_is_lost_in_the_kubelets_termination_sequence() -> None:
    """What the kubelet does to a pod leaving a rollout or a scale-in: run the preStop hook (the chart's
    pause, scaling.preStopSeconds), then send SIGTERM, then SIGKILL after the grace period. During the
    pause the server is untouched, so requests that the gateways still send are served; at SIGTERM a
    stream in flight completes and new connections are refused, as TGI's router does."""
    with simulate_process(token_delay_ms=50) as (process, url):
        pause, started = 1.0, time.monotonic()  # the preStop pause, shortened
        during_pause = []
        while time.monotonic() - started < pause:
            during_pause.append(call(url, "POST", "/generate", {"inputs": "a", "parameters": {"max_new_tokens": 2}})[0])
        assert during_pause
        assert set(during_pause) == {200}, "a request during the pause was refused"
        result: list[tuple[int, str, bytes]] = []
        stream = threading.Thread(target=lambda: result.append(call(
            url, "POST", "/generate_stream", {"inputs": "a", "parameters": {"max_new_tokens": 20}})))  # fmt: skip
        stream.start()
        time.sleep(0.2)
        process.send_signal(signal.SIGTERM)  # the pause is over: the kubelet signals the container
        stream.join(timeout=10)
        assert process.wait(timeout=10) == 0, "drained before the grace period"
    assert result[0][0] == 200
    assert len([json.loads(e) for e in sse_events(result[0][2])]) == 20


def test_cli_refuses_a_busy_port_in_one_line() -> None:
    with simulated() as tgi:
        port = str(tgi.simulator.server_address[1])
        result = subprocess.run([sys.executable, "-m", "workload", "simulate", "--port", port],
                                capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    assert result.returncode == 3  # workload/errors.py: a port that cannot be listened on
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith(f"simulate: cannot listen on 127.0.0.1:{port}: ")


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_refuses_an_unknown_engine_in_one_line() -> None:
    result = subprocess.run([sys.executable, "-m", "workload", "simulate", "--engine", "nope"],
                            capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "simulate: --engine 'nope' is not one of tgi, sglang, vllm\n"


@pytest.mark.parametrize("engine", ["tgi", "vllm"])
def test_a_burst_of_connections_is_accepted_at_once(engine: str) -> None:
    """A load test opens hundreds of connections at once. With socketserver's listen backlog of 5 the kernel
    dropped most of a burst of 300 (found with 50 concurrent openai streams: connection errors, and 1.1 s to
    the first token for the rest, TCP's SYN retry); every one must be accepted well within that retry."""
    import socket  # noqa: PLC0415

    from workload.engines import openai_simulator  # noqa: PLC0415

    server = (Simulator(("127.0.0.1", 0), Settings()) if engine == "tgi"
              else openai_simulator.Simulator(("127.0.0.1", 0), openai_simulator.Settings()))  # fmt: skip
    count, start, answers, errors = 300, threading.Barrier(300), [], []

    def connect() -> None:
        start.wait()
        try:
            with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=0.5) as sock:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                sock.settimeout(10)
                answers.append(sock.recv(12))
        except OSError as error:
            errors.append(type(error).__name__)

    with serve(server):
        threads = [threading.Thread(target=connect) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert answers == [b"HTTP/1.1 200"] * count
