"""The sizing of one ML_INFERENCE_LOAD values file: its GPU, its TGI settings and its model's metadata."""

from __future__ import annotations

from pathlib import Path

from workload.engines.tgi.memory import Plan, Request, plan
from workload.models.ml_inference_load import MlInferenceLoad
from workload.problems import Problem
from workload.quantities import memory_bytes
from workload.sizing.gpus import GPU_TYPES, MIB
from workload.sizing.metadata import ModelFacts, SizingError, find, from_cache


def gpu_memory(v: MlInferenceLoad, gpu_type: str | None = None, amount: str | None = None) -> tuple[int, str]:
    """(bytes, name) of one GPU: --gpu-memory, else --gpu-type, else gpu.type."""
    if amount:
        try:
            value = int(amount) * MIB if amount.isdigit() else memory_bytes(amount)
        except (ValueError, KeyError):
            raise SizingError(f"--gpu-memory {amount}: not an amount (MiB as a number, or a quantity: 80Gi)") from None
        return value, f"{value // MIB} MiB"
    name = gpu_type or v.gpu.type
    if name is None:
        raise SizingError("gpu.type is not set: give --gpu-type (one of " + ", ".join(GPU_TYPES) + ") or --gpu-memory")
    if name not in GPU_TYPES:
        raise SizingError(f"--gpu-type {name}: not a known GPU type (one of {', '.join(GPU_TYPES)})")
    return GPU_TYPES[name].memory_bytes, name


def request_for(v: MlInferenceLoad, memory: int, gpu_name: str) -> Request:
    inference = v.inference
    return Request(shards=v.gpu.count, max_total_tokens=inference.max_total_tokens,
                   max_input_tokens=inference.max_input_length,
                   max_batch_prefill_tokens=inference.max_batch_prefill_tokens, gpu_memory_bytes=memory,
                   gpu_name=gpu_name, quantized=v.model.quantization is not None)  # fmt: skip


def size(
    v: MlInferenceLoad,
    *,
    model_dir: Path | None = None,
    gpu_type: str | None = None,
    amount: str | None = None,
    online: bool = True,
) -> Plan:
    memory, name = gpu_memory(v, gpu_type, amount)
    facts = find(v.model.id, v.model.revision, model_dir, online=online)
    return plan(facts, request_for(v, memory, name))


def misfit(v: MlInferenceLoad, facts: ModelFacts, memory: int, gpu_name: str) -> Plan | None:
    """The plan when TGI would refuse to start; None when it fits, or when the model cannot be sized (an
    attention TGI's formula does not cover is no reason to refuse a workload)."""
    result = plan(facts, request_for(v, memory, gpu_name))
    return None if result.fits or result.problem else result


def fit_problem(v: MlInferenceLoad) -> Problem | None:
    """`workload validate`'s share of the verdict: a workload that names its GPU type and whose model is in the
    Hugging Face cache on disk is sized without asking anything over the network."""
    if v.gpu.type is None or v.simulator.enabled:
        return None
    try:
        facts = from_cache(v.model.id, v.model.revision)
    except SizingError:
        return None
    if facts is None:
        return None
    result = misfit(v, facts, GPU_TYPES[v.gpu.type].memory_bytes, v.gpu.type)
    if result is None:
        return None
    return Problem("inference.maxTotalTokens", f"does not fit: {v.gpu.count} x {v.gpu.type} leave room for "
                   f"{result.kv_capacity_tokens} tokens of KV cache, fewer than {result.max_total_tokens}, and TGI "
                   "refuses to start; `workload size` lists the fixes")  # fmt: skip


def dashboard_sizing(v: MlInferenceLoad, facts: ModelFacts) -> str:
    """What `workload deploy` writes into monitoring.grafanaDashboard.sizing: the plan for gpu.type."""
    if not v.monitoring.grafana_dashboard.enabled or v.monitoring.grafana_dashboard.sizing or v.gpu.type is None:
        return ""
    memory, name = gpu_memory(v)
    return plan(facts, request_for(v, memory, name)).summary(f"{v.gpu.count} x {name}")
