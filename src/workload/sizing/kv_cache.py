"""The pieces of a start rule that vLLM and SGLang share: a per-head KV cache sharded over tensor-parallel
ranks, and the few flags of inference.extraArgs that change a rule's numbers."""

from __future__ import annotations

from collections.abc import Sequence

from workload.sizing.metadata import COMPUTE_DTYPE_BYTES, ModelFacts, ModelShape

# --kv-cache-dtype values that store a byte per element (vLLM config/cache.py:39-53; SGLang
# srt/arg_groups/fields/model.py:197-221); every other value, and auto, keeps the model's 16-bit dtype.
ONE_BYTE_KV_DTYPES = ("fp8", "fp8_e4m3", "fp8_e5m2", "fp8_inc", "fp8_ds_mla", "mxfp8")
HALF_BYTE_KV_DTYPES = ("nvfp4", "fp4_mx_block16")


def kv_heads_per_rank(kv_heads: int, ranks: int) -> int:
    """vLLM config/model.py:1666-1670 and SGLang srt/configs/model_config.py:1707-1711: divided over the ranks,
    and replicated (one per GPU) when there are fewer heads than ranks."""
    return max(1, kv_heads // ranks)


def kv_dtype_bytes(extra_args: Sequence[str]) -> float:
    value = (flag(extra_args, "--kv-cache-dtype") or "auto").lower()
    if value in ONE_BYTE_KV_DTYPES:
        return 1
    if value in HALF_BYTE_KV_DTYPES:
        return 0.5
    return COMPUTE_DTYPE_BYTES


def kv_bytes_per_token(shape: ModelShape, ranks: int, extra_args: Sequence[str]) -> int:
    """Keys and values of every layer, for one token, on one GPU."""
    heads = kv_heads_per_rank(shape.kv_heads, ranks)
    return int(2 * shape.layers * heads * shape.head_dim * kv_dtype_bytes(extra_args))


def sharding_problem(shape: ModelShape, ranks: int, engine: str) -> str:
    """Why the rule cannot size this model on `ranks` GPUs; "" when it can."""
    if shape.unsupported:
        return f"cannot size the KV cache of model type {shape.model_type}: {shape.unsupported}"
    if shape.attention_heads % ranks:
        return (f"{engine} cannot split {shape.attention_heads} attention heads over {ranks} GPUs (they must be "
                "divisible by its tensor-parallel size)")  # fmt: skip
    return ""


def common_assumptions(facts: ModelFacts, gpu_memory_bytes: int, gpu_name: str) -> list[dict[str, str]]:
    """The first lines of every rule's assumptions: where the metadata came from and the GPU's memory."""
    return [
        {"name": "model metadata", "value": facts.source, "source": facts.weights_source},
        {"name": "gpu memory", "value": f"{gpu_memory_bytes >> 20} MiB ({gpu_name})",
         "source": "nvidia-smi memory.total, as GPU Feature Discovery's nvidia.com/gpu.memory reports it"},
    ]  # fmt: skip


def flag(extra_args: Sequence[str], name: str) -> str | None:
    """The value inference.extraArgs gives a flag (`--name value` or `--name=value`); the last one wins, as in
    argparse."""
    found = None
    for index, arg in enumerate(extra_args):
        if arg == name and index + 1 < len(extra_args):
            found = extra_args[index + 1]
        elif arg.startswith(name + "="):
            found = arg.split("=", 1)[1]
    return found


def int_flag(extra_args: Sequence[str], name: str) -> int | None:
    value = flag(extra_args, name)
    return int(value) if value is not None and value.isdigit() else None
