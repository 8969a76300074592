"""`workload size`: TGI's start rule applied to a model's metadata, read without its weights.

The models here are folders this test writes: real configs of published models (values as in their
config.json on the Hub) with safetensors files that hold headers and tiny tensors, or an index with the
published total_size. The expected numbers are worked out by hand in the comments, from the formulas
docs/reference/gpu-memory.md cites in TGI v3.3.7.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import CHART, EXAMPLES, helm_path
from model_metadata import (
    DEEPSEEK_V3,
    LLAMA_8B,
    LLAMA_8B_TOTAL_SIZE,
    QWEN_05B,
    QWEN_05B_TOTAL_SIZE,
    model_folder,
    safetensors,
)
from workload.cli import app
from workload.engines.tgi.memory import CUDA_CONTEXT_BYTES, Request, compute, plan
from workload.models.ml_inference_load.types import GpuTypeName
from workload.sizing.gpus import GPU_TYPES, MIB
from workload.sizing.metadata import ModelShape, SizingError, from_folder, read_header

MINIMAL = EXAMPLES / "minimal.yaml"  # Qwen/Qwen2.5-0.5B-Instruct, maxTotalTokens 4096


def request(memory_mib: int, shards: int = 1, max_total: int = 4096, prefill: int | None = None) -> Request:
    return Request(shards, max_total, max_total // 2, prefill, memory_mib * MIB, f"{memory_mib} MiB", False)


def test_the_gpu_type_field_names_every_gpu_in_the_table() -> None:
    assert set(typing.get_args(GpuTypeName)) == set(GPU_TYPES)


def test_weights_are_exact_from_the_headers_as_tgi_loads_them(tmp_path: Path) -> None:
    folder = model_folder(tmp_path / "m", QWEN_05B)
    # F32 is cast to the 16-bit compute dtype; int (packed quantized) and FP8 tensors are kept as stored.
    safetensors(folder / "model-00001-of-00002.safetensors", {"a": ("F32", [10, 20]), "b": ("BF16", [30])})
    safetensors(folder / "model-00002-of-00002.safetensors", {"q": ("I32", [7, 3]), "f": ("F8_E4M3", [5, 5])})
    facts = from_folder(folder)
    assert facts.exact
    assert facts.weights_bytes == 10 * 20 * 2 + 30 * 2 + 7 * 3 * 4 + 25 * 1
    assert "a" in read_header(folder / "model-00001-of-00002.safetensors")


def test_the_shape_of_published_models() -> None:
    qwen = ModelShape.from_config(QWEN_05B)
    assert (qwen.layers, qwen.kv_heads, qwen.head_dim) == (24, 2, 64)  # 896 / 14
    assert ModelShape.from_config({"text_config": LLAMA_8B, "model_type": "mllama"}).kv_heads == 8
    assert "latent attention" in ModelShape.from_config(DEEPSEEK_V3).unsupported
    assert "state" in ModelShape.from_config({**LLAMA_8B, "model_type": "jamba"}).unsupported


def test_llama_8b_on_an_l4_worked_by_hand(tmp_path: Path) -> None:
    facts = from_folder(model_folder(tmp_path / "llama", LLAMA_8B, LLAMA_8B_TOTAL_SIZE))
    result = compute(facts, request(23034))
    # KV per token: 2 x 32 layers x 8 kv heads x 128 head_dim x 2 bytes = 131072.
    assert result.kv_bytes_per_token_per_gpu == 131072
    # Overhead: 1 GiB + 4096 prefill tokens x (14336 + 7168) x 1 expert x 2 bytes x 3 = 1 GiB + 528482304.
    assert result.overhead_bytes_per_gpu == CUDA_CONTEXT_BYTES + 528482304
    # Usable: 23034 MiB x 0.90 = 21737497804 bytes; KV memory = usable - weights - overhead.
    kv_memory = int(23034 * MIB * 0.90) - LLAMA_8B_TOTAL_SIZE - CUDA_CONTEXT_BYTES - 528482304
    assert result.kv_capacity_tokens == kv_memory // 131072
    assert result.fits
    assert result.headroom_bytes_per_gpu == kv_memory - 4096 * 131072


def test_the_memory_fraction_shrinks_what_tgi_may_use(tmp_path: Path) -> None:
    """inference.memoryFraction is TGI's CUDA_MEMORY_FRACTION: usable = memory x fraction x 0.90 (utils/dist.py:13,
    import_utils.py:13-17), and size reports it as the values' own."""
    facts = from_folder(model_folder(tmp_path / "llama", LLAMA_8B, LLAMA_8B_TOTAL_SIZE))
    whole, less = request(23034), dataclasses.replace(request(23034), memory_fraction=0.95)
    lost = int(23034 * MIB * 0.90) - int(23034 * MIB * 0.95 * 0.90)
    assert compute(facts, whole).kv_capacity_tokens - compute(facts, less).kv_capacity_tokens in (
        lost // 131072, lost // 131072 + 1)  # fmt: skip
    used = {a["name"]: a for a in plan(facts, less).assumptions}["CUDA_MEMORY_FRACTION"]
    assert (used["value"], used["source"]) == ("0.95", "inference.memoryFraction")


def test_the_start_rule_is_tgis_at_its_boundary(tmp_path: Path) -> None:
    """TGI refuses to start when max_total_tokens > max_batch_total_tokens (lib.rs:98-99): equal still fits."""
    facts = from_folder(model_folder(tmp_path / "llama", LLAMA_8B, LLAMA_8B_TOTAL_SIZE))
    capacity = compute(facts, request(23034, prefill=4096)).kv_capacity_tokens
    assert compute(facts, request(23034, max_total=capacity, prefill=4096)).fits
    assert not compute(facts, request(23034, max_total=capacity + 1, prefill=4096)).fits


def test_a_model_too_big_for_its_gpu_gets_fixes_that_fit(tmp_path: Path) -> None:
    facts = from_folder(model_folder(tmp_path / "llama", LLAMA_8B, LLAMA_8B_TOTAL_SIZE))
    result = plan(facts, request(GPU_TYPES["T4"].memory_mib))  # 15 GiB of weights on a 15 GiB card
    assert not result.fits
    assert result.kv_capacity_tokens == 0
    assert any(fix.startswith("gpu.count: 2") for fix in result.fixes), result.fixes
    assert any(fix.startswith("a 4-bit AWQ or GPTQ variant") for fix in result.fixes), result.fixes
    assert any(fix.startswith("gpu.type: ") for fix in result.fixes), result.fixes
    bigger = next(fix for fix in result.fixes if fix.startswith("gpu.type: ")).split()[1]
    assert compute(facts, request(GPU_TYPES[bigger].memory_mib)).fits
    assert {a["name"] for a in result.assumptions} >= {"TGI_WIGGLE_ROOM", "CUDA context", "start rule"}
    assert all(a["source"] for a in result.assumptions)


def test_sharding_divides_weights_and_kv_heads(tmp_path: Path) -> None:
    facts = from_folder(model_folder(tmp_path / "llama", LLAMA_8B, LLAMA_8B_TOTAL_SIZE))
    one, two = compute(facts, request(23034)), compute(facts, request(23034, shards=2))
    assert two.weights_bytes_per_gpu == LLAMA_8B_TOTAL_SIZE // 2
    assert two.kv_bytes_per_token_per_gpu == one.kv_bytes_per_token_per_gpu // 2
    qwen = from_folder(model_folder(tmp_path / "qwen", QWEN_05B, QWEN_05B_TOTAL_SIZE))
    assert "cannot shard 2 key/value heads over 4 GPUs" in compute(qwen, request(23034, shards=4)).problem


def test_mla_models_are_not_guessed_at(tmp_path: Path) -> None:
    facts = from_folder(model_folder(tmp_path / "ds", DEEPSEEK_V3, 10**12))
    result = plan(facts, request(GPU_TYPES["H200"].memory_mib, shards=8))
    assert not result.fits
    assert "multi-head latent attention" in result.problem


# -- the command ---------------------------------------------------------------------------------------


def size(*args: str) -> Any:
    return CliRunner().invoke(app, ["size", *args])


def test_size_json_has_exactly_the_promised_keys(tmp_path: Path) -> None:
    folder = model_folder(tmp_path / "qwen", QWEN_05B, QWEN_05B_TOTAL_SIZE)
    result = size(str(MINIMAL), "--model-dir", str(folder), "--gpu-type", "L4", "-o", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["weights_bytes_per_gpu", "kv_bytes_per_token_per_gpu", "overhead_bytes_per_gpu",
                          "kv_capacity_tokens", "max_total_tokens", "fits", "headroom_bytes_per_gpu", "fixes",
                          "assumptions", "warnings"]  # fmt: skip
    assert data["fits"] is True
    assert data["kv_bytes_per_token_per_gpu"] == 2 * 24 * 2 * 64 * 2


def test_size_table_and_exit_code_when_it_does_not_fit(tmp_path: Path) -> None:
    folder = model_folder(tmp_path / "llama", LLAMA_8B, LLAMA_8B_TOTAL_SIZE)
    result = size(str(MINIMAL), "--model-dir", str(folder), "--gpu-memory", "16Gi")
    assert result.exit_code == 1
    assert "does not fit" in result.output
    assert "fix: gpu.count: 2" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "gpu.type is not set: give --gpu-type (one of T4,"),
        (("--gpu-type", "V100"), "--gpu-type V100: not a known GPU type"),
        (("--gpu-memory", "lots"), "--gpu-memory lots: not an amount"),
        (("--gpu-type", "L4", "--offline"), "Qwen/Qwen2.5-0.5B-Instruct@main is not in the Hugging Face cache"),
    ],
)
def test_size_refuses_in_one_line(
    args: tuple[str, ...], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    result = size(str(MINIMAL), *args)
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert message in result.output


def hub_cache_with(tmp_path: Path, config: dict[str, Any], total_size: int, revision: str = "main") -> Path:
    """The Hugging Face cache layout: refs/<branch> holds the commit, snapshots/<commit> the files."""
    cache = tmp_path / "hub"
    repo = cache / "models--Qwen--Qwen2.5-0.5B-Instruct"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / revision).write_text("a" * 40, encoding="utf-8")
    model_folder(repo / "snapshots" / ("a" * 40), config, total_size)
    return cache


def test_validate_gives_the_verdict_when_the_model_is_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # minimal.yaml's model, with a big model's shape in the cache, on a T4: validate says it cannot start.
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache_with(tmp_path, LLAMA_8B, LLAMA_8B_TOTAL_SIZE)))
    values = tmp_path / "values.yaml"
    values.write_text(MINIMAL.read_text(encoding="utf-8") + "gpu:\n  type: T4\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(values)])
    assert result.exit_code == 1
    assert "inference.maxTotalTokens: does not fit: 1 x T4 leave room for 0 tokens of KV cache" in result.output
    values.write_text(MINIMAL.read_text(encoding="utf-8") + "gpu:\n  type: A100-80GB\n", encoding="utf-8")
    assert CliRunner().invoke(app, ["validate", str(values)]).exit_code == 0
    assert size(str(values), "--offline").exit_code == 0  # size reads the same cache


def test_gpu_type_selects_nodes_by_product(tmp_path: Path) -> None:
    import subprocess  # noqa: PLC0415

    values = tmp_path / "values.yaml"
    values.write_text(MINIMAL.read_text(encoding="utf-8") + "gpu:\n  type: H100-80GB\n", encoding="utf-8")
    rendered = subprocess.run([str(helm_path("helm4")), "template", "x", str(CHART), "-f", str(values)],
                              capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert '"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"' in rendered


def test_sizing_error_is_a_bad_input_exit_code() -> None:
    assert SizingError("x").exit_code == 2


def test_deploy_puts_the_plan_in_the_dashboards_description(tmp_path: Path) -> None:
    """The --set-string deploy adds (commas escaped for helm) reaches the dashboard's description."""
    import subprocess  # noqa: PLC0415

    from workload.models.ml_inference_load import MlInferenceLoad  # noqa: PLC0415
    from workload.ops.deploy import helm_upgrade_command  # noqa: PLC0415
    from workload.sizing.workload import dashboard_sizing  # noqa: PLC0415
    from workload.yamlio import load_values_file  # noqa: PLC0415

    values = tmp_path / "values.yaml"
    extra = "gpu:\n  type: L4\nmonitoring:\n  grafanaDashboard:\n    enabled: true\n"
    values.write_text(MINIMAL.read_text(encoding="utf-8") + extra, encoding="utf-8")
    facts = from_folder(model_folder(tmp_path / "qwen", QWEN_05B, QWEN_05B_TOTAL_SIZE))
    sizing = dashboard_sizing(MlInferenceLoad.model_validate(load_values_file(values)), facts)
    assert sizing.startswith("weights 0.92 GiB per GPU, KV cache 12288 bytes per token per GPU, room for ")
    command = helm_upgrade_command("helm", "qwen", CHART, values, "ns", sizing=sizing)
    args = command[command.index("--values") :]
    rendered = subprocess.run([str(helm_path("helm4")), "template", "qwen", str(CHART), *args],
                              capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert f"Planned by workload size: {sizing}" in rendered


def test_an_engine_without_a_memory_rule_is_not_sized(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The rule is the engine's (Engine.memory_rule): size says in one line that there is none, and validate,
    # deploy's preflight and the dashboard do not refuse or describe what they cannot size.
    import dataclasses  # noqa: PLC0415

    from workload.engines import DEFAULT_ENGINE, engine  # noqa: PLC0415
    from workload.models.ml_inference_load import rules  # noqa: PLC0415

    unsized = dataclasses.replace(engine(DEFAULT_ENGINE), title="Unsized", memory_rule=None)
    monkeypatch.setattr(rules, "engine_named", lambda _name: unsized)
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache_with(tmp_path, LLAMA_8B, LLAMA_8B_TOTAL_SIZE)))
    values = tmp_path / "values.yaml"
    values.write_text(MINIMAL.read_text(encoding="utf-8") + "gpu:\n  type: T4\n", encoding="utf-8")
    result = size(str(values), "--offline")
    assert result.exit_code == 2, result.output
    assert result.output.strip() == "size: inference.engine tgi: `workload size` has no memory rule for Unsized"
    assert CliRunner().invoke(app, ["validate", str(values)]).exit_code == 0  # with a rule: 1 (test above)
