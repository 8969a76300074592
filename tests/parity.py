"""Parity between `workload validate` and `helm template`, on generated and mutated documents.

Shared by tests/test_parity.py (a bounded budget in the suite) and scripts/parity_run.py (a large run
that prints counts). A document is YAML text; both tools read that same text.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from workload.fleet import ObjectChecker
from workload.generate.schema import _inline, _merge_nullable
from workload.helm import problems_from_helm_error
from workload.manifests import split_manifests
from workload.models.ml_inference_load import MlInferenceLoad
from workload.paths import REPO_ROOT
from workload.problems import Problem
from workload.validation import validate_document
from workload.yamlio import ValuesFileError, load_values_text

CHART = REPO_ROOT / "charts" / "ml-inference-load"


def user_schema() -> dict[str, Any]:
    """What a user may write: values.schema.json's rules, but fields with defaults optional (Helm fills
    them in), and without descriptions and defaults (which only slow generation down)."""
    raw = MlInferenceLoad.model_json_schema(by_alias=True)
    schema: dict[str, Any] = _merge_nullable(_inline(raw, raw.get("$defs", {})))

    def strip(node: Any) -> None:
        if isinstance(node, dict):
            node.pop("default", None)
            node.pop("description", None)
            for value in node.values():
                strip(value)
        elif isinstance(node, list):
            for value in node:
                strip(value)

    strip(schema)
    return schema


def documents() -> st.SearchStrategy[dict[str, Any]]:
    # The schema's top level is an object, so every generated document is a mapping.
    return cast("st.SearchStrategy[dict[str, Any]]", from_schema(user_schema()))


# Patches that each break one cross-field rule (on top of any document).
CROSS_FIELD_BREAKS: list[dict[str, Any]] = [
    {"inference": {"maxInputLength": 4096, "maxTotalTokens": 4096}},
    {"ingress": {"enabled": True, "host": ""}},
    {"vault": {"hfTokenPath": "hf"}, "hfToken": {"existingSecret": "hf"}},
    {"resources": {"requests": {"cpu": "5"}, "limits": {"cpu": "4"}}},
    {"environmentVariables": [{"name": "PORT", "value": "1"}]},
    {"environmentVariables": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]},
    {"environmentVariables": [{"name": "MY_TOKEN", "value": "x"}]},
    {"model": {"id": "a/b", "revision": "main", "dtype": "float16", "quantization": "awq"}},
    {"inference": {"maxBatchPrefillTokens": 16, "maxInputLength": 1024, "maxTotalTokens": 2048}},
    {"inference": {"payloadLimit": 2048, "image": {"tag": "2.4.0"}}},
    {"storage": {"modelCache": {"enabled": False, "offline": True}}},
    {"ingress": {"paths": ["/metrics"]}},
    {"inference": {"extraArgs": ["--verbose", "--num_shard=2"]}},
]


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict) and node:
        return [leaf for key, value in node.items() for leaf in _leaves(value, (*path, key))]
    if isinstance(node, list) and node:
        return [leaf for i, value in enumerate(node) for leaf in _leaves(value, (*path, i))]
    return [(path, node)]


def _objects(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if isinstance(node, dict) else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in children:
        found += _objects(value, (*path, key))
    return found


def _set(document: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        document = document[part]
    document[path[-1]] = value


def mutate(document: dict[str, Any], rng: random.Random) -> tuple[str, dict[str, Any]]:
    """One rule broken: a wrong type, an unknown key, an out-of-range or off-list value, or a cross-field rule."""
    doc = copy.deepcopy(document)
    kind = rng.choice(["type", "unknown-key", "range", "cross-field"])
    leaves = [(p, v) for p, v in _leaves(doc) if p]
    if kind == "type" and leaves:
        path, value = rng.choice(leaves)
        wrong = {str: 12345, int: "12", float: "1.5", bool: "yes", type(None): ["x"]}.get(type(value), "text")
        _set(doc, path, wrong)
    elif kind == "unknown-key":
        target = rng.choice(_objects(doc))
        node: Any = doc
        for part in target:
            node = node[part]
        node["unknownKeyXyz"] = 1
    elif kind == "range" and (numbers := [(p, v) for p, v in leaves if type(v) is int]):
        path, value = rng.choice(numbers)
        _set(doc, path, rng.choice([-1, 10**12]))
    else:
        kind = "cross-field"
        for key, patch in rng.choice(CROSS_FIELD_BREAKS).items():
            base = doc.get(key)
            doc[key] = {**base, **patch} if isinstance(base, dict) and isinstance(patch, dict) else patch
    return kind, doc


def python_verdict(text: str) -> list[Problem]:
    try:
        return validate_document(load_values_text(text))[1]
    except ValuesFileError as error:
        return [Problem("", str(error))]


def helm_verdict(helm: Path, text: str) -> tuple[list[Problem], list[dict[str, Any]]]:
    result = subprocess.run([str(helm), "template", "parity", str(CHART), "--values", "-"], input=text,
                            capture_output=True, text=True, check=False)  # fmt: skip
    if result.returncode != 0:
        return problems_from_helm_error(result.stderr), []
    return [], split_manifests(result.stdout)


@dataclass
class Tally:
    """Counts of a parity run, and the documents that broke a promise."""

    documents: int = 0
    accepted: int = 0
    rejected: int = 0
    objects_checked: int = 0
    disagreements: list[str] = field(default_factory=list)
    bad_manifests: list[str] = field(default_factory=list)
    unclear_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.disagreements or self.bad_manifests or self.unclear_errors)


HelmResult = Callable[[Path, str], tuple[list[Problem], list[dict[str, Any]]]]


def check_document(
    text: str, helm: Path, checker: ObjectChecker, tally: Tally, helm_result: HelmResult = helm_verdict
) -> None:
    """Both tools agree; accepted documents render valid objects; rejected ones get clear errors."""
    tally.documents += 1
    ours = python_verdict(text)
    theirs, objects = helm_result(helm, text)
    if bool(ours) != bool(theirs):
        tally.disagreements.append(f"workload: {[str(p) for p in ours]} helm: {[str(p) for p in theirs]}\n{text}")
        return
    if ours:
        tally.rejected += 1
        if any("\n" in str(p) for p in ours) or not any(p.path or "YAML" in p.message for p in ours):
            tally.unclear_errors.append(f"{[str(p) for p in ours]}\n{text}")
        return
    tally.accepted += 1
    for obj in objects:
        tally.objects_checked += 1
        if problems := checker.problems(obj):
            tally.bad_manifests.append(f"{[str(p) for p in problems]}\n{text}")


def dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


__all__ = ["Tally", "check_document", "documents", "dump", "json", "mutate"]
