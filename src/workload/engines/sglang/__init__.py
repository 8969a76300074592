"""SGLang (lmsysorg/sglang), the OpenAI-compatible server of the SGLang project.

SGLang is configured by flags and its image has no entry point, so the container runs `python3 -m
sglang.launch_server` with them. It binds 127.0.0.1 unless told otherwise, serves /metrics only with
--enable-metrics, guards every route but /health*, /ready* and /metrics* with its API key, and drains with no
time limit at SIGTERM. Facts are from SGLang 0.5.23 unless a line says otherwise, each cited in
docs/reference/sglang.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workload.engines.base import Engine, ImageFacts, Probes, Signals, SimulatorRequest, Verifier
from workload.engines.sglang.log import LOG_FAILURES, read_progress
from workload.engines.sglang.rules import (
    DEFAULT_DRAIN_SECONDS,
    IMAGE_TAG,
    MESSAGES,
    VERSION_GATES,
    drain_seconds,
    rules,
)

if TYPE_CHECKING:
    from workload.models.ml_inference_load.values import MlInferenceLoad
    from workload.sizing.metadata import ModelFacts
    from workload.sizing.plan import Plan

# Variables the chart sets for SGLang, and the values field a user should change instead. SGLang reads its key
# only from --api-key: the chart passes $(API_KEY), which the kubelet fills from the Secret.
MANAGED_ENV: dict[str, str] = {"API_KEY": "apiKey"}
# Flags the chart sets, in every spelling SGLang's parser takes (srt/arg_groups/fields/), and the values field
# to change instead.
MANAGED_FLAGS: dict[str, str] = {
    "--model-path": "model.id", "--model": "model.id", "--served-model-name": "model.id",
    "--revision": "model.revision", "--quantization": "model.quantization", "--dtype": "model.dtype",
    "--trust-remote-code": "model.trustRemoteCode", "--context-length": "inference.maxTotalTokens",
    "--max-running-requests": "inference.maxConcurrentRequests", "--tp-size": "gpu.count",
    "--mem-fraction-static": "inference.memoryFraction",
    "--tensor-parallel-size": "gpu.count", "--port": "inference.port",
    "--host": "nothing (the chart binds SGLang to every interface)", "--api-key": "apiKey",
    "--enable-metrics": "nothing (the chart turns SGLang's metrics on)",
}  # fmt: skip

# The inference routes; /health, /ready and /metrics answer without the key and stay inside the cluster.
ROUTES = ("/v1/chat/completions", "/v1/completions", "/v1/models")


def _verifier() -> Verifier:
    from workload.engines.openai_verify import OpenAiVerifier  # noqa: PLC0415  (only `verify` needs it)

    return OpenAiVerifier("SGLang", "--model-path")


def _simulate(request: SimulatorRequest) -> None:
    from workload.engines.openai_simulator import SGLANG, Settings, serve  # noqa: PLC0415  (only `simulate`)

    settings = Settings(
        profile=SGLANG, model_id=request.model_id, api_key=request.api_key, token_delay=request.token_delay,
        max_concurrent_requests=request.max_concurrent_requests, drain_seconds=float("inf"),
    )  # fmt: skip
    serve(settings, request.host, request.port)


def _memory_rule(facts: ModelFacts, v: MlInferenceLoad, memory: int, gpu_name: str) -> Plan:
    from workload.engines.sglang.memory import plan_for  # noqa: PLC0415  (only sizing needs it)

    return plan_for(facts, v, memory, gpu_name)


ENGINE = Engine(
    name="sglang",
    title="SGLang",
    image=ImageFacts(
        repository="lmsysorg/sglang",
        tag=IMAGE_TAG,
        root_only_since="0.0.0",
        non_root_uid=10001,
        root_reason="the lmsysorg/sglang image runs as root and has no other user: docker/Dockerfile has no USER",
        non_root_recipe="a derived image that runs as any uid (none in this repository yet)",
    ),
    # /health runs a one-token generation (20 s timeout) and answers 503 until warm-up ends: the startup probe
    # waits for it; it is skipped while the server is busy, so a busy server is never restarted by liveness.
    # /ready is a flag check: cheap readiness, 503 while starting or draining (srt/entrypoints/http_server.py).
    probes=Probes(
        startup="/health",
        readiness="/ready",
        liveness="/health",
        readiness_failing="/ready answers 503 while SGLang starts, pauses or drains: read the pod log",
        # /health sleeps 1 s, then waits up to SGLANG_HEALTH_CHECK_TIMEOUT (20 s) for its one-token generation
        # (srt/entrypoints/http_server.py:218, 777-799): a shorter probe timeout fails a healthy server.
        min_timeout_seconds=25,
    ),
    routes=ROUTES,
    signals=Signals(
        active_requests=("sglang:num_running_reqs", "sglang:num_queue_reqs"),
        kv_pressure=("sglang:token_usage",),
        adapter_metric="sglang_active_requests",  # docs/autoscaling/prometheus-adapter-rules.yaml
        successes="sglang:num_requests_total",  # no success counter with a finish reason exists
    ),
    managed_env=MANAGED_ENV,
    managed_flags=MANAGED_FLAGS,
    field_defaults={},
    # srt/arg_groups/choices.py:32-67; srt/arg_groups/fields/model.py:160-176.
    quantizations=(
        "awq",
        "fp8",
        "mxfp8",
        "gptq",
        "gptq_marlin",
        "awq_marlin",
        "bitsandbytes",
        "gguf",
        "modelopt",
        "modelopt_fp8",
        "modelopt_fp4",
        "w8a8_int8",
        "w8a8_fp8",
        "moe_wna16",
        "w4afp8",
        "mxfp4",
        "auto-round",
        "compressed-tensors",
        "quark",
    ),
    dtypes=("auto", "half", "float16", "bfloat16", "float", "float32"),
    api_key_env="API_KEY",
    default_drain_seconds=DEFAULT_DRAIN_SECONDS,
    version_gates=VERSION_GATES,
    messages=MESSAGES,
    rules=rules,
    drain_seconds=drain_seconds,
    log_failures=LOG_FAILURES,
    read_progress=read_progress,
    dashboard="sglang.json",
    simulator_script="openai_simulator.py",
    check_script="openai_check.py",
    docs_url="https://docs.sglang.ai",
    verifier=_verifier,
    simulate=_simulate,
    memory_rule=_memory_rule,
)
