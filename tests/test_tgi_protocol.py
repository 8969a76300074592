"""The HTTP side of day-2 operations without a GPU: the TGI test server is held to TGI's published
OpenAPI document, and the CLI's checks and the chart's helm-test script run against it."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from conftest import CHART, missing
from tgi_server import Exchange, FakeTgi, running
from workload.ops.tgi_check import (
    TgiClient,
    check_generate,
    check_generate_stream,
    check_health,
    check_info,
    metric_total,
)
from workload.paths import REPO_ROOT

SPEC_PATH = REPO_ROOT.parent / "shared" / "reference" / "tgi-openapi.json"
MODEL = "Qwen/Qwen2.5-0.5B-Instruct"
# TGI's generate_stream framing: optional keep-alive comments, then `data:{json}` + blank line per event.
SSE_FRAMING = re.compile(rb"^(:\n\n)*(data:\{[^\n]*\}\n\n)+$")


def _one_event(data: bytes) -> Any:
    (line,) = [ln for ln in data.decode().split("\n") if ln.startswith("data:")]
    return json.loads(line[5:])


@pytest.fixture(scope="module")
def spec() -> OpenAPI:
    if not SPEC_PATH.exists():
        missing(str(SPEC_PATH))
    # TGI's generated document uses OpenAPI 3.1-style numeric exclusiveMinimum in a 3.0 document, so the
    # document itself is not checked; its schemas are still applied to every response.
    config = Config(spec_validator_cls=None, extra_media_type_deserializers={"text/event-stream": _one_event})
    return OpenAPI.from_file_path(str(SPEC_PATH), config=config)


def validate_exchange(spec: OpenAPI, exchange: Exchange) -> None:
    request = MockRequest("http://tgi", exchange.method.lower(), exchange.path, data=exchange.request_body,
                          content_type="application/json" if exchange.request_body else None)  # fmt: skip
    if exchange.content_type == "text/event-stream":
        assert SSE_FRAMING.match(exchange.response_body), exchange.response_body[:200]
        assert b"[DONE]" not in exchange.response_body
        for event in re.findall(rb"data:[^\n]*\n\n", exchange.response_body):
            spec.validate_response(request, MockResponse(event, exchange.status, content_type="text/event-stream"))
        return
    content_type = exchange.content_type.split(";")[0] or None
    spec.validate_response(request, MockResponse(exchange.response_body, exchange.status, content_type=content_type))


@pytest.fixture
def tgi(spec: OpenAPI) -> Iterator[FakeTgi]:
    """A fresh test server; after the test every response it gave must match TGI's OpenAPI document."""
    server = FakeTgi(model_id=MODEL)
    yield server
    assert server.exchanges, "the test made no request"
    for exchange in server.exchanges:
        if exchange.status != 401:  # TGI's document does not describe its auth failures
            validate_exchange(spec, exchange)


def test_all_checks_pass_against_a_healthy_server(tgi: FakeTgi) -> None:
    with running(tgi) as url:
        client = TgiClient(url)
        before = metric_total(client, "tgi_request_count")
        checks = [
            check_health(client),
            check_info(client, MODEL),
            check_generate(client),
            check_generate_stream(client),
        ]
        after = metric_total(client, "tgi_request_count")
    assert [c.ok for c in checks] == [True] * 4, checks
    assert (before, after) == (0, 2)


def test_unhealthy_server_fails_the_health_check(tgi: FakeTgi) -> None:
    tgi.healthy = False
    with running(tgi) as url:
        check = check_health(TgiClient(url))
    assert not check.ok
    assert check.detail.startswith("503")
    assert check.hint


def test_wrong_model_is_reported(tgi: FakeTgi) -> None:
    with running(tgi) as url:
        check = check_info(TgiClient(url), "meta-llama/Llama-3.2-1B")
    assert not check.ok
    assert MODEL in check.detail


def test_api_key_is_sent_when_configured(tgi: FakeTgi) -> None:
    tgi.api_key = "s3cret"
    with running(tgi) as url:
        without = [check_generate(TgiClient(url)), check_generate_stream(TgiClient(url))]
        with_key = [check_generate(TgiClient(url, "s3cret")), check_generate_stream(TgiClient(url, "s3cret"))]
    assert [c.ok for c in without] == [False, False]
    assert "API key" in without[0].hint
    assert [c.ok for c in with_key] == [True, True]


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
    ids=["tgi", "comment-space-crlf", "multi-line", "openai-done", "details-null-as-real-tgi-sends"],
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


def test_chart_helm_test_script_passes_against_the_server(tgi: FakeTgi) -> None:
    with running(tgi) as url:
        result = run_helm_test_script(url, MODEL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        "PASS health", "PASS info", "PASS generate", "PASS generate_stream",
    ]  # fmt: skip


def test_chart_helm_test_script_fails_with_a_reason(tgi: FakeTgi) -> None:
    tgi.api_key = "k"
    with running(tgi) as url:
        result = run_helm_test_script(url, "other/model")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1].startswith("FAIL info: serves")
    assert lines[2].startswith("FAIL generate: 401")
    assert "API key" in lines[2]


def test_chart_script_is_the_generated_copy() -> None:
    source = (REPO_ROOT / "src" / "workload" / "ops" / "tgi_check.py").read_text(encoding="utf-8")
    copy = (CHART / "files" / "tgi_check.py").read_text(encoding="utf-8")
    assert copy.startswith("# GENERATED")
    assert copy.endswith(source)
