"""`workload validate FILE...` without pydantic, for files the contract accepts: the path pre-commit hooks and
CI loops take on every commit, where start-up is most of the time (docs/architecture.md, "Start-up").

A file is merged over the chart's defaults as Helm merges it (models/<type>/defaults.py, generated from
values.yaml), checked against the chart's own values.schema.json (generated from the model, so the model's
field checks), and then run through the same cross-field rules as the model (rules.py), which read the
merged document through a read-only view. Anything this path is not sure of returns None, and the
caller takes the full path (pydantic, `workload.validation`): a file the schema refuses (for pydantic's exact
words; an integer written as 2.0, which pydantic reads as 2, is one), a YAML error, another workload type,
and a named GPU type (whose fit check needs the sizing code). tests/test_fast_validate.py holds both paths
to the same verdicts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, cast

from workload.problems import Problem

# The JSON Schema keywords values.schema.json uses, and so the ones `conforms` knows (a test keeps it so).
KEYWORDS = frozenset({"$comment", "$schema", "additionalProperties", "const", "default", "description", "enum",
                      "items", "maxItems", "maxLength", "maximum", "minItems", "minLength", "minimum", "pattern",
                      "properties", "propertyNames", "required", "title", "type"})  # fmt: skip
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(source: str) -> re.Pattern[str]:
    if source not in _PATTERNS:  # Go's `$` is the end of the text; Python's also matches before a final "\n"
        _PATTERNS[source] = re.compile(re.sub(r"\$$", r"\\Z", source))
    return _PATTERNS[source]


def conforms(schema: dict[str, Any], value: Any) -> bool:
    """Whether `value` is valid against `schema`, for the keywords in KEYWORDS (True or False, no why)."""
    kind = schema.get("type")
    if kind is not None and not any(_TYPES[k](value) for k in (kind if isinstance(kind, list) else [kind])):
        return False
    if "enum" in schema and not any(value == e and type(value) is type(e) for e in schema["enum"]):
        return False
    if "const" in schema and not (value == schema["const"] and type(value) is type(schema["const"])):
        return False
    if isinstance(value, str):
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
            return False
        return "pattern" not in schema or _pattern(schema["pattern"]).search(value) is not None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return bool(schema.get("minimum", value) <= value <= schema.get("maximum", value))
    if isinstance(value, list):
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            return False
        return "items" not in schema or all(conforms(schema["items"], item) for item in value)
    if isinstance(value, dict):
        if any(key not in value for key in schema.get("required", ())):
            return False
        properties, extra = schema.get("properties", {}), schema.get("additionalProperties", True)
        names = schema.get("propertyNames")
        for key, item in value.items():
            if names is not None and not conforms(names, key):
                return False
            if key in properties:
                if not conforms(properties[key], item):
                    return False
            elif extra is False or (isinstance(extra, dict) and not conforms(extra, item)):
                return False
    return True


def merged(defaults: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalesce of a values file over the chart's defaults: maps merge, a null deletes a default,
    anything else replaces it. Neither input is changed (untouched parts of `defaults` are shared)."""
    out = dict(defaults)
    for key, value in values.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


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
    from workload.models.ml_inference_load.rules import cross_field_problems  # noqa: PLC0415

    if document.get("workloadType") != WORKLOAD_TYPE:
        return None
    values, schema = merged(DEFAULTS, document), _schema()
    if not conforms(schema, values) or (values.get("gpu") or {}).get("type") is not None:
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
