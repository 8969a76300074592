"""`workload size` for vLLM and SGLang: each engine's own start rule, worked by hand from the source lines their
modules cite (docs/reference/gpu-memory.md), and SGLang's computed --mem-fraction-static checked against SGLang's
own argument resolution in the engines' environment. Model weights counted from config.json alone are an
estimate, said so, and never a reason to refuse.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import EXAMPLES
from model_metadata import LLAMA_8B, LLAMA_8B_TOTAL_SIZE, LLAMA_70B, QWEN_05B, QWEN_05B_TOTAL_SIZE, model_folder
from real_vllm import ENGINE_SIDE, engine_python
from workload.cli import app
from workload.engines.sglang import memory as sglang
from workload.engines.vllm import memory as vllm
from workload.sizing.gpus import GPU_TYPES, MIB
from workload.sizing.metadata import ModelFacts, SizingError, from_folder
from workload.sizing.plan import GIB

L4 = GPU_TYPES["L4"].memory_bytes  # 23034 MiB


@pytest.fixture
def llama_8b(tmp_path: Path) -> ModelFacts:
    return from_folder(model_folder(tmp_path / "llama", LLAMA_8B, LLAMA_8B_TOTAL_SIZE))


def vllm_request(memory: int = L4, ranks: int = 1, max_model_len: int = 8192, **more: Any) -> vllm.Request:
    return vllm.Request(ranks, max_model_len, memory, f"{memory // MIB} MiB", False, **more)


def sglang_request(memory: int = L4, ranks: int = 1, context: int = 8192, **more: Any) -> sglang.Request:
    return sglang.Request(ranks, context, memory, f"{memory // MIB} MiB", False, **more)


# -- weights from config.json -------------------------------------------------------------------------


@pytest.mark.parametrize(("config", "published"), [(QWEN_05B, QWEN_05B_TOTAL_SIZE), (LLAMA_8B, LLAMA_8B_TOTAL_SIZE)])
def test_weights_are_estimated_from_the_config_when_there_are_no_headers(
    config: dict[str, Any], published: int, tmp_path: Path
) -> None:
    # A folder with config.json only (a .bin checkpoint): within 0.1% of the published index's total_size.
    facts = from_folder(model_folder(tmp_path / "m", config))
    assert facts.estimated
    assert not facts.exact
    assert abs(facts.weights_bytes - published) / published < 0.001
    assert "estimate from config.json" in facts.weights_source


def test_an_estimate_counts_quantized_layers_at_their_bits(tmp_path: Path) -> None:
    full = from_folder(model_folder(tmp_path / "bf16", LLAMA_8B)).weights_bytes
    awq = {**LLAMA_8B, "quantization_config": {"quant_method": "awq", "bits": 4}}
    quantized = from_folder(model_folder(tmp_path / "awq", awq)).weights_bytes
    embeddings = 2 * 128256 * 4096 * 2  # stay 16-bit
    assert quantized == embeddings + int((full - embeddings) / 2 * 4 / 8 * 1.05)
    with pytest.raises(SizingError, match=r"config\.json has no vocab_size: cannot estimate the weights of 'llama'"):
        from_folder(model_folder(tmp_path / "novocab", {k: v for k, v in LLAMA_8B.items() if k != "vocab_size"}))


def test_an_estimate_says_so_in_the_report_and_is_not_refused_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = model_folder(tmp_path / "llama", LLAMA_8B)  # no index, no headers
    values = tmp_path / "values.yaml"
    values.write_text((EXAMPLES / "vllm.yaml").read_text(encoding="utf-8") + "gpu:\n  type: T4\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["size", str(values), "--model-dir", str(folder)])
    assert result.exit_code == 1, result.output  # 16 GB of weights on a 15 GiB card: size says it does not fit
    assert "assumed model metadata:" in result.output
    assert "an estimate from config.json" in result.output
    # ... and validate, which sizes from the cache, does not refuse a workload on an estimate.
    cache = tmp_path / "hub"
    repo = cache / "models--Qwen--Qwen2.5-0.5B-Instruct"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("b" * 40, encoding="utf-8")
    model_folder(repo / "snapshots" / ("b" * 40), LLAMA_8B)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert CliRunner().invoke(app, ["validate", str(values)]).exit_code == 0
    offline = CliRunner().invoke(app, ["size", str(values), "--offline", "-o", "json"])
    assert offline.exit_code == 1, offline.output  # offline, the config in the cache is enough to size it
    assert "estimate" in json.loads(offline.stdout)["assumptions"][0]["source"]


# -- vLLM ---------------------------------------------------------------------------------------------


def test_vllm_llama_8b_on_an_l4_worked_by_hand(llama_8b: ModelFacts) -> None:
    result = vllm.compute(llama_8b, vllm_request())
    # KV per token: 2 x 32 layers x 8 kv heads x 128 x 2 bytes.
    assert result.kv_bytes_per_token_per_gpu == 131072
    # Profile run on a GPU under 70 GiB: 2048 batched tokens, a sampler over 256 rows (arg_utils.py:2944-2951).
    activation = 2048 * (3 * 14336 + 4 * 4096) * 2 + 256 * 128256 * 8
    assert result.overhead_bytes_per_gpu == activation + GIB // 2 + GIB
    available = math.ceil(L4 * 0.92) - LLAMA_8B_TOTAL_SIZE - result.overhead_bytes_per_gpu
    assert result.kv_capacity_tokens == available // 131072 == 30850
    assert result.fits
    assert result.headroom_bytes_per_gpu == available - 8192 * 131072


def test_vllm_refuses_one_token_past_what_its_cache_holds(llama_8b: ModelFacts) -> None:
    """kv_cache_utils.py:1019-1040: one request of max_model_len must fit; equal still fits."""
    capacity = vllm.compute(llama_8b, vllm_request()).kv_capacity_tokens
    assert vllm.compute(llama_8b, vllm_request(max_model_len=capacity)).fits
    refused = vllm.plan(llama_8b, vllm_request(max_model_len=capacity + 1))
    assert not refused.fits
    assert refused.fixes[0].startswith("vLLM would stop at start: 'To serve at least one request with the model's")
    assert any(fix.startswith(f"inference.maxTotalTokens: {capacity} or less") for fix in refused.fixes)


def test_vllm_memory_fraction_and_its_free_memory_check(llama_8b: ModelFacts) -> None:
    base, less = vllm.compute(llama_8b, vllm_request()), vllm.compute(llama_8b, vllm_request(memory_utilization=0.85))
    lost = math.ceil(L4 * 0.92) - math.ceil(L4 * 0.85)
    assert base.kv_capacity_tokens - less.kv_capacity_tokens in (lost // 131072, lost // 131072 + 1)
    # 0.99 of the card leaves less than the CUDA context free: vLLM's 'Free memory on device' refusal.
    greedy = vllm.plan(llama_8b, vllm_request(memory_utilization=0.99))
    assert not greedy.fits
    assert "'Free memory on device ... is less than desired GPU memory utilization (0.99)'" in greedy.fixes[0]
    used = {a["name"]: a for a in greedy.assumptions}["gpu_memory_utilization"]
    assert (used["value"], used["source"]) == ("0.99", "inference.memoryFraction")


def test_vllm_large_gpus_profile_bigger_batches(llama_8b: ModelFacts) -> None:
    # An H100 (>= 70 GiB, not an A100) profiles 8192 tokens and 1024 rows; an A100-80GB keeps 2048 and 256.
    h100 = vllm.Request(1, 8192, GPU_TYPES["H100-80GB"].memory_bytes, "H100-80GB", False)
    a100 = vllm.Request(1, 8192, GPU_TYPES["A100-80GB"].memory_bytes, "A100-80GB", False)
    assert vllm.scheduler_defaults(h100) == (8192, 1024)
    assert vllm.scheduler_defaults(a100) == (2048, 256)
    assert vllm.scheduler_defaults(dataclasses.replace(a100, max_num_batched_tokens=4096, max_num_seqs=32)) == (
        4096, 32)  # fmt: skip


def test_vllm_replicates_kv_heads_and_needs_divisible_attention_heads(tmp_path: Path) -> None:
    qwen = from_folder(model_folder(tmp_path / "qwen", QWEN_05B, QWEN_05B_TOTAL_SIZE))  # 14 heads, 2 kv heads
    one, two = vllm.compute(qwen, vllm_request()), vllm.compute(qwen, vllm_request(ranks=2))
    assert two.kv_bytes_per_token_per_gpu == one.kv_bytes_per_token_per_gpu // 2  # 1 kv head per GPU
    assert "cannot split 14 attention heads over 4 GPUs" in vllm.compute(qwen, vllm_request(ranks=4)).problem
    fp8 = vllm.compute(qwen, vllm_request(extra_args=("--kv-cache-dtype", "fp8")))
    assert fp8.kv_bytes_per_token_per_gpu == one.kv_bytes_per_token_per_gpu // 2


def test_vllm_70b_on_one_l4_gets_fixes_that_fit(tmp_path: Path) -> None:
    facts = from_folder(model_folder(tmp_path / "llama70", LLAMA_70B))  # estimated: 141 GB of weights
    result = vllm.plan(facts, vllm_request())
    assert not result.fits
    assert result.fixes[0] == "vLLM would stop at start: 'No available memory for the cache blocks'"
    count = next(fix for fix in result.fixes if fix.startswith("gpu.count: "))
    assert vllm.compute(facts, vllm_request(ranks=int(count.split()[1]))).fits


# -- SGLang -------------------------------------------------------------------------------------------


def test_sglang_fraction_is_sglangs_own(tmp_path: Path) -> None:
    """SGLang's own resolution (ServerArgs.resolve_once, its memory_hook with the GPU's memory given) computes
    the same --mem-fraction-static, chunked prefill and decode graph batch as sizing does, for every GPU type
    and tensor-parallel size, and with the flags that change them."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({**LLAMA_8B, "architectures": ["LlamaForCausalLM"]}))
    cases: list[tuple[sglang.Request, list[str]]] = []
    for gpu in GPU_TYPES.values():
        for ranks in (1, 2, 4, 8):
            cases.append((sglang_request(gpu.memory_bytes, ranks), ["--tp-size", str(ranks)]))
        cases.append((sglang_request(gpu.memory_bytes, chunked_prefill_size=1024, max_running_requests=16),
                      ["--chunked-prefill-size", "1024", "--max-running-requests", "16"]))  # fmt: skip
    payload = [{"gpu_mib": request.gpu_memory_bytes // MIB, "args": ["--model-path", str(folder), *args]}
               for request, args in cases]  # fmt: skip
    result = subprocess.run([str(engine_python()), str(ENGINE_SIDE / "sglang_memory.py")], input=json.dumps(payload),
                            capture_output=True, text=True, check=False, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    theirs = json.loads(result.stdout.strip().splitlines()[-1])
    ours = [{"mem_fraction_static": sglang.default_fraction(request),
             "chunked_prefill_size": sglang.gpu_settings(request)[0],
             "decode_max_bs": sglang.gpu_settings(request)[1]} for request, _ in cases]  # fmt: skip
    assert ours == theirs
    assert len({case["mem_fraction_static"] for case in theirs}) > 10  # the check spans the table, not one value


def test_sglang_only_warns_when_its_pool_is_shorter_than_the_context(llama_8b: ModelFacts) -> None:
    result = sglang.plan(llama_8b, sglang_request())  # Llama 8B on an L4: fraction 0.701
    free = L4 - sglang.CUDA_CONTEXT_BYTES
    pool = free - LLAMA_8B_TOTAL_SIZE - int(free * (1 - 0.701))
    assert result.kv_capacity_tokens == pool // 131072 == 3771
    assert result.fits  # SGLang starts ...
    assert result.warnings == [
        "SGLang starts but warns 'KV pool holds 3771 tokens, fewer than --context-length 8192': requests longer "
        "than the pool are refused or truncated (SGLang 0.5.23 srt/managers/tp_worker.py:556-566)"
    ]
    assert any(fix.startswith("inference.maxTotalTokens: ") for fix in result.fixes)
    assert any(fix.startswith("inference.memoryFraction above SGLang's computed 0.701") for fix in result.fixes)
    assert not sglang.plan(llama_8b, sglang_request(context=2048)).warnings


def test_sglang_refuses_when_the_weights_leave_no_pool(llama_8b: ModelFacts) -> None:
    result = sglang.plan(llama_8b, sglang_request(GPU_TYPES["T4"].memory_bytes))
    assert not result.fits
    assert result.kv_capacity_tokens == 0
    assert result.fixes[0].startswith("SGLang would stop at start: 'Loaded weights leave no GPU memory for the KV")
    given = sglang.plan(llama_8b, sglang_request(memory_fraction=0.9))
    assert {a["name"]: a for a in given.assumptions}["mem_fraction_static"]["source"] == "inference.memoryFraction"


# -- the command, per engine --------------------------------------------------------------------------


def run_size(values: Path, folder: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["size", str(values), "--model-dir", str(folder), *args])


def test_size_uses_each_engines_rule_and_words(tmp_path: Path) -> None:
    folder = model_folder(tmp_path / "llama", LLAMA_8B, LLAMA_8B_TOTAL_SIZE)
    values = tmp_path / "values.yaml"
    for name in ("vllm", "sglang"):
        text = (EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8")
        values.write_text(text.replace("inference:\n", "inference:\n  maxTotalTokens: 8192\n"), encoding="utf-8")
        data = json.loads(run_size(values, folder, "--gpu-type", "L4", "-o", "json").stdout)
        assert data["kv_capacity_tokens"] == {"vllm": 30850, "sglang": 3771}[name]
        assert bool(data["warnings"]) is (name == "sglang")
        text_report = run_size(values, folder, "--gpu-type", "L4")
        assert text_report.exit_code == 0, text_report.output
        assert ("fits, with a warning" in text_report.output) is (name == "sglang")
        refused = run_size(values, folder, "--gpu-type", "T4")
        assert refused.exit_code == 1
        assert {"vllm": "vLLM would stop at start", "sglang": "SGLang would stop at start"}[name] in refused.output
