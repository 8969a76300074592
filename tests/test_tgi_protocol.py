"""The HTTP side of day-2 operations without a GPU: the CLI's checks and the chart's helm-test script run
against `workload simulate`, and every answer is held to TGI's published schemas (tgi_schemas.py)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest

from conftest import CHART
from simulated import MODEL, Running, simulated
from workload.engines.tgi.check import (
    TgiClient,
    check_chat_completion,
    check_generate,
    check_generate_stream,
    check_health,
    check_info,
    metric_total,
    request_checks,
)
from workload.engines.tgi.simulator import Settings
from workload.paths import REPO_ROOT


@pytest.fixture
def tgi() -> Iterator[Running]:
    """A fresh simulator; after the test every response it gave must match TGI's published schemas."""
    with simulated(Settings(model_id=MODEL)) as running:
        yield running
        assert running.gateway.exchanges, "the test made no request"
        assert running.schema_errors() == []


def test_all_checks_pass_against_a_healthy_server(tgi: Running) -> None:
    client = TgiClient(tgi.url)
    before = metric_total(client, "tgi_request_count")
    checks = request_checks(client, MODEL)
    after = metric_total(client, "tgi_request_count")
    assert [c.ok for c in checks] == [True] * 5, checks
    assert (before, after) == (0, 3)


def test_unhealthy_server_fails_the_health_check(tgi: Running) -> None:
    tgi.settings.healthy = False
    check = check_health(TgiClient(tgi.url))
    assert not check.ok
    assert check.detail.startswith("503: unhealthy")
    assert check.hint


def test_wrong_model_is_reported(tgi: Running) -> None:
    check = check_info(TgiClient(tgi.url), "meta-llama/Llama-3.2-1B")
    assert not check.ok
    assert MODEL in check.detail


def test_api_key_is_sent_when_configured(tgi: Running) -> None:
    tgi.settings.api_key = "s3cret"
    calls = (check_generate, check_generate_stream, check_chat_completion)
    without = [call(TgiClient(tgi.url)) for call in calls]
    with_key = [call(TgiClient(tgi.url, "s3cret")) for call in calls]
    assert [c.ok for c in without] == [False, False, False]
    assert all("API key" in c.hint for c in without)
    assert [c.ok for c in with_key] == [True, True, True]


def test_chat_check_names_an_unrouted_path() -> None:
    with simulated(Settings(model_id=MODEL), matches=[("Exact", "/health")]) as running:
        check = check_chat_completion(TgiClient(running.url))
    assert (check.ok, check.detail) == (False, "404 Not Found")
    assert "ingress.paths" in check.hint


@pytest.mark.parametrize(
    ("body", "events"),
    [
        (b'data:{"a":1}\n\ndata:{"a":2}\n\n', [{"a": 1}, {"a": 2}]),
        (b':\n\ndata: {"a":1}\r\n\r\n', [{"a": 1}]),
        (b'data:{"a":\ndata:1}\n\n', [{"a": 1}]),
        (b'data:{"a":1}\n\ndata:[DONE]\n\n', [{"a": 1}]),
        (
            b'data:{"token":{},"details":null}\n\ndata:{"token":{},"generated_text":"x"}\n\n',
            [{"token": {}, "details": None}, {"token": {}, "generated_text": "x"}],
        ),
    ],
    ids=["no-space", "tgi-axum-space-crlf-keepalive", "multi-line", "openai-done", "details-null-as-real-tgi-sends"],
)
def test_stream_parser_reads_sse(monkeypatch: pytest.MonkeyPatch, body: bytes, events: list[dict[str, int]]) -> None:
    class Response(io.BytesIO):
        def __enter__(self) -> Response:
            return self

        def __exit__(self, *args: object) -> None:
            return None

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: Response(body))
    assert list(TgiClient("http://x").stream("/generate_stream", {})) == events


def run_helm_test_script(url: str, model: str, api_key: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TGI_URL": url, "MODEL_ID": model, "API_KEY": api_key}
    script = CHART / "files" / "tgi_check.py"
    return subprocess.run([sys.executable, "-I", str(script)], env=env, capture_output=True, text=True, check=False)


def test_chart_helm_test_script_passes_against_the_server(tgi: Running) -> None:
    result = run_helm_test_script(tgi.url, MODEL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        "PASS health", "PASS info", "PASS generate", "PASS generate_stream", "PASS chat_completion",
    ]  # fmt: skip


def test_chart_helm_test_script_fails_with_a_reason(tgi: Running) -> None:
    tgi.settings.api_key = "k"
    result = run_helm_test_script(tgi.url, "other/model")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1].startswith("FAIL info: serves")
    assert lines[2].startswith("FAIL generate: 401")
    assert "API key" in lines[2]


def test_chart_script_is_the_generated_copy() -> None:
    source = (REPO_ROOT / "src" / "workload" / "engines" / "tgi" / "check.py").read_text(encoding="utf-8")
    copy = (CHART / "files" / "tgi_check.py").read_text(encoding="utf-8")
    assert copy.startswith("# GENERATED")
    assert copy.endswith(source)
