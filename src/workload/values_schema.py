"""The chart's values.schema.json read without a JSON Schema library or pydantic, for the fast path of
`workload validate FILE` (fast_validate.py): whether a document conforms, and what it refuses, worded as the
full path words pydantic's errors (pydantic_errors.py), so a refused file is answered fast too
(docs/architecture.md, "Start-up").

The models are strict (no coercion) and forbid unknown keys, so a schema node says what pydantic accepts.
Pydantic reports a model's declared fields in order, then its unknown keys; one error per value (a string's
length before its pattern); a map's key before its value. Where this module cannot be sure of pydantic's
words or order (a null, an integral float, a bound on a list, a number or a type union), it answers None and
the caller takes the full path; tests/test_fast_validate.py holds both to the same words.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from workload.problems import Problem, field_path

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


def go_pattern(source: str) -> re.Pattern[str]:
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
        return "pattern" not in schema or go_pattern(schema["pattern"]).search(value) is not None
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


Loc = tuple[int | str, ...]


class Unsure(Exception):
    """The document has a refusal whose words only pydantic can give."""


def _describe(value: Any) -> str:
    """pydantic_errors._describe_input."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def _kinds(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type", "object" if "properties" in schema else None)
    kinds = kind if isinstance(kind, list) else [kind]
    return [k for k in kinds if k not in (None, "null")]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Refusals:
    """Walks a document against the schema, collecting the full path's problems in its order."""

    def __init__(self, patterns: dict[str, str]) -> None:
        self.patterns = patterns  # pattern -> what it allows, in words (models/common.py PATTERN_TEXT)
        self.found: list[Problem] = []

    def add(self, loc: Loc, message: str) -> None:
        self.found.append(Problem(field_path(loc), message))

    def walk(self, schema: dict[str, Any], value: Any, loc: Loc, defaults: Any = None) -> None:
        """`defaults`: the chart's defaults at this place, along the chain of objects Helm merges (the schema
        requires what they hold, since Helm merges them in; pydantic fills them in)."""
        merged_in = isinstance(defaults, dict) and isinstance(value, dict)
        if conforms(schema, merged(defaults, value) if merged_in else value):
            return
        before = len(self.found)
        self.check(schema, value, loc, defaults)
        if len(self.found) == before:
            raise Unsure  # refused for a reason this module does not word

    def check(self, schema: dict[str, Any], value: Any, loc: Loc, defaults: Any) -> None:
        kinds = _kinds(schema)
        if value is None:
            raise Unsure  # Helm's null deletes a default; pydantic's words for it differ by type
        if "enum" in schema or "const" in schema:  # a Literal (const: of one value): its choices, any input
            self.enum(schema, value, loc)
        elif len(kinds) != 1:
            raise Unsure
        elif kinds[0] == "object":
            self.mapping(schema, value, loc, defaults if isinstance(defaults, dict) else {})
        elif kinds[0] == "array":
            self.array(schema, value, loc)
        elif kinds[0] == "string":
            self.string(schema, value, loc)
        elif kinds[0] == "integer":
            self.integer(schema, value, loc)
        elif kinds[0] == "boolean":
            if not isinstance(value, bool):
                self.add(loc, f"must be true or false, not {_describe(value)}")
        else:
            raise Unsure

    def enum(self, schema: dict[str, Any], value: Any, loc: Loc) -> None:
        choices = [c for c in schema.get("enum", [schema.get("const")]) if c is not None]
        if not any(value == c and type(value) is type(c) for c in choices):
            if not all(isinstance(c, str) for c in choices):
                raise Unsure
            self.add(loc, f"must be one of: {', '.join(choices)} (got {value!r})")

    def mapping(self, schema: dict[str, Any], value: Any, loc: Loc, defaults: dict[str, Any]) -> None:
        if not isinstance(value, dict):
            self.add(loc, f"must be a mapping, not {_describe(value)}")
            return
        properties: dict[str, Any] = schema.get("properties", {})
        if properties:
            required = set(schema.get("required", ())) - set(defaults)
            for key, sub in properties.items():
                if key in value:
                    self.walk(sub, value[key], (*loc, key), defaults.get(key))
                elif key in required:
                    self.add((*loc, key), "is required")
            extra = [key for key in value if key not in properties]
            if extra and schema.get("additionalProperties", True) is not False:
                raise Unsure
            allowed = sorted(properties)
            for key in extra:
                if not isinstance(key, str) or key in {_snake(name) for name in properties}:
                    raise Unsure  # a field's Python name, which pydantic also takes
                near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                self.add((*loc, key), f"unknown field; did you mean {near[0]}?" if near
                         else f"unknown field; allowed here: {', '.join(allowed)}")  # fmt: skip
            return
        names, items = schema.get("propertyNames"), schema.get("additionalProperties")
        if not isinstance(items, dict):
            raise Unsure
        for key, item in value.items():
            if not isinstance(key, str):
                raise Unsure
            if names is not None:
                self.string(names, key, (*loc, key))
            self.walk(items, item, (*loc, key))

    def array(self, schema: dict[str, Any], value: Any, loc: Loc) -> None:
        if not isinstance(value, list):
            self.add(loc, f"must be a list, not {_describe(value)}")
            return
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            raise Unsure  # pydantic's own sentence for a list's length
        for index, item in enumerate(value):
            self.walk(schema.get("items", {}), item, (*loc, index))

    def string(self, schema: dict[str, Any], value: Any, loc: Loc) -> None:
        if not isinstance(value, str):
            hint = " (quote it in YAML)" if isinstance(value, int | float | bool) else ""
            self.add(loc, f"must be a string, not {_describe(value)}{hint}")
        elif len(value) < schema.get("minLength", 0):
            self.add(loc, "must not be empty")
        elif len(value) > schema.get("maxLength", len(value)):
            self.add(loc, f"must be at most {schema['maxLength']} characters (got {len(value)})")
        elif "pattern" in schema and go_pattern(schema["pattern"]).search(value) is None:
            pattern = schema["pattern"]
            self.add(loc, f"must be {self.patterns.get(pattern, f'a string matching {pattern}')} (got {value!r})")

    def integer(self, schema: dict[str, Any], value: Any, loc: Loc) -> None:
        if isinstance(value, float) and value.is_integer():
            raise Unsure  # read as a whole number first (models/common.py WHOLE), then bounded
        if isinstance(value, bool) or not isinstance(value, int):
            got = value if isinstance(value, float) else _describe(value)
            self.add(loc, f"must be a whole number, not {got}")
        elif value < schema.get("minimum", value):
            self.add(loc, f"must be >= {schema['minimum']} (got {value!r})")
        elif value > schema.get("maximum", value):
            self.add(loc, f"must be <= {schema['maximum']} (got {value!r})")


def refusals(
    schema: dict[str, Any], document: dict[str, Any], defaults: dict[str, Any], patterns: dict[str, str]
) -> list[Problem] | None:
    """The problems the full path gives a document that the schema refuses once merged over `defaults`, in
    its order; None where unsure (and for a document that conforms alone)."""
    walker = Refusals(patterns)
    try:
        walker.walk(schema, document, (), defaults)
    except Unsure:
        return None
    return walker.found or None
