"""The sizing of one ML_INFERENCE_LOAD values file: its GPU, its engine's memory start rule (Engine.memory_rule)
and its model's metadata."""

from __future__ import annotations

from pathlib import Path

from workload.engines.base import MemoryRule
from workload.models.ml_inference_load import MlInferenceLoad
from workload.models.ml_inference_load.rules import engine_of
from workload.problems import Problem
from workload.quantities import memory_bytes
from workload.sizing.gpus import GPU_TYPES, MIB
from workload.sizing.metadata import ModelFacts, SizingError, find, from_cache
from workload.sizing.plan import Plan


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


def memory_rule(v: MlInferenceLoad) -> MemoryRule:
    """The engine's start rule; a SizingError when the engine has none."""
    engine = engine_of(v)
    if engine.memory_rule is None:
        raise SizingError(f"inference.engine {engine.name}: `workload size` has no memory rule for {engine.title}")
    return engine.memory_rule


def size(
    v: MlInferenceLoad,
    *,
    model_dir: Path | None = None,
    gpu_type: str | None = None,
    amount: str | None = None,
    online: bool = True,
) -> Plan:
    rule = memory_rule(v)
    memory, name = gpu_memory(v, gpu_type, amount)
    facts = find(v.model.id, v.model.revision, model_dir, online=online)
    return rule(facts, v, memory, name)


def misfit(v: MlInferenceLoad, facts: ModelFacts, memory: int, gpu_name: str) -> Plan | None:
    """The plan when the engine would refuse to start; None when it fits, or when it cannot be sized (an engine
    with no memory rule, an attention its formula does not cover, or weights estimated from config.json are no
    reason to refuse a workload)."""
    rule = engine_of(v).memory_rule
    if rule is None or facts.estimated:
        return None
    result = rule(facts, v, memory, gpu_name)
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
                   f"{result.kv_capacity_tokens} tokens of KV cache, fewer than {result.max_total_tokens}, and "
                   f"{engine_of(v).title} refuses to start; `workload size` lists the fixes")  # fmt: skip


def dashboard_sizing(v: MlInferenceLoad, facts: ModelFacts) -> str:
    """What `workload deploy` writes into monitoring.grafanaDashboard.sizing: the plan for gpu.type."""
    rule = engine_of(v).memory_rule
    dashboard = v.monitoring.grafana_dashboard
    if rule is None or not dashboard.enabled or dashboard.sizing or v.gpu.type is None:
        return ""
    memory, name = gpu_memory(v)
    return rule(facts, v, memory, name).summary(f"{v.gpu.count} x {name}")
