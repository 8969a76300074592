"""The chart against a real vLLM 0.32.0 server (the CPU wheel), started from the chart's own rendered command line
and environment (tests/real_vllm.py says what is substituted, and why). What the chart assumes about vLLM is
asked of vLLM itself: the route's and the probes' paths with and without the key, the metric names and labels
the triggers and the dashboard query, real clients streaming, the drain on SIGTERM, and the simulator's answers
to the same calls. One server for the module (about a minute to start); the drain test stops it, so it is last.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml
from huggingface_hub import InferenceClient

from conftest import CHART, EXAMPLES, by_kind, container, helm_path, is_test_hook, render_docs
from real_vllm import Server, exposition, free_port, launch_of, running, write_tiny_model
from serving import serve
from test_simulator import call
from tgi_schemas import sse_events
from workload.engines.openai_simulator import VLLM, Settings, Simulator
from workload.ops.verify import verify_url
from workload.paths import REPO_ROOT

MODEL = "Qwen/Qwen2.5-0.5B-Instruct"  # the served name, as in the example; the weights are the tiny model's
KEY = "Real-Secret-Key"
CONTEXT = 512  # inference.maxTotalTokens: the tiny model's KV cache on a CPU is small


def _values() -> str:
    document = yaml.safe_load((EXAMPLES / "vllm.yaml").read_text(encoding="utf-8"))
    document["inference"]["maxTotalTokens"] = CONTEXT
    document["monitoring"] = {"serviceMonitor": {"enabled": True}, "grafanaDashboard": {"enabled": True}}
    document["scaling"] = {"autoscaling": {"enabled": True}}
    return yaml.safe_dump(document)


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return render_docs(helm_path("helm4"), _values())


@pytest.fixture(scope="module")
def vllm(docs: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("real-vllm")
    secret = container(docs)["env"]
    refs = [e["valueFrom"]["secretKeyRef"] for e in secret if "valueFrom" in e]
    assert [(r["name"], r["key"]) for r in refs] == [("qwen-vllm-api-key", "api-key")]
    launch = launch_of(docs, model=write_tiny_model(work / "model"), port=free_port(), volumes=work / "volumes",
                       secrets={"qwen-vllm-api-key": {"api-key": KEY}})  # fmt: skip
    with running(launch, work / "vllm.log") as server:
        yield server


def bearer(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


BODIES: dict[str, Any] = {  # a minimal good request for each path the route may carry
    "/v1/models": None,
    "/v1/completions": {"model": MODEL, "prompt": "the model", "max_tokens": 3},
    "/v1/chat/completions": {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3},
}


def test_the_routes_paths_need_the_key_and_the_rest_stays_inside(vllm: Server, docs: list[dict[str, Any]]) -> None:
    route = by_kind(docs, "HTTPRoute")
    matches = [m["path"] for rule in route["spec"]["rules"] for m in rule["matches"]]
    assert {m["type"] for m in matches} == {"Exact"}
    for path in (m["value"] for m in matches):
        method = "GET" if BODIES[path] is None else "POST"
        assert call(vllm.url, method, path, BODIES[path])[0] == 401, f"{path} answers without the key"
        assert call(vllm.url, method, path, BODIES[path], headers=bearer("wrong"))[0] == 401, path
        assert call(vllm.url, method, path, BODIES[path], headers=bearer())[0] == 200, path
    routed = {m["value"] for m in matches}
    # What vLLM answers without the key must not be reachable through the route.
    for method, path, body in (("POST", "/invocations", BODIES["/v1/completions"]), ("POST", "/tokenize",
                               {"prompt": "a b"}), ("GET", "/version", None), ("GET", "/ping", None),
                               ("GET", "/load", None), ("GET", "/metrics", None)):  # fmt: skip
        assert call(vllm.url, method, path, body)[0] == 200, f"{path} needs the key now: the route could carry it"
        assert path not in routed


def test_the_probes_paths_answer_without_the_key(vllm: Server, docs: list[dict[str, Any]]) -> None:
    c = container(docs)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = c[probe]["httpGet"]
        assert get["port"] == c["ports"][0]["name"] == "http"
        assert call(vllm.url, "GET", get["path"])[0] == 200, probe


def _queries(docs: list[dict[str, Any]]) -> list[str]:
    """Every PromQL the chart ships for vLLM: the ScaledObject's triggers, the dashboard's panels, the adapter rule."""
    triggers = [t["metadata"]["query"] for t in by_kind(docs, "ScaledObject")["spec"]["triggers"]]
    dashboard = json.loads((CHART / "dashboards" / "vllm.json").read_text(encoding="utf-8"))
    panels = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    adapter = (REPO_ROOT / "docs" / "autoscaling" / "prometheus-adapter-rules.yaml").read_text(encoding="utf-8")
    rules = [q for q in re.findall(r"(?:seriesQuery|metricsQuery): *'?(.*?)'?$", adapter, re.M) if "vllm:" in q]
    assert triggers, "no trigger query"
    assert panels, "no dashboard query"
    assert rules, "no adapter rule for vLLM"
    return triggers + panels + rules


# Labels Prometheus adds from the ServiceMonitor's target, not the engine's: they are not on /metrics.
TARGET_LABELS = {"namespace", "service", "pod", "job", "instance", "endpoint", "container"}
SELECTOR = re.compile(r"(vllm:[a-zA-Z0-9_:]+)(?:\{([^}]*)\})?")


def test_every_metric_the_chart_queries_exists_with_its_labels(vllm: Server, docs: list[dict[str, Any]]) -> None:
    assert call(vllm.url, "POST", "/v1/completions", BODIES["/v1/completions"], headers=bearer())[0] == 200
    series = exposition(call(vllm.url, "GET", "/metrics")[2].decode())
    checked = set()
    for query in _queries(docs):
        grouped = {label.strip() for group in re.findall(r"by \(([^)]*)\)", query) for label in group.split(",")}
        grouped = {label for label in grouped if label.isidentifier()}  # not the adapter's <<.GroupBy>>
        for name, selector in SELECTOR.findall(query):
            assert name in series, f"{name} (in {query!r}) is not on vLLM's /metrics"
            used = set(re.findall(r"([a-zA-Z_]+)\s*(?:=~|!~|!=|=)", selector)) | grouped
            assert used - TARGET_LABELS <= series[name], f"{query!r}: vLLM's {name} has labels {series[name]}"
            checked.add(name)
    assert {"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
            "vllm:request_success_total", "vllm:e2e_request_latency_seconds_bucket"} <= checked  # fmt: skip


def test_real_clients_stream(vllm: Server) -> None:
    client = openai.OpenAI(base_url=vllm.url + "/v1", api_key=KEY, max_retries=0)
    chat = list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}],
                                               max_tokens=6, stream=True))  # fmt: skip
    assert [c.choices[0].finish_reason for c in chat if c.choices][-1] == "length"
    text = list(client.completions.create(model=MODEL, prompt="the model", max_tokens=6, stream=True))
    assert [c.choices[0].finish_reason for c in text][-1] == "length"
    hub = InferenceClient(base_url=vllm.url, api_key=KEY)
    chunks = list(hub.chat_completion(messages=[{"role": "user", "content": "hi"}], model=MODEL, max_tokens=6,
                                      stream=True))  # fmt: skip
    assert chunks[-1].choices[0].finish_reason == "length"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=vllm.url + "/v1", api_key="wrong", max_retries=0).models.list()


def test_the_helm_test_passes_against_it(vllm: Server, docs: list[dict[str, Any]], tmp_path: Path) -> None:
    """The chart's test hook, run as its pod runs it: its command, its ConfigMap mounted, its environment (the
    Service's URL replaced by the server's)."""
    pod = next(d for d in docs if is_test_hook(d) and d["kind"] == "Pod")
    scripts = next(d for d in docs if is_test_hook(d) and d["kind"] == "ConfigMap")
    for name, text in scripts["data"].items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    c = pod["spec"]["containers"][0]
    assert c["volumeMounts"][0]["mountPath"] == "/scripts"
    command = [sys.executable if c["command"][0] == "python3" else c["command"][0],
               *(arg.replace("/scripts", str(tmp_path)) for arg in c["command"][1:])]  # fmt: skip
    env = {e["name"]: e.get("value", KEY) for e in c["env"]}  # KEY: the Secret's value, for the secretKeyRef
    env["ENGINE_URL"] = vllm.url
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workload_verify_passes_against_it(vllm: Server) -> None:
    checks = verify_url(vllm.url, MODEL, KEY, "vllm")
    assert checks
    assert all(c.ok for c in checks), checks


def shape(value: Any) -> Any:
    """A JSON value's structure: keys and types, not contents."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


CALLS: list[tuple[str, str, Any, bool]] = [  # method, path, body, with the key
    ("GET", "/v1/models", None, False),
    ("GET", "/v1/models", None, True),
    ("POST", "/v1/completions", BODIES["/v1/completions"], True),
    ("POST", "/v1/chat/completions", BODIES["/v1/chat/completions"], True),
    ("POST", "/v1/chat/completions", BODIES["/v1/chat/completions"], False),
    ("POST", "/v1/completions", {**BODIES["/v1/completions"], "model": "other"}, True),
    ("POST", "/v1/completions", {**BODIES["/v1/completions"], "max_tokens": CONTEXT + 100}, True),
    ("POST", "/v1/completions", {**BODIES["/v1/completions"], "max_tokens": CONTEXT}, True),  # cut to fit
    ("POST", "/v1/completions", {"model": MODEL, "prompt": "the " * (CONTEXT + 10)}, True),
    ("POST", "/v1/completions", {"model": MODEL}, True),
    ("POST", "/v1/completions", {**BODIES["/v1/completions"], "stream": True, "ignore_eos": True}, True),
    ("POST", "/v1/chat/completions", {**BODIES["/v1/chat/completions"], "stream": True, "ignore_eos": True}, True),
    (
        "POST",
        "/v1/completions",
        {**BODIES["/v1/completions"], "stream": True, "ignore_eos": True, "stream_options": {"include_usage": True}},
        True,
    ),
    (
        "POST",
        "/v1/chat/completions",
        {
            **BODIES["/v1/chat/completions"],
            "stream": True,
            "ignore_eos": True,
            "stream_options": {"include_usage": True},
        },
        True,
    ),
    ("GET", "/no-such-route", None, True),
    ("GET", "/health", None, False),
    ("GET", "/version", None, False),
    ("POST", "/tokenize", {"model": MODEL, "prompt": "the model"}, False),
]


def _answer(url: str, method: str, path: str, body: Any, keyed: bool) -> tuple[int, str, Any]:
    """Status, content type and the body's shape: a stream's events in order, a run of like events as one (random
    weights sample a token that decodes to nothing, or the end of text, now and then: the count of token chunks
    varies from run to run, their shape does not); an error body word for word."""
    status, content_type, raw = call(url, method, path, body, headers=bearer() if keyed else None)
    if content_type.startswith("text/event-stream"):
        events = [e if e == "[DONE]" else shape(json.loads(e)) for e in sse_events(raw)]
        return status, content_type, [e for i, e in enumerate(events) if i == 0 or e != events[i - 1]]
    if status >= 400:
        return status, content_type, json.loads(raw)
    return status, content_type, shape(json.loads(raw)) if raw else None


@pytest.fixture
def simulator() -> Iterator[str]:
    with serve(Simulator(("127.0.0.1", 0), Settings(profile=VLLM, model_id=MODEL, api_key=KEY,
                                                    max_model_len=CONTEXT))) as url:  # fmt: skip
        yield url


@pytest.mark.parametrize("request_", CALLS, ids=[f"{c[0]} {c[1]}" for c in CALLS])
def test_the_simulator_answers_as_vllm_does(vllm: Server, simulator: str, request_: tuple[str, str, Any, bool]) -> None:
    assert _answer(simulator, *request_) == _answer(vllm.url, *request_)


def _stream(url: str, out: list[bytes]) -> None:
    body = {"model": MODEL, "prompt": "the model", "max_tokens": 400, "stream": True, "ignore_eos": True}
    out.append(call(url, "POST", "/v1/completions", body, headers=bearer())[2])


def test_sigterm_with_streams_in_flight_cuts_none(vllm: Server) -> None:
    """The chart's --shutdown-timeout (vLLM's default 0 cuts every stream with an error event). Last: it stops
    the module's server."""
    out: list[bytes] = []
    streams = [threading.Thread(target=_stream, args=(vllm.url, out)) for _ in range(8)]
    for t in streams:
        t.start()
    time.sleep(1.5)  # the streams are under way
    vllm.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    during = call(vllm.url, "POST", "/v1/completions", BODIES["/v1/completions"], headers=bearer())[0]
    health = call(vllm.url, "GET", "/health")[0]
    for t in streams:
        t.join(120)
    assert vllm.process.wait(120) == 0
    assert len(out) == 8
    for raw in out:
        events = sse_events(raw)
        assert events[-1] == "[DONE]", events[-3:]
        assert not [e for e in events if '"error"' in e], events[-3:]
        assert json.loads(events[-2])["choices"][0]["finish_reason"] == "length"
    # The drain refuses new work but stays healthy: the preStop pause, not readiness, keeps traffic away.
    assert (during, health) == (500, 200)
