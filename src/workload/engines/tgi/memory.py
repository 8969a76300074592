"""TGI's start rule applied to a model and a GPU: will it start, and how many tokens of KV cache it gets.

TGI v3.3.7, per GPU (each shard holds 1/n of the weights and of the key/value heads):
- warm-up loads the weights, runs one prefill of max_batch_prefill_tokens, then takes the free memory
  minus (1 - CUDA_MEMORY_FRACTION x TGI_WIGGLE_ROOM) of the card
  (server/text_generation_server/models/flash_causal_lm.py lines 1556-1562,
  utils/import_utils.py lines 13-17, models/globals.py line 32, utils/dist.py line 13);
- that memory becomes KV blocks of layers x block x kv_heads x head_dim x 2 x dtype bytes each
  (flash_causal_lm.py lines 1519-1521; kv heads per shard, lines 1291-1295) and
  max_batch_total_tokens = blocks x block size;
- the router refuses to start when max_total_tokens > max_batch_total_tokens
  (backends/v3/src/lib.rs lines 98-99, "Not enough memory to handle `max_total_tokens`").
The CUDA context and the prefill's activations are not in any file: they are the estimated terms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from workload.engines.tgi.rules import input_tokens
from workload.sizing.gpus import GPU_TYPES
from workload.sizing.metadata import COMPUTE_DTYPE_BYTES, ModelFacts
from workload.sizing.plan import GIB, Plan

if TYPE_CHECKING:  # annotations only: the workload type sits above the engines and calls them
    from workload.models.ml_inference_load.values import MlInferenceLoad

TGI_WIGGLE_ROOM = 0.90  # models/globals.py line 32 (env TGI_WIGGLE_ROOM)
CUDA_MEMORY_FRACTION = 1.0  # utils/dist.py line 13 (env CUDA_MEMORY_FRACTION): unless inference.memoryFraction sets it
CUDA_CONTEXT_BYTES = 1 * GIB  # CUDA context, cuBLAS/NCCL workspaces: 0.5-1 GiB on Ampere/Hopper; the high end
DEFAULT_PREFILL_TOKENS = 4096  # launcher/src/main.rs lines 2122-2127 (capped at max_position_embeddings)
UNCERTAINTY_BYTES = 1 * GIB  # how far the estimated terms may be off, per GPU
QUANTIZED_SHARE = 0.3  # a 4-bit AWQ/GPTQ checkpoint's size against 16-bit (packed weights, scales, 16-bit embeddings)


@dataclass(frozen=True)
class Request:
    """What the workload asks of TGI, and the GPU it runs on."""

    shards: int
    max_total_tokens: int
    max_input_tokens: int
    max_batch_prefill_tokens: int | None
    gpu_memory_bytes: int
    gpu_name: str  # a GPU type, or "N MiB"
    quantized: bool
    memory_fraction: float = CUDA_MEMORY_FRACTION  # inference.memoryFraction, or TGI's default


def request_for(v: MlInferenceLoad, memory: int, gpu_name: str) -> Request:
    """What a values file asks of TGI on a GPU of `memory` bytes."""
    inference = v.inference
    return Request(shards=v.gpu.count, max_total_tokens=inference.max_total_tokens,
                   max_input_tokens=input_tokens(v),
                   max_batch_prefill_tokens=inference.max_batch_prefill_tokens, gpu_memory_bytes=memory,
                   gpu_name=gpu_name, quantized=v.model.quantization is not None,
                   memory_fraction=inference.memory_fraction or CUDA_MEMORY_FRACTION)  # fmt: skip


def plan_for(facts: ModelFacts, v: MlInferenceLoad, memory: int, gpu_name: str) -> Plan:
    """TGI's memory start rule (Engine.memory_rule) for a values file."""
    return plan(facts, request_for(v, memory, gpu_name))


def prefill_tokens(request: Request, facts: ModelFacts) -> int:
    if request.max_batch_prefill_tokens is not None:
        return request.max_batch_prefill_tokens
    default = min(DEFAULT_PREFILL_TOKENS, facts.shape.max_position_embeddings or DEFAULT_PREFILL_TOKENS)
    return max(default, request.max_input_tokens)


def kv_heads_per_gpu(kv_heads: int, shards: int) -> int:
    """flash_causal_lm.py lines 1291-1295: divided over the shards, unless there is a single one."""
    return kv_heads // shards if kv_heads > 1 else kv_heads


def compute(facts: ModelFacts, request: Request) -> Plan:
    """The numbers only (no fixes)."""
    shape, shards = facts.shape, request.shards
    weights = -(-facts.weights_bytes // shards)
    kv_heads = kv_heads_per_gpu(shape.kv_heads, shards)
    per_token = 2 * shape.layers * kv_heads * shape.head_dim * COMPUTE_DTYPE_BYTES
    # launcher/src/main.rs lines 320-327: TGI's own per-token activation estimate ("overshooting").
    activation = (shape.intermediate_size + shape.intermediate_size // 2) * shape.experts * COMPUTE_DTYPE_BYTES * 3
    overhead = CUDA_CONTEXT_BYTES + prefill_tokens(request, facts) * activation // shards
    usable = int(request.gpu_memory_bytes * request.memory_fraction * TGI_WIGGLE_ROOM)
    kv_memory = usable - weights - overhead
    capacity = max(0, kv_memory // per_token) if per_token else 0
    problem = ""
    if shape.unsupported:
        problem = f"cannot size the KV cache of model type {shape.model_type}: {shape.unsupported}"
    elif kv_heads == 0:
        problem = f"TGI cannot shard {shape.kv_heads} key/value heads over {shards} GPUs"
    fits = not problem and capacity >= request.max_total_tokens
    return Plan(weights, per_token, overhead, int(capacity), request.max_total_tokens, fits,
                int(kv_memory - request.max_total_tokens * per_token), problem=problem)  # fmt: skip


def plan(facts: ModelFacts, request: Request) -> Plan:
    """The verdict with fixes and the assumptions behind it."""
    result = compute(facts, request)
    result.fixes = fixes(facts, request, result)
    result.assumptions = assumptions(facts, request)
    return result


def fixes(facts: ModelFacts, request: Request, result: Plan) -> list[str]:
    """Concrete changes that make it fit (or, when it fits with little room, that give it room)."""
    if result.problem and facts.shape.unsupported:
        return ["size it by hand: this model's cache is not TGI's per-head KV cache"]
    out: list[str] = []
    tight = result.fits and result.headroom_bytes_per_gpu < UNCERTAINTY_BYTES
    if result.fits and not tight:
        return out
    if not result.problem and result.kv_capacity_tokens > request.max_input_tokens + 1:
        best = (
            result.kv_capacity_tokens
            if not tight
            else max(request.max_input_tokens + 1, result.kv_capacity_tokens // 2)
        )
        out.append(f"inference.maxTotalTokens: {best} or less (the KV cache holds {result.kv_capacity_tokens} tokens)")
    for shards in (2, 4, 8):
        if shards > request.shards and facts.shape.attention_heads % shards == 0:
            bigger = compute(facts, replace(request, shards=shards))
            if bigger.fits and bigger.headroom_bytes_per_gpu >= UNCERTAINTY_BYTES:
                out.append(f"gpu.count: {shards} (TGI shards the weights and key/value heads over them; "
                           f"{bigger.kv_capacity_tokens} tokens of KV cache)")  # fmt: skip
                break
    if not request.quantized:
        smaller = replace(facts, weights_bytes=int(facts.weights_bytes * QUANTIZED_SHARE))
        quantized = compute(smaller, request)
        if quantized.fits:
            out.append(f"a 4-bit AWQ or GPTQ variant of the model (model.id and model.quantization: about "
                       f"{smaller.weights_bytes / GIB:.1f} GiB of weights, {quantized.kv_capacity_tokens} tokens "
                       "of KV cache)")  # fmt: skip
    for name, gpu in GPU_TYPES.items():
        if gpu.memory_bytes > request.gpu_memory_bytes:
            larger = compute(facts, replace(request, gpu_memory_bytes=gpu.memory_bytes, gpu_name=name))
            if larger.fits and larger.headroom_bytes_per_gpu >= UNCERTAINTY_BYTES:
                out.append(f"gpu.type: {name} ({gpu.memory_mib} MiB; {larger.kv_capacity_tokens} tokens of KV cache)")
                break
    return out


def assumptions(facts: ModelFacts, request: Request) -> list[dict[str, str]]:
    def item(name: str, value: object, source: str) -> dict[str, str]:
        return {"name": name, "value": str(value), "source": source}

    tgi = "TGI v3.3.7 "
    fraction_source = ("inference.memoryFraction" if request.memory_fraction != CUDA_MEMORY_FRACTION
                       else tgi + "server/text_generation_server/utils/dist.py:13")  # fmt: skip
    return [
        item("model metadata", facts.source, "exact tensor headers" if facts.exact else "the index's total_size"),
        item(
            "gpu memory",
            f"{request.gpu_memory_bytes >> 20} MiB ({request.gpu_name})",
            "nvidia-smi memory.total, as GPU Feature Discovery's nvidia.com/gpu.memory reports it",
        ),
        item("shards", request.shards, "gpu.count (NUM_SHARD)"),
        item("TGI_WIGGLE_ROOM", TGI_WIGGLE_ROOM, tgi + "server/text_generation_server/models/globals.py:32"),
        item("CUDA_MEMORY_FRACTION", request.memory_fraction, fraction_source),
        item(
            "kv dtype bytes",
            COMPUTE_DTYPE_BYTES,
            tgi + "flash_causal_lm.py:1310 (the model's 16-bit dtype; the chart sets no KV cache dtype)",
        ),
        item(
            "kv per token",
            "2 x layers x kv_heads/shards x head_dim x dtype bytes, every layer (TGI does not "
            "shrink sliding-window layers)",
            tgi + "flash_causal_lm.py:1519-1521, 1291-1295",
        ),
        item(
            "weights",
            "float tensors at 2 bytes, int and FP8 tensors as stored, divided by the shards",
            tgi + "server/text_generation_server/utils/weights.py:219-230",
        ),
        item(
            "prefill tokens",
            prefill_tokens(request, facts),
            "inference.maxBatchPrefillTokens, else "
            + tgi
            + "launcher/src/main.rs:2122-2141 (4096, capped at max_position_embeddings)",
        ),
        item(
            "activation bytes per prefill token",
            "(1.5 x intermediate_size) x experts x 2 x 3 / shards",
            tgi + "launcher/src/main.rs:320-327 (TGI's own estimate, which it calls overshooting)",
        ),
        item(
            "CUDA context",
            f"{CUDA_CONTEXT_BYTES / GIB:.1f} GiB",
            "estimate: CUDA context, cuBLAS and NCCL workspaces take 0.5-1 GiB; the high end is taken",
        ),
        item(
            "uncertainty",
            f"+/- {UNCERTAINTY_BYTES / GIB:.1f} GiB per GPU",
            "the two estimated terms; a headroom below it is reported with fixes",
        ),
        item("start rule", "kv_capacity_tokens >= max_total_tokens", tgi + "backends/v3/src/lib.rs:98-99"),
    ]
