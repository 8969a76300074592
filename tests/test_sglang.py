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


def test_the_probes_wait_for_sglangs_own_health_verdict(render: Render) -> None:
    """/health takes 1 s and up to 20 s to answer (srt/entrypoints/http_server.py:218, 777-799): a probe that gives
    up sooner would fail a healthy server; a longer timeout in the values is kept."""
    c = container(render(EXAMPLE))
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["timeoutSeconds"] >= 21, probe
    longer = yaml.safe_load(EXAMPLE) | {"healthCheck": {"timeoutSeconds": 40}}
    assert container(render(yaml.safe_dump(longer)))["livenessProbe"]["timeoutSeconds"] == 40


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


# SGLang 0.5.23's log lines, formatted as its source formats them (docs/reference/sglang.md cites each call).
STARTUP = [
    "[2026-12-05 10:00:05 TP0] Load weight begin. avail mem=78.50 GB",
    "[2026-12-05 10:00:30 TP0] Load weight end. elapsed=24.61 s, type=LlamaForCausalLM, dtype=torch.bfloat16, "
    "avail mem=63.20 GB, mem usage=15.30 GB.",
    "[2026-12-05 10:00:31 TP0] KV Cache is allocated. dtype: torch.bfloat16, #tokens: 401326, KV size: 49.00 GB",
    "[2026-12-05 10:00:50 TP0] max_total_num_tokens=401326, chunked_prefill_size=8192, max_prefill_tokens=16384, "
    "max_running_requests=4096, context_len=4096, available_gpu_mem=7.41 GB",
    "[2026-12-05 10:01:02] The server is fired up and ready to roll!",
]


def test_the_log_reader_follows_sglangs_start() -> None:
    from workload.ops.phases import Phase, read_log  # noqa: PLC0415

    phases = [read_log(STARTUP[: n + 1], SGLANG).phase for n in range(len(STARTUP))]
    assert phases == [Phase.DOWNLOADING, Phase.LOADING, Phase.WARMING_UP, Phase.WARMING_UP, Phase.READY]
    state = read_log(STARTUP, SGLANG)
    assert (state.kv_cache_tokens, state.diagnosis) == (401326, None)


def test_a_context_length_above_the_models_names_the_field() -> None:
    from workload.ops.phases import read_log  # noqa: PLC0415

    # srt/configs/model_config.py:1295-1316
    line = ("ValueError: Warning: User-specified context_length (65536) is greater than the derived context_length "
            "(32768). This may lead to incorrect model outputs or CUDA errors.")  # fmt: skip
    diagnosis = read_log([*STARTUP[:1], line], SGLANG).diagnosis
    assert diagnosis is not None
    assert "maxTotalTokens" in diagnosis.fix


def test_sglangs_memory_failures_name_the_fix() -> None:
    from workload.ops.phases import read_log  # noqa: PLC0415

    for line in (
        # srt/model_executor/pool_configurator.py:96
        "RuntimeError: Not enough memory. Please try to increase --mem-fraction-static. Current value: "
        "mem_fraction_static=0.8",
        # srt/mem_cache/kv_cache_configurator.py:3051
        "ValueError: Loaded weights leave no GPU memory for the KV cache under --mem-fraction-static=0.8. Raise "
        "--mem-fraction-static above 0.912",
    ):
        diagnosis = read_log([*STARTUP[:2], line], SGLANG).diagnosis
        assert diagnosis is not None, line
        assert "inference.memoryFraction" in diagnosis.fix
        assert "gpu.count" in diagnosis.fix
