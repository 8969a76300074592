"""Hugging Face Text Generation Inference (TGI), the design document's engine and the default.

TGI is configured by environment variables only (the launcher reads each flag from its env twin), binds
HOSTNAME, serves /metrics on its main port, and drains for 90 s after SIGTERM. Facts are from TGI v3.3.7
unless a line says otherwise: docs/reference/tgi-image.md (the image), docs/reference/tgi-router.md (the
router), docs/reference/gpu-memory.md (the start rule `workload size` follows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workload.engines.base import Engine, ImageFacts, Probes, Signals, SimulatorRequest, Verifier
from workload.engines.tgi.log import LOG_FAILURES, read_progress
from workload.engines.tgi.rules import (
    DEFAULT_DRAIN_SECONDS,
    FIELD_DEFAULTS,
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

# Variables the chart sets for TGI, and the values field a user should change instead (the chart sets
# more for every engine: chart_facts.CHART_ENV).
MANAGED_ENV: dict[str, str] = {
    "MODEL_ID": "model.id",
    "REVISION": "model.revision",
    "QUANTIZE": "model.quantization",
    "DTYPE": "model.dtype",
    "TRUST_REMOTE_CODE": "model.trustRemoteCode",
    "MAX_INPUT_TOKENS": "inference.maxInputLength",
    "MAX_INPUT_LENGTH": "inference.maxInputLength",
    "MAX_TOTAL_TOKENS": "inference.maxTotalTokens",
    "MAX_CONCURRENT_REQUESTS": "inference.maxConcurrentRequests",
    "CUDA_MEMORY_FRACTION": "inference.memoryFraction",
    "MAX_BATCH_PREFILL_TOKENS": "inference.maxBatchPrefillTokens",
    "MAX_BATCH_TOTAL_TOKENS": "inference.maxBatchTotalTokens",
    "CUDA_GRAPHS": "inference.cudaGraphs",
    "PAYLOAD_LIMIT": "inference.payloadLimit",
    "GRACEFUL_TERMINATION_TIMEOUT": "inference.gracefulTerminationTimeout",
    "PORT": "inference.port",
    "HOSTNAME": "nothing (the chart binds TGI to 0.0.0.0)",
    "NUM_SHARD": "gpu.count",
    "API_KEY": "apiKey",
}

# TGI's launcher takes each variable as a flag too (clap's env twin: MAX_TOTAL_TOKENS is --max-total-tokens,
# launcher/src/main.rs), so inference.extraArgs may not set them either.
MANAGED_FLAGS: dict[str, str] = {"--" + name.lower().replace("_", "-"): field for name, field in MANAGED_ENV.items()}

# The inference and info endpoints of TGI's API; /metrics, /docs and the SageMaker/Vertex routes stay inside.
# `/` is TGI's compat route (generate or stream by the body's `stream`): huggingface_hub's
# InferenceClient.text_generation and the text-generation client post there (tests/test_clients.py).
ROUTES = (
    "/", "/generate", "/generate_stream", "/v1/chat/completions", "/v1/completions", "/v1/models", "/info",
    "/health", "/tokenize",
)  # fmt: skip


def _verifier() -> Verifier:
    from workload.engines.tgi.verify import VERIFIER  # noqa: PLC0415  (only `verify` needs it)

    return VERIFIER


def _simulate(request: SimulatorRequest) -> None:
    from workload.engines.tgi.simulator import Settings, serve  # noqa: PLC0415  (only `simulate` needs it)

    settings = Settings(model_id=request.model_id, api_key=request.api_key, token_delay=request.token_delay,
                        max_concurrent_requests=request.max_concurrent_requests)  # fmt: skip
    serve(settings, request.host, request.port)


def _memory_rule(facts: ModelFacts, v: MlInferenceLoad, memory: int, gpu_name: str) -> Plan:
    from workload.engines.tgi.memory import plan_for  # noqa: PLC0415  (only sizing needs it)

    return plan_for(facts, v, memory, gpu_name)


ENGINE = Engine(
    name="tgi",
    title="TGI",
    image=ImageFacts(
        repository="ghcr.io/huggingface/text-generation-inference",
        tag=IMAGE_TAG,
        # From 3.1.1 the image's uv Python is under /root (mode 0700): it starts only as uid 0 (TGI issue 3082;
        # docs/reference/tgi-image.md).
        root_only_since="3.1.1",
        non_root_uid=10001,
        root_reason="TGI >= 3.1.1 keeps its Python under /root: TGI issue 3082",
        non_root_recipe="images/tgi-nonroot/Dockerfile",
    ),
    # /health runs a one-token forward pass once the model is loaded; /info is answered by the router alone,
    # so a server busy generating is never restarted (router/src/server.rs).
    probes=Probes(
        startup="/health",
        readiness="/health",
        liveness="/info",
        readiness_failing="/health runs a one-token generation: read the pod log after 'Connected' for the shard's "
        "error; if it is clean, check that nothing blocks the kubelet from the container port",
    ),
    routes=ROUTES,
    signals=Signals(
        active_requests=("tgi_queue_size", "tgi_batch_current_size"),  # queue.rs:143,158; backend.rs:170
        kv_pressure=("tgi_batch_current_max_tokens", "tgi_batch_max_total_tokens"),  # backend.rs:171; lib.rs:138
        adapter_metric="tgi_active_requests",  # docs/autoscaling/prometheus-adapter-rules.yaml
        successes="tgi_request_count",  # verify: it grows with each request served
    ),
    managed_env=MANAGED_ENV,
    managed_flags=MANAGED_FLAGS,
    field_defaults=FIELD_DEFAULTS,
    # launcher/src/main.rs `enum Quantization` and `enum Dtype` (v3.3.7).
    quantizations=(
        "awq",
        "eetq",
        "exl2",
        "gptq",
        "marlin",
        "bitsandbytes",
        "bitsandbytes-nf4",
        "bitsandbytes-fp4",
        "fp8",
        "compressed-tensors",
    ),
    dtypes=("float16", "bfloat16"),
    api_key_env="API_KEY",
    default_drain_seconds=DEFAULT_DRAIN_SECONDS,
    version_gates=VERSION_GATES,
    messages=MESSAGES,
    rules=rules,
    drain_seconds=drain_seconds,
    log_failures=LOG_FAILURES,
    read_progress=read_progress,
    dashboard="tgi.json",
    simulator_script="tgi/simulator.py",
    check_script="tgi/check.py",
    docs_url="https://huggingface.co/docs/text-generation-inference",
    verifier=_verifier,
    simulate=_simulate,
    memory_rule=_memory_rule,
)
