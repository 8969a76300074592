"""Every vLLM and SGLang command line the chart renders in the test matrix, parsed by the engine's own parser
(tests/engine_side/parse_args.py, in the engines' environment): no flag, spelling or value reaches a cluster that
the engine would refuse at start, and each contract field lands in the engine setting it is meant for.

The matrix: the golden renders and examples of each engine, and each engine's example with every contract field
set, every quantization and dtype the chart accepts for it, and extra flags through inference.extraArgs.
"""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES, container, helm_path, render_docs
from golden_renders import cases
from real_vllm import ENGINE_SIDE, engine_python
from workload.engines import engine

SECRET = "secret-from-the-kubelet"  # what a secretKeyRef variable holds in the pod
COMMANDS = {"vllm": None, "sglang": ["python3", "-m", "sglang.launch_server"]}  # vLLM: the image's `vllm serve`


def _example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))
    return document


def _variants(name: str) -> dict[str, dict[str, Any]]:
    """Values documents: the example with one or several contract fields changed."""
    facts = engine(name)

    def patched(**inference: Any) -> dict[str, Any]:
        document = _example(name)
        for key, value in inference.items():
            section, field = key.split("__")
            document.setdefault(section, {})[field] = value
        return document

    variants = {
        "every-field": patched(
            gpu__count=4,
            model__revision="v1.2",
            model__trustRemoteCode=True,
            inference__maxTotalTokens=16384,
            inference__maxConcurrentRequests=64,
            inference__port=9000,
            inference__memoryFraction=0.85,
        ),
        "no-api-key": {k: v for k, v in _example(name).items() if k != "apiKey"},
        "extra-args": patched(inference__extraArgs=EXTRA_ARGS[name]),
    }
    variants.update({f"quantization-{q}": patched(model__quantization=q) for q in facts.quantizations})
    variants.update({f"dtype-{d}": patched(model__dtype=d) for d in facts.dtypes})
    return variants


EXTRA_ARGS = {  # flags people pass that the contract does not cover, in each engine's spelling
    "vllm": ["--enable-prefix-caching", "--kv-cache-dtype", "fp8", "--max-num-batched-tokens=8192"],
    "sglang": ["--chunked-prefill-size", "4096", "--enable-torch-compile", "--kv-cache-dtype", "fp8_e4m3"],
}


def _kubelet(args: list[str], env: list[dict[str, Any]]) -> list[str]:
    """$(NAME) expanded as the kubelet expands it in args, from the container's variables."""
    values = {e["name"]: e.get("value", SECRET) for e in env}
    return [re.sub(r"\$\((\w+)\)", lambda m: str(values.get(m[1], m[0])), str(a)) for a in args]


def _command_line(objects: list[dict[str, Any]], name: str) -> list[str]:
    c = container(objects)
    assert c.get("command") == COMMANDS[name]
    return _kubelet(c["args"], c.get("env", []))


@cache
def matrix(name: str) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """label -> (values, rendered command line), for one engine."""
    out: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for case, data in cases().items():
        if f"engine: {name}" not in data["values"]:  # (some cases' values are hostile YAML, for other tests)
            continue
        values = yaml.safe_load(data["values"]) or {}
        if (values.get("inference") or {}).get("engine") == name and not (values.get("simulator") or {}).get("enabled"):
            out[f"golden {case}"] = (values, _command_line(data["objects"], name))
    for label, values in _variants(name).items():
        out[label] = (values, _command_line(render_docs(helm_path("helm4"), yaml.safe_dump(values)), name))
    return out


# The check can fail: each engine's parser refuses the other's flag and a misspelling (measured: exit 2).
CONTROLS = {
    "vllm": [["Qwen/Qwen2.5-0.5B-Instruct", "--enable-metrics"],
             ["Qwen/Qwen2.5-0.5B-Instruct", "--tensor_parallel-size", "2", "--max-model-len", "x"]],
    "sglang": [["--model-path", "Qwen/Qwen2.5-0.5B-Instruct", "--tp_size", "2"],
               ["--model-path", "Qwen/Qwen2.5-0.5B-Instruct", "--shutdown-timeout", "30"]],
}  # fmt: skip


@cache
def _parse(name: str) -> list[dict[str, Any]]:
    """The matrix's command lines, then the controls, through the engine's parser in one process."""
    lines = [line for _, line in matrix(name).values()] + CONTROLS[name]
    result = subprocess.run([str(engine_python()), str(ENGINE_SIDE / "parse_args.py"), name],
                            input=json.dumps(lines), capture_output=True, text=True, check=False,
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    answers: list[dict[str, Any]] = json.loads(result.stdout)
    return answers


def parsed(name: str) -> dict[str, dict[str, Any]]:
    return dict(zip(matrix(name), _parse(name)[: len(matrix(name))], strict=True))


@pytest.mark.parametrize("name", ["vllm", "sglang"])
def test_every_rendered_command_line_parses(name: str) -> None:
    refused = {label: r["error"] for label, r in parsed(name).items() if not r["ok"]}
    assert not refused, refused
    assert any(label.startswith("golden ") for label in parsed(name)), "no golden render of this engine"


def test_the_fields_reach_vllms_settings() -> None:
    for label, (values, _) in matrix("vllm").items():
        got, model, inference = parsed("vllm")[label]["values"], values["model"], values.get("inference", {})
        assert got["model_tag"] == model["id"], label
        assert got["served_model_name"] == [model["id"]], label
        assert got["tensor_parallel_size"] == values.get("gpu", {}).get("count", 1), label
        assert got["port"] == inference.get("port", 8080), label
        assert got.get("quantization") == model.get("quantization"), label
        assert got.get("dtype", "auto") == model.get("dtype", "auto"), label
        if "maxTotalTokens" in inference:
            assert got["max_model_len"] == inference["maxTotalTokens"], label
        if "maxConcurrentRequests" in inference:
            assert got["max_num_seqs"] == inference["maxConcurrentRequests"], label
        assert got.get("trust_remote_code", False) == model.get("trustRemoteCode", False), label
        assert got.get("gpu_memory_utilization") == inference.get("memoryFraction"), label
        assert "api_key" not in got, "the key is VLLM_API_KEY from the Secret, never a flag"


def test_the_fields_reach_sglangs_settings() -> None:
    for label, (values, _) in matrix("sglang").items():
        got, model, inference = parsed("sglang")[label]["values"], values["model"], values.get("inference", {})
        assert (got["model_path"], got["served_model_name"]) == (model["id"], model["id"]), label
        assert got["tp_size"] == values.get("gpu", {}).get("count", 1), label
        assert (got["host"], got["port"], got["enable_metrics"]) == ("0.0.0.0", inference.get("port", 8080), True)
        assert got.get("quantization") == model.get("quantization"), label
        assert got.get("dtype", "auto") == model.get("dtype", "auto"), label
        if "maxTotalTokens" in inference:
            assert got["context_length"] == inference["maxTotalTokens"], label
        if "maxConcurrentRequests" in inference:
            assert got["max_running_requests"] == inference["maxConcurrentRequests"], label
        assert got.get("mem_fraction_static") == inference.get("memoryFraction"), label
        assert got.get("api_key") == (SECRET if "apiKey" in values else None), label


@pytest.mark.parametrize("name", ["vllm", "sglang"])
def test_the_parsers_refuse_what_the_engines_refuse(name: str) -> None:
    controls = _parse(name)[len(matrix(name)) :]
    assert [r["ok"] for r in controls] == [False] * len(CONTROLS[name]), controls
