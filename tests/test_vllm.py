"""vLLM behind the values contract: what the chart renders for it, held to vLLM 0.32.0's facts (its entry point,
its flags, its API key's scope, its drain, its service-link trap), and what both tools refuse for it.
The simulator's vLLM profile is held to the same facts in tests/test_openai_simulator.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES, HelmFailed, Render, by_kind, container, env_of, helm_template
from workload.engines import engine
from workload.helm import problems_from_helm_error
from workload.validation import validate_document

VLLM = engine("vllm")
EXAMPLE = (EXAMPLES / "vllm.yaml").read_text(encoding="utf-8")


def values(**patch: Any) -> str:
    document = yaml.safe_load(EXAMPLE)
    for path, value in patch.items():
        node = document
        *parents, leaf = path.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return yaml.safe_dump(document)


def args_of(docs: list[dict[str, Any]]) -> list[str]:
    return [str(a) for a in container(docs)["args"]]


def flag(args: list[str], name: str) -> str:
    assert name in args, f"{name} not in {args}"
    return args[args.index(name) + 1]


def test_the_command_line_is_vllm_serves_args_with_the_model_first(render: Render) -> None:
    docs = render(EXAMPLE)
    c, args = container(docs), args_of(docs)
    assert c["image"] == "vllm/vllm-openai:v0.32.0"
    assert "command" not in c, "the image's entry point is `vllm serve`; a command would replace it"
    # Without a positional model vLLM quietly serves Qwen/Qwen3-0.6B (config/model.py:154); `serve` in args
    # is an unrecognised argument.
    assert args[0] == "Qwen/Qwen2.5-0.5B-Instruct"
    assert "serve" not in args
    assert flag(args, "--served-model-name") == "Qwen/Qwen2.5-0.5B-Instruct"
    assert flag(args, "--revision") == "main"
    assert flag(args, "--max-model-len") == "4096"
    assert flag(args, "--tensor-parallel-size") == "1"
    assert flag(args, "--port") == "8080"
    assert "--enable-metrics" not in args, "an SGLang flag: vLLM's parser refuses it and the pod never starts"
    assert "--api-key" not in args, "the key comes from the Secret through VLLM_API_KEY, never as a literal"
    env = env_of(docs)
    assert env["VLLM_API_KEY"] == {"secretKeyRef": {"name": "qwen-vllm-api-key", "key": "api-key"}}


def test_the_drain_fits_the_grace_period_after_the_prestop_pause(render: Render) -> None:
    # vLLM's own --shutdown-timeout 0 cuts every stream in flight at SIGTERM (measured: 8 of 8 cut).
    docs = render(EXAMPLE)
    pod = by_kind(docs, "Deployment")["spec"]["template"]["spec"]
    drain = int(flag(args_of(docs), "--shutdown-timeout"))
    pause = container(docs)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert drain > 0
    assert pause + drain < pod["terminationGracePeriodSeconds"]
    assert flag(args_of(render(values(inference__gracefulTerminationTimeout=30))), "--shutdown-timeout") == "30"
    shorter = render(values(inference__terminationGracePeriodSeconds=60))
    assert int(flag(args_of(shorter), "--shutdown-timeout")) == 60 - 10 - 5


def test_the_engine_is_ready_within_the_startup_budget(render: Render) -> None:
    env = env_of(render(values(healthCheck__startupTimeoutSeconds=3000)))
    assert env["VLLM_ENGINE_READY_TIMEOUT_S"] == "3000", "vLLM's 600 s default would end a start the budget allows"
    assert env["VLLM_NO_USAGE_STATS"] == "1"


def test_a_service_named_vllm_gets_no_service_links(render: Render) -> None:
    # Kubernetes would inject VLLM_PORT=tcp://... for a Service named vllm, and vLLM raises at engine start.
    docs = render(values(serviceName="vllm", ingress__host="vllm.llm.example.com"))
    assert by_kind(docs, "Service")["metadata"]["name"] == "vllm"
    assert by_kind(docs, "Deployment")["spec"]["template"]["spec"]["enableServiceLinks"] is False
    assert not [name for name in env_of(docs) if name.startswith("VLLM_PORT")]


def test_the_route_exposes_only_what_the_api_key_guards(render: Render) -> None:
    # --api-key guards only /v1, /v2, /inference and /cohere; /invocations, /tokenize, /health answer without it.
    route = by_kind(render(EXAMPLE), "HTTPRoute")
    paths = [m["path"]["value"] for rule in route["spec"]["rules"] for m in rule["matches"]]
    assert paths == list(VLLM.routes)
    assert all(p.startswith("/v1/") for p in paths)


def test_the_probes_use_health(render: Render) -> None:
    c = container(render(EXAMPLE))
    assert {c[p]["httpGet"]["path"] for p in ("startupProbe", "readinessProbe", "livenessProbe")} == {"/health"}


def test_the_autoscaler_reads_vllms_own_gauges(render: Render) -> None:
    text = values(monitoring__serviceMonitor={"enabled": True}, scaling__autoscaling={"enabled": True})
    queries = [t["metadata"]["query"] for t in by_kind(render(text), "ScaledObject")["spec"]["triggers"]]
    assert queries[0] == ('sum(vllm:num_requests_running{namespace="test-ns",service="qwen-vllm"}) + '
                          'sum(vllm:num_requests_waiting{namespace="test-ns",service="qwen-vllm"})')  # fmt: skip
    assert queries[1] == 'avg(vllm:kv_cache_usage_perc{namespace="test-ns",service="qwen-vllm"})'


@pytest.mark.parametrize(
    ("patch", "problem"),
    [
        (
            {"inference": {"engine": "vllm", "maxInputLength": 2048}},
            "inference.maxInputLength: is a setting of TGI, which vLLM does not have; remove it (inference.extraArgs "
            "passes the engine's own flags)",
        ),
        ({"inference": {"engine": "vllm", "cudaGraphs": [1, 2]}}, "inference.cudaGraphs: is a setting of TGI"),
        (
            {
                "inference": {"engine": "vllm"},
                "model": {"id": "a/b", "revision": "main", "quantization": "bitsandbytes"},
            },
            "model.quantization: vLLM does not take bitsandbytes; it takes awq, fp8,",
        ),
        (
            {"inference": {"engine": "vllm", "extraArgs": ["--max_model_len=8"]}},
            "inference.extraArgs[0]: --max-model-len is set by the chart; set inference.maxTotalTokens instead",
        ),
        (
            {"inference": {"engine": "vllm", "extraArgs": ["-tp", "2"]}},
            "inference.extraArgs[0]: -tp is set by the chart; set gpu.count instead",
        ),
        (
            {"inference": {"engine": "vllm", "extraArgs": ["--gpu-memory-utilization=0.8"]}},
            "inference.extraArgs[0]: --gpu-memory-utilization is set by the chart; set inference.memoryFraction "
            "instead",
        ),
        (
            {"inference": {"engine": "tgi"}, "model": {"id": "a/b", "revision": "main", "dtype": "float32"}},
            "model.dtype: TGI does not take float32; it takes float16, bfloat16",
        ),
    ],
    ids=[
        "tgi-only-field",
        "tgi-only-list",
        "quantization-not-in-0.32",
        "managed-flag",
        "short-alias",
        "memory-flag",
        "tgi-dtype",
    ],
)
def test_what_the_engine_lacks_is_refused_by_both_tools(helm: Path, patch: dict[str, Any], problem: str) -> None:
    document = {**yaml.safe_load((EXAMPLES / "minimal.yaml").read_text(encoding="utf-8")), **patch}
    found = [str(p) for p in validate_document(document)[1]]
    assert len(found) == 1
    assert found[0].startswith(problem)
    with pytest.raises(HelmFailed) as failed:
        helm_template(helm, yaml.safe_dump(document))
    assert [str(p) for p in problems_from_helm_error(failed.value.stderr)] == found


def test_a_default_never_triggers_the_refusal(render: Render) -> None:
    """TGI's fields default to unset, so a values file that only names the engine is accepted as is."""
    assert validate_document(yaml.safe_load(EXAMPLE))[1] == []
    assert validate_document({**yaml.safe_load(EXAMPLE), "inference": {"engine": "vllm"}})[1] == []


# vLLM 0.32.0's log lines, formatted as its source formats them (docs/reference/vllm.md cites each call).
STARTUP = [
    "(APIServer pid=1) INFO 12-05 10:00:00 [api_utils.py:285] non-default args: {'model_tag': 'org/model', "
    "'model': 'org/model', 'max_model_len': 4096}",
    "(EngineCore pid=80) INFO 12-05 10:00:09 [gpu_model_runner.py:5040] Starting to load model org/model...",
    "(EngineCore pid=80) INFO 12-05 10:00:30 [default_loader.py:502] Loading weights took 20.01 seconds",
    "(EngineCore pid=80) INFO 12-05 10:00:31 [gpu_model_runner.py:5150] Model loading took 2.31 GiB memory and "
    "21.5 seconds",
    "(EngineCore pid=80) INFO 12-05 10:00:50 [kv_cache_utils.py:2328] GPU KV cache size: 312,448 tokens, "
    "Maximum concurrency for 4,096 tokens per request: 76.28x",
    "(EngineCore pid=80) INFO 12-05 10:01:02 [core.py:390] init engine (profile, create kv cache, warmup model) "
    "took 31.20 s",
    "(APIServer pid=1) INFO:     Application startup complete.",
]


def test_the_log_reader_follows_vllms_start() -> None:
    from workload.ops.phases import Phase, read_log  # noqa: PLC0415

    phases = [read_log(STARTUP[: n + 1], VLLM).phase for n in range(len(STARTUP))]
    assert phases == [Phase.STARTING, Phase.DOWNLOADING, Phase.LOADING, Phase.LOADING, Phase.WARMING_UP,
                      Phase.WARMING_UP, Phase.READY]  # fmt: skip
    state = read_log(STARTUP, VLLM)
    assert (state.model, state.kv_cache_tokens, state.diagnosis) == ("org/model", 312448, None)
    assert state.detail() == "KV cache of 312,448 tokens", "in words that are not TGI's"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        # v1/core/kv_cache_utils.py:1029-1039
        ("ValueError: To serve at least one request with the model's max seq len (32768), (4.00 GiB KV cache is "
         "needed, which is larger than the available KV cache memory (1.50 GiB). Based on the available memory, "
         "the estimated maximum model length is 12288. Try increasing `gpu_memory_utilization`", "maxTotalTokens"),
        # config/model.py:2639-2664
        ("ValueError: User-specified max_model_len (65536) is greater than the derived max_model_len "
         "(max_position_embeddings=32768 or model_max_length=None in model's config.json).", "maxTotalTokens"),
        # config/scheduler.py:328-333
        ("ValueError: max_num_batched_tokens (2048) must be greater than or equal to max_num_seqs (4096).",
         "maxConcurrentRequests"),
        # v1/worker/utils.py:761-769
        ("ValueError: Free memory on device cuda:0 (10.2/79.1 GiB) on startup is less than desired GPU memory "
         "utilization (0.92, 72.8 GiB).", "inference.memoryFraction"),
        # v1/engine/core_client.py:742-749
        ("TimeoutError: Timed out waiting for engine core processes to start. This is often caused by slow weight "
         "loading", "startupTimeoutSeconds"),
        # envs.py:538-541
        ("ValueError: VLLM_PORT 'tcp://10.0.0.1:8000' appears to be a URI. This may be caused by a Kubernetes "
         "service discovery issue,", "environmentVariables"),
    ],
)  # fmt: skip
def test_a_failure_line_names_the_field_that_fixes_it(line: str, field: str) -> None:
    from workload.ops.phases import read_log  # noqa: PLC0415

    diagnosis = read_log([*STARTUP[:3], line], VLLM).diagnosis
    assert diagnosis is not None, line
    assert field in diagnosis.fix, diagnosis
    assert "engine core failed" not in diagnosis.problem
