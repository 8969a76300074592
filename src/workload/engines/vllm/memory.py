"""vLLM's start rule applied to a model and a GPU: will it start, and how many tokens of KV cache it gets.

vLLM 0.32.0, per GPU (tensor parallel: each rank holds 1/n of the weights and of the key/value heads):
- it asks for requested = ceil(total x gpu_memory_utilization), default 0.92, and refuses to start when less
  than that is free ("Free memory on device ... is less than desired GPU memory utilization";
  v1/worker/utils.py:716-770, config/cache.py:102);
- a profile run of max_num_batched_tokens dummy tokens and a sampler run over max_num_seqs rows measure the
  memory that is not KV cache: weights, the activation peak, non-torch memory (v1/worker/gpu_worker.py:676-744,
  v1/worker/gpu_model_runner.py:6193-6200, utils/mem_utils.py:300-321); the CUDA-graph estimate is taken off too
  (gpu_worker.py:700-744; VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS on by default, envs.py:2221-2222);
- available = requested - that; KV per token = 2 x layers x max(1, kv_heads / tp) x head_dim x dtype bytes
  (config/model.py:1650-1670);
- it refuses to start when nothing is left ("No available memory for the cache blocks") or when one request of
  max_model_len (inference.maxTotalTokens) does not fit ("To serve at least one request with the model's max seq
  len"; v1/core/kv_cache_utils.py:1003-1040).
The activation peak, non-torch memory, CUDA graphs and CUDA context are in no file: they are the estimated terms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workload.sizing.fixes import fixes_for
from workload.sizing.kv_cache import (
    common_assumptions,
    int_flag,
    kv_bytes_per_token,
    kv_heads_per_rank,
    sharding_problem,
)
from workload.sizing.metadata import COMPUTE_DTYPE_BYTES, ModelFacts
from workload.sizing.plan import GIB, Plan

if TYPE_CHECKING:  # annotations only: the workload type sits above the engines and calls them
    from workload.models.ml_inference_load.values import MlInferenceLoad

SOURCE = "vLLM 0.32.0 "
GPU_MEMORY_UTILIZATION = 0.92  # config/cache.py:102 (--gpu-memory-utilization): unless inference.memoryFraction
CUDA_CONTEXT_BYTES = GIB // 2  # held before vLLM measures free memory, so it must fit in the unrequested share
NON_TORCH_BYTES = GIB // 2  # cuBLAS workspaces, NCCL buffers when sharded: inside the requested memory
CUDA_GRAPH_BYTES = 1 * GIB  # profile_cudagraph_memory's estimate: 0.5-1.5 GiB for the default capture sizes
UNCERTAINTY_BYTES = 3 * GIB // 2  # how far the estimated terms may be off, per GPU
SAMPLER_BYTES_PER_LOGIT = 4 * 2  # float32 logits and the probabilities made from them


@dataclass(frozen=True)
class Request:
    """What the workload asks of vLLM, and the GPU it runs on."""

    ranks: int  # gpu.count: --tensor-parallel-size
    max_model_len: int  # inference.maxTotalTokens: --max-model-len
    gpu_memory_bytes: int
    gpu_name: str  # a GPU type, or "N MiB"
    quantized: bool
    memory_utilization: float = GPU_MEMORY_UTILIZATION
    max_num_batched_tokens: int | None = None  # --max-num-batched-tokens in inference.extraArgs
    max_num_seqs: int | None = None  # inference.maxConcurrentRequests: --max-num-seqs
    extra_args: tuple[str, ...] = ()


def request_for(v: MlInferenceLoad, memory: int, gpu_name: str) -> Request:
    inference = v.inference
    return Request(
        ranks=v.gpu.count, max_model_len=inference.max_total_tokens, gpu_memory_bytes=memory, gpu_name=gpu_name,
        quantized=v.model.quantization is not None,
        memory_utilization=inference.memory_fraction or GPU_MEMORY_UTILIZATION,
        max_num_batched_tokens=int_flag(inference.extra_args, "--max-num-batched-tokens"),
        max_num_seqs=inference.max_concurrent_requests, extra_args=tuple(inference.extra_args),
    )  # fmt: skip


def plan_for(facts: ModelFacts, v: MlInferenceLoad, memory: int, gpu_name: str) -> Plan:
    """vLLM's memory start rule (Engine.memory_rule) for a values file."""
    return plan(facts, request_for(v, memory, gpu_name))


def scheduler_defaults(request: Request) -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs) of the OpenAI server: engine/arg_utils.py:2923-2951 picks them by
    the GPU's memory (an A100 keeps the small ones, PR #17885)."""
    memory, name = request.gpu_memory_bytes, request.gpu_name.lower()
    if memory >= 160 * GIB:
        tokens, seqs = 16384, 1024
    elif memory >= 70 * GIB and "a100" not in name:
        tokens, seqs = 8192, 1024
    else:
        tokens, seqs = 2048, 256
    return request.max_num_batched_tokens or tokens, request.max_num_seqs or seqs


def activation_bytes(facts: ModelFacts, request: Request) -> int:
    """The profile run's peak: per batched token the MLP's gate/up output and its activation (3 x intermediate
    per routed expert, split over the ranks) and a few hidden-size buffers, at 16 bits; plus the sampler's
    logits over the vocabulary for max_num_seqs rows."""
    shape = facts.shape
    tokens, seqs = scheduler_defaults(request)
    per_token = 3 * shape.intermediate_size * shape.experts_per_token // request.ranks + 4 * shape.hidden_size
    logits = seqs * (shape.vocab_size or 32000) * SAMPLER_BYTES_PER_LOGIT // request.ranks
    return tokens * per_token * COMPUTE_DTYPE_BYTES + logits


def compute(facts: ModelFacts, request: Request) -> Plan:
    """The numbers only (no fixes)."""
    shape, ranks = facts.shape, request.ranks
    weights = -(-facts.weights_bytes // ranks)
    per_token = kv_bytes_per_token(shape, ranks, request.extra_args)
    overhead = activation_bytes(facts, request) + NON_TORCH_BYTES + CUDA_GRAPH_BYTES
    requested = math.ceil(request.gpu_memory_bytes * request.memory_utilization)
    available = requested - weights - overhead
    capacity = max(0, available // per_token) if per_token else 0
    problem = sharding_problem(shape, ranks, "vLLM")
    free_at_start = request.gpu_memory_bytes - CUDA_CONTEXT_BYTES
    fits = not problem and free_at_start >= requested and capacity >= request.max_model_len
    return Plan(weights, per_token, overhead, int(capacity), request.max_model_len, fits,
                int(available - request.max_model_len * per_token), problem=problem)  # fmt: skip


def plan(facts: ModelFacts, request: Request) -> Plan:
    """The verdict with fixes, vLLM's own words when it would refuse, and the assumptions behind it."""
    result = compute(facts, request)
    result.fixes = fixes_for(compute, facts, request, result, UNCERTAINTY_BYTES)
    if not result.fits and not result.problem:
        result.fixes.insert(0, refusal(result, request))
    result.assumptions = assumptions(facts, request)
    return result


def refusal(result: Plan, request: Request) -> str:
    """What vLLM would say at start, as the first line of the fixes."""
    if request.gpu_memory_bytes - CUDA_CONTEXT_BYTES < math.ceil(request.gpu_memory_bytes * request.memory_utilization):
        return (f"vLLM would stop at start: 'Free memory on device ... is less than desired GPU memory utilization "
                f"({request.memory_utilization})': lower inference.memoryFraction to 0.95 or less")  # fmt: skip
    if result.kv_capacity_tokens == 0:
        return "vLLM would stop at start: 'No available memory for the cache blocks'"
    return (f"vLLM would stop at start: 'To serve at least one request with the model's max seq len "
            f"({request.max_model_len}), ... KV cache is needed, which is larger than the available KV cache "
            f"memory'; about {result.kv_capacity_tokens} tokens fit")  # fmt: skip


def assumptions(facts: ModelFacts, request: Request) -> list[dict[str, str]]:
    def item(name: str, value: object, source: str) -> dict[str, str]:
        return {"name": name, "value": str(value), "source": source}

    tokens, seqs = scheduler_defaults(request)
    utilization_source = ("inference.memoryFraction" if request.memory_utilization != GPU_MEMORY_UTILIZATION
                          else SOURCE + "vllm/config/cache.py:102")  # fmt: skip
    return [
        *common_assumptions(facts, request.gpu_memory_bytes, request.gpu_name),
        item("tensor parallel", request.ranks, "gpu.count (--tensor-parallel-size)"),
        item("gpu_memory_utilization", request.memory_utilization, utilization_source),
        item("requested memory", "ceil(total x gpu_memory_utilization), all of it free at start",
             SOURCE + "vllm/v1/worker/utils.py:716-770"),
        item("kv per token", f"2 x layers x {kv_heads_per_rank(facts.shape.kv_heads, request.ranks)} kv heads per "
             "GPU x head_dim x dtype bytes, every layer (sliding-window layers, which vLLM makes smaller, are "
             "counted whole)", SOURCE + "vllm/config/model.py:1650-1670"),
        item("kv dtype", "the model's 16-bit dtype unless inference.extraArgs gives --kv-cache-dtype",
             SOURCE + "vllm/config/cache.py:122"),
        item("profile run", f"{tokens} batched tokens, a sampler over {seqs} rows",
             "--max-num-batched-tokens and inference.maxConcurrentRequests, else "
             + SOURCE + "vllm/engine/arg_utils.py:2923-2951"),
        item("activation peak", "batched tokens x (3 x intermediate x routed experts / GPUs + 4 x hidden) x 2 "
             "bytes + rows x vocabulary x 8 bytes / GPUs", "estimate of the profile run's peak "
             "(vllm/v1/worker/gpu_model_runner.py:6193-6200)"),
        item("non-torch memory", f"{NON_TORCH_BYTES / GIB:.1f} GiB", "estimate: cuBLAS workspaces, NCCL buffers"),
        item("CUDA graphs", f"{CUDA_GRAPH_BYTES / GIB:.1f} GiB", "estimate of profile_cudagraph_memory, taken off "
             "the KV cache (" + SOURCE + "vllm/v1/worker/gpu_worker.py:700-744)"),
        item("CUDA context", f"{CUDA_CONTEXT_BYTES / GIB:.1f} GiB",
             "estimate: held before vLLM measures free memory, outside the requested share"),
        item("uncertainty", f"+/- {UNCERTAINTY_BYTES / GIB:.1f} GiB per GPU",
             "the estimated terms; a headroom below it is reported with fixes"),
        item("start rule", "kv_capacity_tokens >= max_model_len (inference.maxTotalTokens)",
             SOURCE + "vllm/v1/core/kv_cache_utils.py:1003-1040"),
    ]  # fmt: skip
