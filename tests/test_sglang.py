"""SGLang behind the values contract: what the chart renders for it, held to SGLang 0.5.23's facts (no entry
point, a loopback default bind, metrics off by default, the API key's scope, probes that cost nothing or a
token, a drain with no time limit), and what both tools refuse for it."""

from __future__ import annotations

from typing import Any

import yaml

from conftest import EXAMPLES, Render, by_kind, container, env_of
from workload.engines import engine
from workload.validation import validate_document

SGLANG = engine("sglang")
EXAMPLE = (EXAMPLES / "sglang.yaml").read_text(encoding="utf-8")


def args_of(docs: list[dict[str, Any]]) -> list[str]:
    return [str(a) for a in container(docs)["args"]]


def flag(args: list[str], name: str) -> str:
    assert name in args, f"{name} not in {args}"
    return args[args.index(name) + 1]


def test_the_command_is_the_server_module_with_sglangs_flags(render: Render) -> None:
    docs = render(EXAMPLE)
    c, args = container(docs), args_of(docs)
    assert c["image"] == "lmsysorg/sglang:v0.5.23"
    assert c["command"] == ["python3", "-m", "sglang.launch_server"], "the image has no entry point"
    assert flag(args, "--model-path") == "Qwen/Qwen2.5-0.5B-Instruct"
    assert flag(args, "--served-model-name") == "Qwen/Qwen2.5-0.5B-Instruct"
    assert flag(args, "--context-length") == "4096"
    assert flag(args, "--tp-size") == "1"
    assert flag(args, "--host") == "0.0.0.0", "SGLang binds 127.0.0.1 by default: no probe or Service reaches it"
    assert flag(args, "--port") == "8080"
    assert "--enable-metrics" in args, "/metrics exists only with --enable-metrics"
    assert flag(args, "--api-key") == "$(API_KEY)", "the kubelet fills it from the Secret: no literal key"
    assert env_of(docs)["API_KEY"] == {"secretKeyRef": {"name": "qwen-sglang-api-key", "key": "api-key"}}
    assert "--api-key" not in args_of(render(EXAMPLE.replace("apiKey:\n  vaultPath: teams/ml/qwen-sglang-api-key\n",
                                                             "")))  # fmt: skip


def test_no_probe_uses_a_route_the_key_guards(render: Render) -> None:
    # The key guards every route but /health*, /ready* and /metrics*: /ping needs it, so no probe may use it.
    c = container(render(EXAMPLE))
    paths = {p: c[p]["httpGet"]["path"] for p in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert paths == {"startupProbe": "/health", "readinessProbe": "/ready", "livenessProbe": "/health"}


def test_the_grace_period_bounds_the_drain(render: Render) -> None:
    """SGLang drains until done; nothing renders a drain flag, and gracefulTerminationTimeout is refused."""
    docs = render(EXAMPLE)
    assert not [a for a in args_of(docs) if "timeout" in a]
    document = {**yaml.safe_load(EXAMPLE), "inference": {"engine": "sglang", "gracefulTerminationTimeout": 30}}
    assert [str(p) for p in validate_document(document)[1]] == [
        "inference.gracefulTerminationTimeout: is a setting of TGI, vLLM, which SGLang does not have; remove it "
        "(inference.extraArgs passes the engine's own flags)"
    ]


def test_the_autoscaler_reads_sglangs_own_gauges(render: Render) -> None:
    text = EXAMPLE + "monitoring:\n  serviceMonitor:\n    enabled: true\nscaling:\n  autoscaling:\n    enabled: true\n"
    queries = [t["metadata"]["query"] for t in by_kind(render(text), "ScaledObject")["spec"]["triggers"]]
    assert queries[0] == ('sum(sglang:num_running_reqs{namespace="test-ns",service="qwen-sglang"}) + '
                          'sum(sglang:num_queue_reqs{namespace="test-ns",service="qwen-sglang"})')  # fmt: skip
    assert queries[1] == 'avg(sglang:token_usage{namespace="test-ns",service="qwen-sglang"})'


def test_sglang_takes_quantizations_vllm_does_not() -> None:
    for method, problems in (("bitsandbytes", 0), ("gguf", 0), ("exl2", 1)):
        document = {**yaml.safe_load(EXAMPLE)}
        document["model"] = {**document["model"], "quantization": method}
        assert len(validate_document(document)[1]) == problems, method
