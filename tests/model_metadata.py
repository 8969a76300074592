"""Model folders as `workload size` reads them (config.json, and safetensors headers or an index), written
by the tests: the configs of published models (values as in their config.json on the Hub) and their
indexes' published total_size, never weights."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

QWEN_05B = {"model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864, "num_attention_heads": 14,
            "num_hidden_layers": 24, "num_key_value_heads": 2, "max_position_embeddings": 32768,
            "torch_dtype": "bfloat16", "vocab_size": 151936}  # fmt: skip
QWEN_05B_TOTAL_SIZE = 988097536  # Qwen/Qwen2.5-0.5B-Instruct, bf16
LLAMA_8B = {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32,
            "num_hidden_layers": 32, "num_key_value_heads": 8, "max_position_embeddings": 131072,
            "torch_dtype": "bfloat16", "vocab_size": 128256, "tie_word_embeddings": False}  # fmt: skip
LLAMA_8B_TOTAL_SIZE = 16060522496  # model.safetensors.index.json of meta-llama/Llama-3.1-8B-Instruct
LLAMA_70B = {"model_type": "llama", "hidden_size": 8192, "intermediate_size": 28672, "num_attention_heads": 64,
             "num_hidden_layers": 80, "num_key_value_heads": 8, "max_position_embeddings": 131072,
             "vocab_size": 128256, "tie_word_embeddings": False}  # fmt: skip
LLAMA_70B_TOTAL_SIZE = 141107412992  # model.safetensors.index.json of meta-llama/Llama-3.1-70B-Instruct
DEEPSEEK_V3 = {"model_type": "deepseek_v3", "hidden_size": 7168, "intermediate_size": 18432,
               "num_attention_heads": 128, "num_hidden_layers": 61, "num_key_value_heads": 128,
               "kv_lora_rank": 512, "qk_rope_head_dim": 64, "v_head_dim": 128}  # fmt: skip


def safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]]) -> None:
    """A real safetensors file: 8-byte length, JSON header, then the (zero) data of each tensor."""
    width = {"F32": 4, "BF16": 2, "I32": 4, "F8_E4M3": 1}
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = width[dtype] * (shape[0] * shape[1] if len(shape) == 2 else shape[0])
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * offset)


def model_folder(folder: Path, config: dict[str, Any], total_size: int | None = None) -> Path:
    """config.json, and with `total_size` a model.safetensors.index.json (an existing folder is rewritten)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    if total_size is not None:
        index = {"metadata": {"total_size": total_size}, "weight_map": {}}
        (folder / "model.safetensors.index.json").write_text(json.dumps(index), encoding="utf-8")
    return folder
