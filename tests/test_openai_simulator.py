"""The OpenAI simulator as vLLM (`workload simulate --engine vllm`, the chart's simulator mode): vLLM 0.32.0's
routes, the API key's scope, its errors, its metric names and its drain, as measured on the real server
(docs/reference/vllm.md). Real clients are used where people use them (openai)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import openai
import pytest

from conftest import EXAMPLES, Render, container
from serving import serve
from test_simulator import call
from tgi_schemas import sse_events
from workload.engines.openai_simulator import SGLANG, VLLM, Settings, Simulator
from workload.ops.verify import verify_url
from workload.paths import REPO_ROOT

MODEL = "Qwen/Qwen2.5-0.5B-Instruct"
KEY = "Secret-Key"
SCRIPT = REPO_ROOT / "charts" / "ml-inference-load" / "files" / "openai_simulator.py"


@contextmanager
def simulated(settings: Settings) -> Iterator[str]:
    with serve(Simulator(("127.0.0.1", 0), settings)) as url:
        yield url


@pytest.fixture
def vllm() -> Iterator[str]:
    with simulated(Settings(profile=VLLM, model_id=MODEL, api_key=KEY, max_model_len=512)) as url:
        yield url


def bearer(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_the_key_guards_only_the_v1_routes(vllm: str) -> None:
    # Measured on vLLM 0.32.0 with --api-key: 401 on /v1/*, 200 on the rest, /invocations included.
    assert call(vllm, "GET", "/v1/models")[0] == 401
    assert call(vllm, "POST", "/v1/completions", {"model": MODEL, "prompt": "a"})[0] == 401
    assert call(vllm, "GET", "/v1/models", headers=bearer("wrong"))[0] == 401
    for method, path, sent in (("GET", "/health", None), ("GET", "/version", None), ("GET", "/ping", None),
                               ("GET", "/load", None), ("GET", "/metrics", None),
                               ("POST", "/tokenize", {"prompt": "a b"}),
                               ("POST", "/invocations", {"model": MODEL, "prompt": "a", "max_tokens": 2})):  # fmt: skip
        assert call(vllm, method, path, sent)[0] == 200, path
    status, _, body = call(vllm, "GET", "/v1/models", headers=bearer())
    assert status == 200
    assert [m["id"] for m in json.loads(body)["data"]] == [MODEL]


def test_errors_are_openai_error_objects(vllm: str) -> None:
    # vLLM 0.32.0's words, as the real server answered them (tests/test_real_vllm.py compares the two).
    status, _, body = call(vllm, "POST", "/v1/completions", {"model": "other", "prompt": "a"}, headers=bearer())
    assert (status, json.loads(body)["error"]["message"]) == (
        404, f"The model `other` does not exist. Valid aliases: {MODEL}.")  # fmt: skip
    status, _, body = call(vllm, "POST", "/v1/completions", {"model": MODEL, "prompt": "a", "max_tokens": 600},
                           headers=bearer())  # fmt: skip
    message = ("max_tokens=600 cannot be greater than max_model_len=512. Please request fewer output tokens. "
               "(parameter=max_tokens, value=600)")  # fmt: skip
    error = {"message": message, "type": "BadRequestError", "param": "max_tokens", "code": 400}
    assert (status, json.loads(body)) == (400, {"error": error})


def test_vllm_cuts_max_tokens_to_what_the_context_leaves(vllm: str) -> None:
    # Found against the real server: vLLM 0.32.0 refuses only max_tokens above max_model_len; prompt plus
    # max_tokens above it is served, up to the context's end (entrypoints/serve/utils/api_utils.py:169-199).
    status, _, body = call(vllm, "POST", "/v1/completions", {"model": MODEL, "prompt": "a b", "max_tokens": 512},
                           headers=bearer())  # fmt: skip
    assert status == 200
    answer = json.loads(body)
    assert (answer["usage"]["completion_tokens"], answer["choices"][0]["finish_reason"]) == (510, "length")


def test_the_openai_client_streams_chat_and_completions(vllm: str) -> None:
    client = openai.OpenAI(base_url=vllm + "/v1", api_key=KEY)
    chunks = list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}],
                                                 max_tokens=5, stream=True))  # fmt: skip
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].choices[0].finish_reason == "length"
    completion = client.completions.create(model=MODEL, prompt="Kubernetes is", max_tokens=4)
    assert completion.choices[0].text
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 4
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=vllm + "/v1", api_key="wrong").models.list()


def test_the_metrics_are_vllms_by_name_and_label(vllm: str) -> None:
    call(vllm, "POST", "/v1/completions", {"model": MODEL, "prompt": "a", "max_tokens": 2}, headers=bearer())
    text = call(vllm, "GET", "/metrics")[2].decode()
    labels = f'engine="0",model_name="{MODEL}"'
    for name in ("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc"):
        assert f"{name}{{{labels}}} " in text
    assert f'vllm:request_success_total{{{labels},finished_reason="length"}} 1' in text
    assert f"vllm:generation_tokens_total{{{labels}}} 2" in text
    assert f"vllm:e2e_request_latency_seconds_count{{{labels}}} 1" in text


def test_verify_passes_against_it(vllm: str) -> None:
    checks = verify_url(vllm, MODEL, KEY, "vllm")
    assert [(c.name, c.ok) for c in checks][:4] == [("health", True), ("models", True), ("completion", True),
                                                     ("chat_stream", True)]  # fmt: skip
    assert all(c.ok for c in checks), checks


def _stream(url: str, tokens: int, out: list[bytes]) -> None:
    body = {"model": MODEL, "prompt": "a", "max_tokens": tokens, "stream": True}
    out.append(call(url, "POST", "/v1/completions", body, headers=bearer())[2])


@pytest.mark.parametrize("drain", [0.0, 5.0], ids=["shutdown-timeout-0", "shutdown-timeout-5"])
def test_sigterm_drains_as_vllm_does(drain: float) -> None:
    """At 0 (vLLM's default) a stream in flight is cut with an error event; with a drain it finishes. During
    the drain /health stays 200 and a new request gets 500 (measured on vLLM 0.32.0)."""
    settings = Settings(profile=VLLM, model_id=MODEL, api_key=KEY, token_delay=0.05, drain_seconds=drain)
    server = Simulator(("127.0.0.1", 0), settings)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out: list[bytes] = []
    stream = threading.Thread(target=_stream, args=(url, 40, out))
    stream.start()
    time.sleep(0.3)
    draining = threading.Thread(target=server.drain)
    draining.start()
    if drain:
        time.sleep(0.1)
        assert call(url, "GET", "/health")[0] == 200
        assert call(url, "POST", "/v1/completions", {"model": MODEL, "prompt": "a"}, headers=bearer())[0] == 500
    stream.join(timeout=10)
    draining.join(timeout=10)
    server.server_close()
    events = [e for e in sse_events(out[0]) if e != "[DONE]"]
    if drain:
        assert len(events) == 40, "every token, the last one with the finish (as the real server streams)"
        assert json.loads(events[-1])["choices"][0]["finish_reason"] == "length"
    else:
        assert 0 < len(events) < 40
        assert json.loads(events[-1])["error"]["code"] == 500


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_the_simulator_pod_runs_the_charts_command_line(render: Render, engine: str) -> None:
    """The simulator mode's container: the chart's copy of the script with the engine's own flags, as the pod
    runs it (the kubelet's $(API_KEY) filled in, the address replaced), serves the model the values name,
    behind the key."""
    text = (EXAMPLES / f"{engine}.yaml").read_text(encoding="utf-8") + "simulator:\n  enabled: true\n"
    command = [str(part).replace("$(API_KEY)", KEY) for part in container(render(text))["command"]]
    assert command[:6] == ["python3", "-I", "-B", "/simulator/openai_simulator.py", "--engine", engine]
    assert "Qwen/Qwen2.5-0.5B-Instruct" in command
    port = _free_port()
    argv = [sys.executable, "-I", "-B", str(SCRIPT), *command[4:], "--host", "127.0.0.1", "--port", str(port)]
    env = {"PATH": os.environ["PATH"], "VLLM_API_KEY": KEY}
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if b"Application startup complete" in line:
                break
        url = f"http://127.0.0.1:{port}"
        assert call(url, "GET", "/v1/models")[0] == 401
        status, _, body = call(url, "GET", "/v1/models", headers=bearer())
        assert status == 200
        assert json.loads(body)["data"][0]["id"] == "Qwen/Qwen2.5-0.5B-Instruct"
        assert json.loads(body)["data"][0]["max_model_len"] == 4096
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()


def test_workload_simulate_serves_vllms_api() -> None:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "workload", "simulate", "--engine", "vllm", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if b"Application startup complete" in line:
                break
        status, _, body = call(f"http://127.0.0.1:{port}", "GET", "/version")
        assert (status, json.loads(body)) == (200, {"version": "0.32.0"})
    finally:
        process.kill()


@pytest.fixture
def sglang() -> Iterator[str]:
    with simulated(Settings(profile=SGLANG, model_id=MODEL, api_key=KEY, max_model_len=512)) as url:
        yield url


def test_sglangs_key_guards_everything_but_health_ready_and_metrics(sglang: str) -> None:
    for path in ("/health", "/health_generate", "/ready", "/metrics"):
        assert call(sglang, "GET", path)[0] == 200, path
    for method, path in (("GET", "/ping"), ("GET", "/v1/models"), ("POST", "/tokenize"), ("POST", "/invocations")):
        assert call(sglang, method, path, {"prompt": "a"} if method == "POST" else None)[0] == 401, path
    assert call(sglang, "GET", "/version", headers=bearer())[0] == 404, "SGLang has no /version route"


def test_sglangs_errors_are_flat_and_in_its_words(sglang: str) -> None:
    # Read from SGLang 0.5.23: ErrorResponse(object="error", ...) is not nested under "error"
    # (srt/entrypoints/openai/protocol.py:106-111), and the context check counts prompt plus max_tokens
    # (srt/managers/tokenizer_manager.py:1337-1377). The simulator answered vLLM's nested object before.
    status, _, body = call(sglang, "POST", "/v1/completions", {"model": MODEL, "prompt": "a b", "max_tokens": 511},
                           headers=bearer())  # fmt: skip
    message = (
        "Requested token count exceeds the model's maximum context length of 512 tokens. You requested a "
        "total of 513 tokens: 2 tokens from the input messages and 511 tokens for the completion. Please "
        "reduce the number of tokens in the input messages or the completion to fit within the limit."
    )
    error = {"object": "error", "message": message, "type": "BadRequest", "param": None, "code": 400}
    assert (status, json.loads(body)) == (400, error)
    status, _, body = call(sglang, "POST", "/v1/completions", {"model": MODEL, "prompt": "a " * 512},
                           headers=bearer())  # fmt: skip
    assert (status, json.loads(body)["message"]) == (
        400, "The input (512 tokens) is longer than the model's context length (512 tokens).")  # fmt: skip


def test_sglangs_metrics_have_no_finish_reason(sglang: str) -> None:
    call(sglang, "POST", "/v1/completions", {"model": MODEL, "prompt": "a", "max_tokens": 2}, headers=bearer())
    text = call(sglang, "GET", "/metrics")[2].decode()
    # the tokenizer's counters, and the scheduler's gauges with its ranks (docs/reference/sglang.md)
    assert f'sglang:num_requests_total{{engine_type="unified",model_name="{MODEL}"}} 1' in text
    labels = f'engine_type="unified",model_name="{MODEL}",moe_ep_rank="0",pp_rank="0",tp_rank="0"'
    for name in ("sglang:num_running_reqs", "sglang:num_queue_reqs", "sglang:token_usage"):
        assert f"{name}{{{labels}}} " in text
    assert "finished_reason" not in text


def test_sglang_drains_until_done_and_says_so_on_health() -> None:
    settings = Settings(profile=SGLANG, model_id=MODEL, token_delay=0.05, drain_seconds=float("inf"))
    server = Simulator(("127.0.0.1", 0), settings)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out: list[bytes] = []
    stream = threading.Thread(target=_stream, args=(url, 30, out))
    stream.start()
    time.sleep(0.3)
    draining = threading.Thread(target=server.drain)
    draining.start()
    time.sleep(0.1)
    assert call(url, "GET", "/health")[0] == 503
    assert call(url, "GET", "/ready")[0] == 503
    assert call(url, "POST", "/v1/completions", {"model": MODEL, "prompt": "a", "max_tokens": 1})[0] == 200
    stream.join(timeout=10)
    draining.join(timeout=10)
    server.server_close()
    events = [e for e in sse_events(out[0]) if e != "[DONE]"]
    assert len(events) == 31
