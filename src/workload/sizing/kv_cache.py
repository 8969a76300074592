"""The pieces of a start rule that vLLM and SGLang share: a per-head KV cache sharded over tensor-parallel
ranks, and the few flags of inference.extraArgs that change a rule's numbers."""

from __future__ import annotations

from collections.abc import Sequence

from workload.sizing.metadata import COMPUTE_DTYPE_BYTES, ModelShape

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
