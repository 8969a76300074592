"""SGLang's start rule applied to a model and a GPU: will it start, and how many tokens its KV pool holds.

SGLang 0.5.23, per GPU (tensor parallel: each rank holds 1/n of the weights and of the key/value heads):
- --mem-fraction-static, "(model weights + KV cache pool) / GPU memory capacity", is computed when not given:
  round((gpu_mem - reserved) / gpu_mem, 3) with reserved = 512 MiB + max(chunked_prefill_size, 2048) x 1.5 +
  tp / 8 x 1024 + the CUDA-graph reserve, floored at 10 GiB on a GPU of more than 60 GiB
  (srt/arg_groups/memory_hook.py:281-343, 357-400); chunked_prefill_size and the decode graphs' largest batch
  follow the GPU's memory (memory_hook.py:84-170);
- the pool is what is free after the weights load minus (1 - fraction) of what was free before
  (srt/mem_cache/kv_cache_configurator.py:2990-3038); none left stops it: "Loaded weights leave no GPU memory
  for the KV cache under --mem-fraction-static" (kv_cache_configurator.py:3041-3056);
- a pool smaller than --context-length (inference.maxTotalTokens) is only a warning: "KV pool holds %d tokens,
  fewer than --context-length %d" (srt/managers/tp_worker.py:556-566), and long requests are refused.
The CUDA context is in no file: it is the estimated term.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workload.sizing.fixes import fixes_for
from workload.sizing.gpus import MIB
from workload.sizing.kv_cache import (
    common_assumptions,
    int_flag,
    kv_bytes_per_token,
    kv_heads_per_rank,
    sharding_problem,
)
from workload.sizing.metadata import ModelFacts
from workload.sizing.plan import GIB, Plan

if TYPE_CHECKING:  # annotations only: the workload type sits above the engines and calls them
    from workload.models.ml_inference_load.values import MlInferenceLoad

SOURCE = "SGLang 0.5.23 "
CUDA_CONTEXT_BYTES = GIB // 2  # driver context and workspaces, taken before SGLang measures free memory
UNCERTAINTY_BYTES = 1 * GIB  # how far the estimated term and the multimodal reservations may be off, per GPU
# (below MiB of GPU memory, chunked_prefill_size, decode graph max batch with tp < 4, with tp >= 4):
# memory_hook.py:84-155
GPU_SETTINGS = ((20 * 1024, 2048, 8, 8), (35 * 1024, 4096, 48, 160), (60 * 1024, 4096, 32, 160),
                (90 * 1024, 8192, 256, 512), (160 * 1024, 8192, 256, 512))  # fmt: skip
LARGEST_GPU_SETTINGS = (16384, 512, 512)


@dataclass(frozen=True)
class Request:
    """What the workload asks of SGLang, and the GPU it runs on."""

    ranks: int  # gpu.count: --tp-size
    context_length: int  # inference.maxTotalTokens: --context-length
    gpu_memory_bytes: int
    gpu_name: str
    quantized: bool
    memory_fraction: float | None = None  # inference.memoryFraction: --mem-fraction-static; None: computed
    chunked_prefill_size: int | None = None  # --chunked-prefill-size in inference.extraArgs
    max_running_requests: int | None = None  # inference.maxConcurrentRequests: --max-running-requests
    extra_args: tuple[str, ...] = ()


def request_for(v: MlInferenceLoad, memory: int, gpu_name: str) -> Request:
    inference = v.inference
    return Request(
        ranks=v.gpu.count, context_length=inference.max_total_tokens, gpu_memory_bytes=memory, gpu_name=gpu_name,
        quantized=v.model.quantization is not None, memory_fraction=inference.memory_fraction,
        chunked_prefill_size=int_flag(inference.extra_args, "--chunked-prefill-size"),
        max_running_requests=inference.max_concurrent_requests, extra_args=tuple(inference.extra_args),
    )  # fmt: skip


def plan_for(facts: ModelFacts, v: MlInferenceLoad, memory: int, gpu_name: str) -> Plan:
    """SGLang's memory start rule (Engine.memory_rule) for a values file."""
    return plan(facts, request_for(v, memory, gpu_name))


def gpu_settings(request: Request) -> tuple[int, int]:
    """(chunked_prefill_size, decode graph max batch) for the GPU's memory (memory_hook.py:84-170)."""
    gpu_mib = request.gpu_memory_bytes / MIB
    chunked, small_tp, large_tp = LARGEST_GPU_SETTINGS
    for below, chunk, small, large in GPU_SETTINGS:
        if gpu_mib < below:
            chunked, small_tp, large_tp = chunk, small, large
            break
    decode_max_bs = small_tp if request.ranks < 4 else large_tp
    if request.max_running_requests is not None:
        decode_max_bs = min(decode_max_bs, request.max_running_requests)
    return request.chunked_prefill_size or chunked, decode_max_bs


def default_fraction(request: Request) -> float:
    """SGLang's computed --mem-fraction-static (memory_hook.py:281-343): graph and activation reserve in MiB.
    The decode graphs reserve 2 MiB per batch size (reserve_for_graph_mb, lines 357-400); the prefill graph,
    which would add 8 MiB per captured size, is off unless asked for (cuda_graph_hook.py:104-130)."""
    gpu_mib = request.gpu_memory_bytes / MIB
    chunked, decode_max_bs = gpu_settings(request)
    reserved = 512 + max(chunked, 2048) * 1.5 + request.ranks / 8 * 1024 + decode_max_bs * 2
    if gpu_mib > 60 * 1024:
        reserved = max(reserved, 10 * 1024)
    return round((gpu_mib - reserved) / gpu_mib, 3)


def fraction(request: Request) -> float:
    return request.memory_fraction if request.memory_fraction is not None else default_fraction(request)


def compute(facts: ModelFacts, request: Request) -> Plan:
    """The numbers only (no fixes, no warnings)."""
    shape, ranks = facts.shape, request.ranks
    weights = -(-facts.weights_bytes // ranks)
    per_token = kv_bytes_per_token(shape, ranks, request.extra_args)
    free_before_load = request.gpu_memory_bytes - CUDA_CONTEXT_BYTES
    slack = int(free_before_load * (1 - fraction(request)))
    pool = free_before_load - weights - slack
    capacity = max(0, pool // per_token) if per_token else 0
    problem = sharding_problem(shape, ranks, "SGLang")
    fits = not problem and capacity > 0  # it starts; a pool below the context length is only a warning
    result = Plan(weights, per_token, CUDA_CONTEXT_BYTES + slack, int(capacity), request.context_length, fits,
                  int(pool - request.context_length * per_token), problem=problem)  # fmt: skip
    if fits and capacity < request.context_length:
        result.warnings = [f"SGLang starts but warns 'KV pool holds {capacity} tokens, fewer than --context-length "
                           f"{request.context_length}': requests longer than the pool are refused or truncated "
                           f"({SOURCE}srt/managers/tp_worker.py:556-566)"]  # fmt: skip
    return result


def plan(facts: ModelFacts, request: Request) -> Plan:
    """The verdict with fixes, SGLang's own words, and the assumptions behind it."""
    result = compute(facts, request)
    result.fixes = fixes_for(compute, facts, request, result, UNCERTAINTY_BYTES)
    if not result.fits and not result.problem:
        result.fixes.insert(0, f"SGLang would stop at start: 'Loaded weights leave no GPU memory for the KV cache "
                               f"under --mem-fraction-static={fraction(request)}'")  # fmt: skip
    if (result.warnings or not result.fits) and request.memory_fraction is None and fraction(request) < 0.9:
        result.fixes.append(f"inference.memoryFraction above SGLang's computed {fraction(request)} (the reserve "
                            "for activations and CUDA graphs shrinks with it: a risk of running out)")  # fmt: skip
    result.assumptions = assumptions(facts, request)
    return result


def assumptions(facts: ModelFacts, request: Request) -> list[dict[str, str]]:
    def item(name: str, value: object, source: str) -> dict[str, str]:
        return {"name": name, "value": str(value), "source": source}

    chunked, decode_max_bs = gpu_settings(request)
    computed = request.memory_fraction is None
    out = [
        *common_assumptions(facts, request.gpu_memory_bytes, request.gpu_name),
        item("tensor parallel", request.ranks, "gpu.count (--tp-size)"),
        item("mem_fraction_static", fraction(request),
             SOURCE + "srt/arg_groups/memory_hook.py:281-343, 357-400 (computed: chunked_prefill_size "
             f"{chunked}, decode graph batch {decode_max_bs})" if computed else "inference.memoryFraction"),
        item("KV pool", "free before the weights - weights - free before the weights x (1 - mem_fraction_static)",
             SOURCE + "srt/mem_cache/kv_cache_configurator.py:2990-3038"),
        item("kv per token", f"2 x layers x {kv_heads_per_rank(facts.shape.kv_heads, request.ranks)} kv heads per "
             "GPU x head_dim x dtype bytes", SOURCE + "srt/configs/model_config.py:1700-1711"),
        item("kv dtype", "the model's 16-bit dtype unless inference.extraArgs gives --kv-cache-dtype",
             SOURCE + "srt/arg_groups/fields/model.py:197-221"),
        item("CUDA context", f"{CUDA_CONTEXT_BYTES / GIB:.1f} GiB", "estimate: taken before SGLang measures free "
             "memory"),
        item("uncertainty", f"+/- {UNCERTAINTY_BYTES / GIB:.1f} GiB per GPU",
             "the estimated term; a headroom below it is reported with fixes"),
        item("start rule", "a KV pool of at least one token starts; fewer tokens than --context-length is a "
             "warning", SOURCE + "srt/mem_cache/kv_cache_configurator.py:3041-3056, srt/managers/tp_worker.py:556-566"),
    ]  # fmt: skip
    return out
