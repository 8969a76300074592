"""`workload validate FILE...` without pydantic: the path pre-commit hooks and CI loops take on every commit,
where start-up is most of the time (docs/architecture.md, "Start-up").

A file is merged over the chart's defaults as Helm merges it (models/<type>/defaults.py, generated from
values.yaml), checked against the chart's own values.schema.json (generated from the model, so the model's
field checks), and then run through the same cross-field rules as the model (rules.py), which read the
merged document through a read-only view. A file the schema refuses gets the full path's words for it
(values_schema.py refusals). Anything this path is not sure of returns None, and the caller takes the full
path (pydantic, `workload.validation`): a refusal whose words only pydantic knows (a null, an integer written
as 2.0, which pydantic reads as 2, a list's length), a YAML error, another workload type, and a named GPU
type (whose fit check needs the sizing code). tests/test_fast_validate.py holds both paths to the same
verdicts, word for word.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, cast

from workload.problems import Problem
from workload.values_schema import conforms, merged, refusals


class View:
    """Read-only attribute access over a merged values document, as the rules read the model: snake_case
    names onto camelCase keys, an absent optional field as None. An object of the schema (one with
    properties) is a view; a map whose keys are the user's (labels, a node selector) stays a dict."""

    __slots__ = ("_data", "_schema")

    def __init__(self, data: dict[str, Any], schema: dict[str, Any]) -> None:
        self._data, self._schema = data, schema

    def __getattr__(self, name: str) -> Any:
        head, *rest = name.split("_")
        key = head + "".join(part[:1].upper() + part[1:] for part in rest)
        return _wrap(self._data.get(key), self._schema.get("properties", {}).get(key, {}))


def _wrap(value: Any, schema: dict[str, Any]) -> Any:
    if isinstance(value, dict) and "properties" in schema:
        return View(value, schema)
    if isinstance(value, list):
        return [_wrap(item, schema.get("items", {})) for item in value]
    return value


@cache
def _schema() -> dict[str, Any]:
    """The chart's values.schema.json, read once per process."""
    from workload.paths import charts_dir  # noqa: PLC0415

    text = (charts_dir() / "ml-inference-load" / "values.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def problems_of(document: dict[str, Any]) -> list[Problem] | None:
    """The contract's problems with an ML_INFERENCE_LOAD document, or None where only the full path can say."""
    from workload.models.ml_inference_load import WORKLOAD_TYPE  # noqa: PLC0415 (none of these import pydantic)
    from workload.models.ml_inference_load.defaults import DEFAULTS  # noqa: PLC0415
    from workload.models.ml_inference_load.patterns import PATTERN_TEXT  # noqa: PLC0415
    from workload.models.ml_inference_load.rules import cross_field_problems  # noqa: PLC0415

    if document.get("workloadType") != WORKLOAD_TYPE:
        return None
    values, schema = merged(DEFAULTS, document), _schema()
    if not conforms(schema, values):
        return refusals(schema, document, DEFAULTS, PATTERN_TEXT)  # the full path's words, or None
    if (values.get("gpu") or {}).get("type") is not None:
        return None
    found: Iterator[Problem] = cross_field_problems(cast("Any", View(values, schema)))
    return list(found)


def validate_files(files: list[Path]) -> dict[str, list[Problem]] | None:
    """file -> problems for every file, or None when any of them needs the full path."""
    from workload.yamlio import ValuesFileError, load_values_file  # noqa: PLC0415

    report: dict[str, list[Problem]] = {}
    for file in files:
        try:
            document = load_values_file(file)
        except ValuesFileError:
            return None
        if (problems := problems_of(document)) is None:
            return None
        report[str(file)] = problems
    return report
