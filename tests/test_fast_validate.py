"""The fast path of `workload validate FILE` (workload/fast_validate.py) gives the full path's verdict, word for
word, whenever it answers; it answers for every example; and it imports neither pydantic, typer nor rich."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, FIXTURES
from parity import documents, dump, mutate
from workload.fast_validate import problems_of, validate_files
from workload.models.ml_inference_load.defaults import DEFAULTS
from workload.paths import REPO_ROOT
from workload.validation import validate_document
from workload.values_schema import KEYWORDS
from workload.yamlio import ValuesFileError, load_values_text

BUDGET = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
SCHEMA = json.loads((REPO_ROOT / "charts" / "ml-inference-load" / "values.schema.json").read_text(encoding="utf-8"))
FILES = sorted(EXAMPLES.glob("*.yaml")) + sorted((FIXTURES / "values").glob("*.yaml"))


def same_verdict(document: dict[str, Any]) -> bool:
    """Whether the fast path answered; fails the test if its answer differs from the full path's."""
    try:
        document = load_values_text(dump(document))  # as a file would be read
    except ValuesFileError:
        return False
    fast = problems_of(document)
    if fast is not None:
        assert [str(p) for p in fast] == [str(p) for p in validate_document(document)[1]], dump(document)
    return fast is not None


def test_every_keyword_of_the_schema_is_one_the_fast_check_knows() -> None:
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            used.update(node)
            for key, value in node.items():
                if key == "properties":
                    for child in value.values():
                        walk(child)
                elif key in ("items", "additionalProperties", "propertyNames"):
                    walk(value)

    walk(SCHEMA)
    assert used <= KEYWORDS


@BUDGET
@given(documents())
def test_generated_documents_get_the_full_paths_verdict(document: dict[str, Any]) -> None:
    same_verdict(document)


@BUDGET
@given(documents(), st.randoms(use_true_random=False))
def test_mutated_documents_get_the_full_paths_verdict(document: dict[str, Any], rng: random.Random) -> None:
    for _ in range(3):
        same_verdict(mutate(document, random.Random(rng.random()))[1])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_examples_take_the_fast_path_unless_they_name_a_gpu_type(path: Path) -> None:
    """Every example is answered fast, and valid; one that names gpu.type goes to the fit check instead."""
    names_gpu = (load_values_text(path.read_text(encoding="utf-8")).get("gpu") or {}).get("type") is not None
    assert validate_files([path]) == (None if names_gpu else {str(path): []})


def test_what_the_fast_path_leaves_to_the_full_path() -> None:
    defaults_before = copy.deepcopy(DEFAULTS)
    base = load_values_text((EXAMPLES / "minimal.yaml").read_text(encoding="utf-8"))
    assert problems_of(base) == []
    for refused in ({"gpu": {"count": 0}}, {"gpus": 1, "serviceName": "X"}, {"gpu": {"count": "2"}, "zzz": 1}):
        document = {**base, **refused}  # the schema refuses it: answered in the full path's words
        fast = problems_of(document)
        assert fast
        assert [str(p) for p in fast] == [str(p) for p in validate_document(document)[1]]
    assert problems_of({**base, "gpu": {"type": "L4"}}) is None  # the fit check
    assert problems_of({**base, "inference": {"port": 8080.0}}) is None  # a float, which pydantic reads as 8080
    assert problems_of({**base, "inference": {"port": 80.0}}) is None  # ... and then bounds
    assert problems_of({**base, "gpu": {"count": None}}) is None  # a null: pydantic's words differ by type
    assert problems_of({**base, "workloadType": "OTHER"}) is None
    too_long = {**base, "inference": {"maxInputLength": 9000}}
    crossed = problems_of(too_long)
    assert crossed
    assert [str(p) for p in crossed] == [str(p) for p in validate_document(too_long)[1]]
    assert defaults_before == DEFAULTS  # the merge shares the defaults it does not change, and changes none


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "workload", *args], capture_output=True,
                          text=True, check=False, cwd=REPO_ROOT)  # fmt: skip


def imported(result: subprocess.CompletedProcess[str]) -> set[str]:
    return {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}


def test_the_command_answers_a_valid_file_without_pydantic_typer_or_rich() -> None:
    result = run("validate", "examples/minimal.yaml", "examples/llama-3.2-1b.yaml")
    assert result.returncode == 0
    assert result.stdout == "examples/minimal.yaml: ok\nexamples/llama-3.2-1b.yaml: ok\n"
    assert imported(result) & {"pydantic", "typer", "rich"} == set()


def test_the_command_answers_a_refused_file_without_pydantic(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((EXAMPLES / "minimal.yaml").read_text(encoding="utf-8") + "gpu:\n  count: 0\n", encoding="utf-8")
    result = run("validate", str(bad), "examples/minimal.yaml")
    assert result.returncode == 1
    assert result.stdout == f"{bad}: gpu.count: must be >= 1 (got 0)\nexamples/minimal.yaml: ok\n"
    assert imported(result) & {"pydantic", "typer", "rich"} == set()


def test_the_command_takes_the_full_path_for_a_refusal_only_pydantic_words(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((EXAMPLES / "minimal.yaml").read_text(encoding="utf-8") + "gpu:\n  count:\n", encoding="utf-8")
    result = run("validate", str(bad))
    assert result.returncode == 1
    assert result.stdout == f"{bad}: gpu.count: must be a whole number, not null\n"
    assert "pydantic" in imported(result)
    assert imported(result) & {"typer", "rich"} == set()
