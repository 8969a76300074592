"""vLLM, the OpenAI-compatible server most platforms serve (vllm/vllm-openai).

vLLM is configured by flags: the image's entry point is `vllm serve`, so the container's args are the model
(positional) and flags. It binds every interface, serves /metrics on its main port always, guards only
/v1, /v2, /inference and /cohere with its API key, and aborts requests in flight at SIGTERM unless
--shutdown-timeout says otherwise. Facts are from vLLM 0.32.0 unless a line says otherwise, each cited in
docs/reference/vllm.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workload.engines.base import Engine, ImageFacts, Probes, Signals, SimulatorRequest, Verifier
from workload.engines.vllm.log import LOG_FAILURES, read_progress
from workload.engines.vllm.rules import DEFAULT_DRAIN_SECONDS, IMAGE_TAG, MESSAGES, VERSION_GATES, drain_seconds, rules

if TYPE_CHECKING:
    from workload.models.ml_inference_load.values import MlInferenceLoad
    from workload.sizing.metadata import ModelFacts
    from workload.sizing.plan import Plan

# Variables the chart sets for vLLM, and the values field a user should change instead.
MANAGED_ENV: dict[str, str] = {
    "VLLM_API_KEY": "apiKey",
    "VLLM_ENGINE_READY_TIMEOUT_S": "healthCheck.startupTimeoutSeconds (the engine must be ready within it)",
    "VLLM_NO_USAGE_STATS": "nothing (the chart turns vLLM's usage reporting off)",
}
# Flags the chart sets, in every spelling vLLM's parser takes (engine/arg_utils.py; `_` for `-` is accepted:
# utils/argparse_utils.py), and the values field to change instead.
_FLAGS = {
    "--model": "model.id", "--served-model-name": "model.id", "--revision": "model.revision",
    "--quantization": "model.quantization", "-q": "model.quantization", "--dtype": "model.dtype",
    "--trust-remote-code": "model.trustRemoteCode", "--max-model-len": "inference.maxTotalTokens",
    "--max-num-seqs": "inference.maxConcurrentRequests", "--tensor-parallel-size": "gpu.count",
    "-tp": "gpu.count", "--gpu-memory-utilization": "inference.memoryFraction",
    "--device-memory-utilization": "inference.memoryFraction", "--port": "inference.port",
    "--host": "nothing (vLLM binds every interface)",
    "--api-key": "apiKey", "--shutdown-timeout": "inference.gracefulTerminationTimeout",
}  # fmt: skip
MANAGED_FLAGS: dict[str, str] = _FLAGS

# Only routes the API key guards go through the gateway; /health, /tokenize, /invocations and the rest answer
# without it (measured on vLLM 0.32.0), so they stay inside the cluster.
ROUTES = ("/v1/chat/completions", "/v1/completions", "/v1/models")


def _verifier() -> Verifier:
    from workload.engines.openai_verify import OpenAiVerifier  # noqa: PLC0415  (only `verify` needs it)

    return OpenAiVerifier("vLLM", "--model")


def _simulate(request: SimulatorRequest) -> None:
    from workload.engines.openai_simulator import VLLM, Settings, serve  # noqa: PLC0415  (only `simulate`)

    settings = Settings(
        profile=VLLM, model_id=request.model_id, api_key=request.api_key, token_delay=request.token_delay,
        max_concurrent_requests=request.max_concurrent_requests,
    )  # fmt: skip
    serve(settings, request.host, request.port)


def _memory_rule(facts: ModelFacts, v: MlInferenceLoad, memory: int, gpu_name: str) -> Plan:
    from workload.engines.vllm.memory import plan_for  # noqa: PLC0415  (only sizing needs it)

    return plan_for(facts, v, memory, gpu_name)


ENGINE = Engine(
    name="vllm",
    title="vLLM",
    image=ImageFacts(
        repository="vllm/vllm-openai",
        tag=IMAGE_TAG,
        # The vllm-openai target keeps USER root (docker/Dockerfile); caches default to $HOME/.cache.
        root_only_since="0.0.0",
        non_root_uid=2000,
        root_reason="the vllm/vllm-openai image runs as root: its Dockerfile's vllm-openai stage has no USER",
        non_root_recipe="vLLM's vllm-openai-nonroot target (docker/Dockerfile)",
    ),
    # The port is bound early but not served until the model is loaded, so the startup probe waits for the
    # load; /health then answers 503 only when the engine core is dead: cheap enough for readiness and
    # liveness (entrypoints/serve/instrumentator/health.py:22-33).
    probes=Probes(
        startup="/health",
        readiness="/health",
        liveness="/health",
        readiness_failing="/health fails only when vLLM's engine core is dead: read the pod log for its error",
    ),
    routes=ROUTES,
    signals=Signals(
        active_requests=("vllm:num_requests_running", "vllm:num_requests_waiting"),
        kv_pressure=("vllm:kv_cache_usage_perc",),
        adapter_metric="vllm_active_requests",  # docs/autoscaling/prometheus-adapter-rules.yaml
        successes="vllm:request_success_total",
    ),
    managed_env=MANAGED_ENV,
    managed_flags=MANAGED_FLAGS,
    field_defaults={},
    # model_executor/layers/quantization/__init__.py:15-55 (no bitsandbytes or gguf in 0.32.0); config/model.py:99.
    quantizations=(
        "awq",
        "fp8",
        "gptq",
        "gptq_marlin",
        "awq_marlin",
        "compressed-tensors",
        "experts_int8",
        "modelopt",
        "modelopt_fp4",
        "mxfp4",
        "quark",
        "moe_wna16",
        "torchao",
    ),
    dtypes=("auto", "half", "float16", "bfloat16", "float", "float32"),
    api_key_env="VLLM_API_KEY",
    default_drain_seconds=DEFAULT_DRAIN_SECONDS,
    version_gates=VERSION_GATES,
    messages=MESSAGES,
    rules=rules,
    drain_seconds=drain_seconds,
    log_failures=LOG_FAILURES,
    read_progress=read_progress,
    dashboard="vllm.json",
    simulator_script="openai_simulator.py",
    check_script="openai_check.py",
    docs_url="https://docs.vllm.ai",
    verifier=_verifier,
    simulate=_simulate,
    memory_rule=_memory_rule,
)
