"""The fixes a plan offers when a model does not fit (or fits with less room than the estimate's uncertainty):
each is a values change checked by running the engine's own rule again with it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from workload.sizing.gpus import GPU_TYPES
from workload.sizing.metadata import ModelFacts
from workload.sizing.plan import GIB, Plan

# (facts, gpus, memory of one GPU in bytes) -> the rule's numbers for that variation of the values
Variation = Callable[[ModelFacts, int, int], Plan]
QUANTIZED_SHARE = 0.3  # a 4-bit AWQ/GPTQ checkpoint's size against 16-bit (packed weights, scales, 16-bit embeddings)


class RuleRequest(Protocol):
    """What a tensor-parallel engine's rule is asked (a frozen dataclass with these fields)."""

    @property
    def ranks(self) -> int: ...
    @property
    def gpu_memory_bytes(self) -> int: ...
    @property
    def quantized(self) -> bool: ...


R = TypeVar("R", bound=RuleRequest)


def fixes_for(compute: Callable[[ModelFacts, R], Plan], facts: ModelFacts, request: R, result: Plan,
              margin: int) -> list[str]:  # fmt: skip
    """fixes() for a rule whose request is a dataclass: each variation replaces its GPU count and memory."""

    def variation(f: ModelFacts, gpus: int, memory: int) -> Plan:
        changed: Any = replace(request, ranks=gpus, gpu_memory_bytes=memory, gpu_name=f"{memory >> 20} MiB")  # type: ignore[type-var]
        return compute(f, changed)

    return fixes(variation, facts, result, gpus=request.ranks, memory=request.gpu_memory_bytes,
                 quantized=request.quantized, margin=margin)  # fmt: skip


def roomy(result: Plan, margin: int) -> bool:
    return result.fits and not result.warnings and result.headroom_bytes_per_gpu >= margin


def fixes(
    rule: Variation, facts: ModelFacts, result: Plan, *, gpus: int, memory: int, quantized: bool, margin: int
) -> list[str]:
    """Concrete changes that make it fit with `margin` bytes of headroom per GPU."""
    if roomy(result, margin) or result.problem:
        return []
    out: list[str] = []
    per_token = max(1, result.kv_bytes_per_token_per_gpu)
    # Where it does not fit (or only with a warning): what the cache holds; where it is tight: what leaves
    # `margin` of room.
    tight = result.fits and not result.warnings
    best = result.kv_capacity_tokens - (-(-margin // per_token) if tight else 0)
    if 0 < best < result.max_total_tokens:
        out.append(f"inference.maxTotalTokens: {best} or less (the KV cache holds {result.kv_capacity_tokens} "
                   "tokens)")  # fmt: skip
    for count in (2, 4, 8):
        if count > gpus and facts.shape.attention_heads % count == 0:
            bigger = rule(facts, count, memory)
            if roomy(bigger, margin):
                out.append(f"gpu.count: {count} (tensor parallel: the weights and key/value heads split over "
                           f"them; {bigger.kv_capacity_tokens} tokens of KV cache)")  # fmt: skip
                break
    if not quantized:
        smaller = replace(facts, weights_bytes=int(facts.weights_bytes * QUANTIZED_SHARE))
        quantized_plan = rule(smaller, gpus, memory)
        if roomy(quantized_plan, margin):
            out.append(f"a 4-bit AWQ or GPTQ variant of the model (model.id and model.quantization: about "
                       f"{smaller.weights_bytes / GIB:.1f} GiB of weights, {quantized_plan.kv_capacity_tokens} "
                       "tokens of KV cache)")  # fmt: skip
    for name, gpu in GPU_TYPES.items():
        if gpu.memory_bytes > memory:
            larger = rule(facts, gpus, gpu.memory_bytes)
            if roomy(larger, margin):
                out.append(f"gpu.type: {name} ({gpu.memory_mib} MiB; {larger.kv_capacity_tokens} tokens of KV cache)")
                break
    return out
