"""A model's shape (config.json) and the bytes of its weights as the engines load them, read without the
weights: from a local folder, the Hugging Face cache on disk, or the Hub (safetensors headers only).

A safetensors file starts with an 8-byte little-endian header length, then a JSON header naming each
tensor's dtype and shape, so the weights' size is exact from the headers alone. A model with config.json but
neither safetensors headers nor an index (PyTorch .bin files, or a folder holding the config only) is sized
from its configuration (weights_from_config below), and the plan says it is an estimate.
"""

from __future__ import annotations

import json
import logging
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workload.errors import ExitCode, WorkloadError

# Bytes per element of each safetensors dtype.
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "I64": 8, "I32": 4, "I16": 2,
               "I8": 1, "U8": 1, "BOOL": 1}  # fmt: skip
# TGI keeps these as stored (packed quantized weights, FP8) and casts every other tensor to its 16-bit compute
# dtype: server/text_generation_server/utils/weights.py v3.3.7 lines 219-230.
KEPT_AS_STORED = {"F8_E4M3", "I8", "I16", "I32", "I64"}
COMPUTE_DTYPE_BYTES = 2  # float16 or bfloat16 (models/__init__.py v3.3.7 lines 469-480)
# Attention whose cache is not per-head keys and values: the KV formula does not apply, so say so.
HYBRID_MODEL_TYPES = {"mamba", "mamba2", "falcon_mamba", "jamba", "zamba", "zamba2", "bamba", "falcon_h1",
                      "granitemoehybrid", "nemotron_h", "lfm2", "qwen3_next", "recurrent_gemma"}  # fmt: skip


class SizingError(WorkloadError):
    """Model metadata that cannot be found or read (exit code 2, like bad input)."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class ModelShape:
    """What config.json says about the decoder (text_config for a multimodal model)."""

    model_type: str
    layers: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    hidden_size: int
    intermediate_size: int
    experts: int
    max_position_embeddings: int | None
    unsupported: str = ""  # why TGI's KV formula does not apply to this model
    vocab_size: int = 0  # 0: config.json does not say
    experts_per_token: int = 1  # routed experts each token goes through (a mixture of experts)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ModelShape:
        top_type = str(config.get("model_type", ""))
        text = config.get("text_config") or config
        model_type = str(text.get("model_type", top_type))

        def number(*keys: str, default: int | None = None) -> int:
            for key in keys:
                if isinstance(text.get(key), int):
                    return int(text[key])
            if default is None:
                raise SizingError(f"config.json has none of {', '.join(keys)}: cannot size model type {model_type!r}")
            return default

        heads = number("num_attention_heads", "n_head", "num_heads")
        hidden = number("hidden_size", "n_embd", "d_model")
        unsupported = ""
        if "kv_lora_rank" in text:
            unsupported = "multi-head latent attention (MLA) caches a compressed latent, not per-head keys and values"
        layer_kinds = " ".join(str(k) for k in text.get("layer_types") or text.get("layers_block_type") or [])
        if model_type in HYBRID_MODEL_TYPES or top_type in HYBRID_MODEL_TYPES or "mamba" in layer_kinds:
            unsupported = "hybrid or state-space layers keep a state that is not a per-token KV cache"
        return cls(
            model_type=model_type,
            layers=number("num_hidden_layers", "n_layer", "num_layers"),
            attention_heads=heads,
            kv_heads=number("num_key_value_heads", "num_kv_heads", default=heads),
            head_dim=number("head_dim", default=hidden // heads),
            hidden_size=hidden,
            intermediate_size=number("intermediate_size", "ffn_dim", "n_inner", default=4 * hidden),
            experts=number("num_local_experts", "num_experts", "n_routed_experts", default=1),
            max_position_embeddings=text.get("max_position_embeddings"),
            unsupported=unsupported,
            vocab_size=number("vocab_size", "padded_vocab_size", default=0),
            experts_per_token=number("num_experts_per_tok", "moe_topk", "num_selected_experts", default=1),
        )


@dataclass(frozen=True)
class ModelFacts:
    shape: ModelShape
    weights_bytes: int  # as TGI holds them on the GPUs, all shards together
    source: str  # where the metadata came from
    exact: bool  # from tensor headers (True) or an index's total_size (False)
    estimated: bool = False  # weights counted from config.json (no headers, no index): not refused on

    @property
    def weights_source(self) -> str:
        """How the weights were counted, for a plan's assumptions."""
        if self.estimated:
            return ("an estimate from config.json (no safetensors headers or index): embeddings, attention and "
                    "MLP matrices at the checkpoint's precision; sizing/metadata.py weights_from_config")  # fmt: skip
        return "exact tensor headers" if self.exact else "the index's total_size"


def loaded_bytes(dtype: str, elements: int) -> int:
    """Bytes TGI holds for a tensor of `elements` stored as `dtype`."""
    if dtype in KEPT_AS_STORED or DTYPE_BYTES.get(dtype, 2) < COMPUTE_DTYPE_BYTES:
        return elements * DTYPE_BYTES.get(dtype, 1)
    return elements * COMPUTE_DTYPE_BYTES


def read_header(path: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file (the first 8 + n bytes; the tensors are never read)."""
    with path.open("rb") as file:
        raw = file.read(8)
        if len(raw) != 8:
            raise SizingError(f"{path}: not a safetensors file (shorter than its 8-byte header length)")
        (length,) = struct.unpack("<Q", raw)
        if length > 100_000_000:
            raise SizingError(f"{path}: not a safetensors file (header length {length})")
        header: dict[str, Any] = json.loads(file.read(length))
    return header


def weights_from_headers(headers: list[dict[str, Any]]) -> int:
    return sum(
        loaded_bytes(tensor["dtype"], math.prod(tensor["shape"]))
        for header in headers
        for name, tensor in header.items()
        if name != "__metadata__"
    )


def from_folder(folder: Path, source: str = "") -> ModelFacts:
    """config.json plus the safetensors headers (or the index's total_size) of a model folder."""
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise SizingError(f"{folder}: no config.json (a model folder holds config.json and *.safetensors)")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    shape = ModelShape.from_config(config)
    files = sorted(p for p in folder.glob("*.safetensors") if p.is_file())
    source = source or f"folder {folder}"
    if files:
        return ModelFacts(shape, weights_from_headers([read_header(p) for p in files]), source, exact=True)
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        total = int(json.loads(index.read_text(encoding="utf-8"))["metadata"]["total_size"])
        # An index gives the stored size; a 32-bit float checkpoint is loaded at half of it.
        stored_fp32 = str(config.get("torch_dtype", config.get("dtype", ""))) == "float32"
        return ModelFacts(shape, total // 2 if stored_fp32 else total, source, exact=False)
    return estimated(config, shape, source)


def estimated(config: dict[str, Any], shape: ModelShape, source: str) -> ModelFacts:
    return ModelFacts(shape, weights_from_config(config, shape), source, exact=False, estimated=True)


def hub_cache() -> Path:
    """The Hugging Face cache folder, as huggingface_hub finds it (HF_HUB_CACHE, else HF_HOME/hub)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface"
    )
    return Path(home) / "hub"


def from_cache(model_id: str, revision: str, *, estimate: bool = False) -> ModelFacts | None:
    """The model's snapshot in the Hugging Face cache on disk, if it holds the config and the weights'
    headers or index (or, with `estimate`, the config only: its weights are then counted from it). Read by its
    documented layout (models--org--name/refs/<branch>, snapshots/<commit>)
    rather than through huggingface_hub, whose import would slow `workload validate`."""
    repo = hub_cache() / ("models--" + model_id.replace("/", "--"))
    ref = repo / "refs" / revision
    commit = ref.read_text(encoding="utf-8").strip() if ref.is_file() else revision
    snapshot = repo / "snapshots" / commit
    if not (snapshot / "config.json").is_file():
        return None
    if (
        not estimate
        and not any(snapshot.glob("*.safetensors"))
        and not (snapshot / "model.safetensors.index.json").is_file()
    ):
        return None
    return from_folder(snapshot, f"the Hugging Face cache ({snapshot})")


def from_hub(model_id: str, revision: str) -> ModelFacts:
    """config.json and the safetensors headers from the Hub, pinned to `revision` (HF_TOKEN for gated models;
    HF_ENDPOINT for a mirror)."""
    from huggingface_hub import HfApi, hf_hub_download  # noqa: PLC0415 (a second to import; only `size` needs it)
    from huggingface_hub.errors import (  # noqa: PLC0415
        GatedRepoError,
        HfHubHTTPError,
        NotASafetensorsRepoError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    logging.getLogger("huggingface_hub").setLevel(
        logging.ERROR
    )  # its retry warnings are noise here; the one-line error below says it
    source = f"the Hub ({model_id}@{revision})"
    try:
        config = json.loads(Path(hf_hub_download(model_id, "config.json", revision=revision)).read_text("utf-8"))
        metadata = HfApi().get_safetensors_metadata(model_id, revision=revision)
    except NotASafetensorsRepoError:  # PyTorch .bin weights only: count them from the configuration
        return estimated(config, ModelShape.from_config(config), source)
    except GatedRepoError:
        raise SizingError(f"model.id {model_id}: gated; set HF_TOKEN to a token that may read it") from None
    except RevisionNotFoundError:
        raise SizingError(f"model.revision {revision}: not a revision of {model_id}") from None
    except RepositoryNotFoundError:
        raise SizingError(f"model.id {model_id}: no such model on the Hub (or private: set HF_TOKEN)") from None
    except (HfHubHTTPError, OSError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SizingError(f"cannot read {model_id}'s metadata from the Hub ({first}); pass --model-dir") from None
    headers = [
        {name: {"dtype": info.dtype, "shape": info.shape} for name, info in file.tensors.items()}
        for file in metadata.files_metadata.values()
    ]
    return ModelFacts(ModelShape.from_config(config), weights_from_headers(headers), source, exact=True)


def find(model_id: str, revision: str, model_dir: Path | None = None, *, online: bool = True) -> ModelFacts:
    """From --model-dir, else the cache, else the Hub (unless offline, or HF_HUB_OFFLINE is set)."""
    online = online and os.environ.get("HF_HUB_OFFLINE", "").lower() not in ("1", "true", "yes", "on")
    if model_dir is not None:
        return from_folder(model_dir)
    cached = from_cache(model_id, revision)
    if cached is not None:
        return cached
    if not online:
        config_only = from_cache(model_id, revision, estimate=True)
        if config_only is not None:
            return config_only
        raise SizingError(f"{model_id}@{revision} is not in the Hugging Face cache; pass --model-dir, or go online")
    return from_hub(model_id, revision)


# -- weights from the configuration ---------------------------------------------------------------------
# For a model with neither safetensors headers nor an index (PyTorch .bin checkpoints, or a folder that holds the
# configuration only). A decoder holds its embeddings (and an output head unless tied to them), and per layer the
# attention's q, k, v and o projections, the MLP's gate, up and down projections (once per expert for a mixture
# of experts, plus its router and shared experts) and two norms. For Qwen2.5-0.5B and Llama-3.1-8B this is within
# 0.1% of the published index's total_size (tests/test_sizing_engines.py); biases and rotary tables are left out.

QUANTIZATION_SCALE_SHARE = 1.05  # a 4-bit or 8-bit checkpoint's scales and zero points: a few % of its weights


def estimated_parameters(config: dict[str, Any], shape: ModelShape) -> tuple[int, int]:
    """(embedding and head parameters, parameters of the layers' matrices and norms)."""
    text = config.get("text_config") or config
    if not shape.vocab_size:
        raise SizingError(f"config.json has no vocab_size: cannot estimate the weights of {shape.model_type!r}")
    hidden = shape.hidden_size
    # PretrainedConfig's default ties the head to the embeddings; Llama's config.json says false.
    tied = bool(text.get("tie_word_embeddings", config.get("tie_word_embeddings", True)))
    embeddings = shape.vocab_size * hidden * (1 if tied else 2)
    attention = 2 * hidden * shape.attention_heads * shape.head_dim + 2 * hidden * shape.kv_heads * shape.head_dim
    if shape.experts > 1:
        expert = int(text.get("moe_intermediate_size") or shape.intermediate_size)
        shared = int(text.get("n_shared_experts") or text.get("num_shared_experts") or 0)
        mlp = 3 * hidden * expert * (shape.experts + shared) + hidden * shape.experts
    else:
        mlp = 3 * hidden * shape.intermediate_size
    return embeddings, shape.layers * (attention + mlp + 2 * hidden) + hidden


def weights_from_config(config: dict[str, Any], shape: ModelShape) -> int:
    """Bytes of the weights as loaded: 16-bit, or the bits its quantization_config names for the layers'
    matrices (the embeddings stay 16-bit)."""
    embeddings, layers = estimated_parameters(config, shape)
    quantization = (config.get("text_config") or config).get("quantization_config") or config.get("quantization_config")
    layer_bytes = float(COMPUTE_DTYPE_BYTES)
    if isinstance(quantization, dict):
        bits = quantization.get("bits") or quantization.get("w_bit")
        if isinstance(bits, int) and 0 < bits < 16:
            layer_bytes = bits / 8 * QUANTIZATION_SCALE_SHARE
        elif str(quantization.get("quant_method", "")).lower() == "fp8":
            layer_bytes = 1 * QUANTIZATION_SCALE_SHARE
    return embeddings * COMPUTE_DTYPE_BYTES + int(layers * layer_bytes)
