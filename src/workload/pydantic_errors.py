"""Turn Pydantic's validation errors into one-line problems a person can act on.

Pydantic's own messages name regular expressions and Python types; these name the field path the
user wrote (camelCase, [index]) and say what is allowed, in the words of the type's description.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from workload.models.common import PATTERN_TEXT
from workload.problems import Problem, field_path


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional to reach the model, list or dict type underneath."""
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            non_none = [a for a in get_args(annotation) if a is not type(None)]
            annotation = non_none[0]
        else:
            return annotation


def _type_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> Any:
    """The declared type found by following loc from the root model (None if it cannot be followed)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {f.alias or name: f for name, f in current.model_fields.items()}
            if not isinstance(part, str) or part not in fields:
                return None
            current = fields[part].annotation
        elif get_origin(current) is list:
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return None
    return _unwrap(current)


def _allowed_keys(model: type[BaseModel], parent: tuple[int | str, ...]) -> list[str]:
    found = _type_at(model, parent)
    if isinstance(found, type) and issubclass(found, BaseModel):
        return sorted(f.alias or name for name, f in found.model_fields.items())
    return []


def _describe_input(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "null"
    return type(value).__name__


def _literal_choices(model: type[BaseModel], loc: tuple[int | str, ...]) -> str | None:
    found = _type_at(model, loc)
    if get_origin(found) is Literal:
        return ", ".join(str(a) for a in get_args(found))
    if isinstance(found, type) and hasattr(found, "__members__"):
        return ", ".join(str(m.value) for m in found.__members__.values())
    return None


def message_for(error: ErrorDetails, model: type[BaseModel]) -> str:
    """A short sentence for one Pydantic error."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    got = error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, error["loc"][:-1])
        key = error["loc"][-1]
        if isinstance(key, str) and (near := difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)):
            return f"unknown field; did you mean {near[0]}?"
        return f"unknown field; allowed here: {', '.join(allowed)}"
    if kind == "string_pattern_mismatch":
        text = PATTERN_TEXT.get(str(ctx.get("pattern")), f"a string matching {ctx.get('pattern')}")
        return f"must be {text} (got {got!r})"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters (got {len(str(got))})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        limit = next(iter(ctx.values()))
        return f"must be {op} {limit} (got {got!r})"
    if kind in ("literal_error", "enum"):
        choices = _literal_choices(model, error["loc"]) or str(ctx.get("expected", ""))
        return f"must be one of: {choices} (got {got!r})"
    if kind == "string_type":
        hint = " (quote it in YAML)" if isinstance(got, int | float | bool) else ""
        return f"must be a string, not {_describe_input(got)}{hint}"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"must be a whole number, not {_describe_input(got) if not isinstance(got, float) else got}"
    if kind == "bool_type":
        return f"must be true or false, not {_describe_input(got)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping, not {_describe_input(got)}"
    if kind == "list_type":
        return f"must be a list, not {_describe_input(got)}"
    return error["msg"]


def problems_from_validation_error(exc: ValidationError, model: type[BaseModel]) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        # A failed union member adds its type to loc (e.g. 'str'); the user never wrote that part.
        loc = tuple(p for p in loc if not (isinstance(p, str) and p in ("str", "int", "function-after", "[key]")))
        problems.append(Problem(field_path(loc), message_for(error, model)))
    return problems
