"""values.schema.json from the values model.

Helm 3.17 validates with gojsonschema (draft 4/6/7) and Helm >= 3.19 / 4 with a 2020-12 validator, so
the schema is written in the common subset both enforce alike: draft-07, no $ref (everything inlined),
no `format`, RE2-compatible patterns, nullable types as a type list rather than anyOf.

Helm merges the user's values over values.yaml and deletes a key the user sets to null. So a field that
has a default (and so is always present after the merge) is listed as required: a user's null for it
is then an error in Helm exactly as it is in the model. Objects inside lists are not merged with
anything, so their defaulted fields stay optional and the templates apply the default.
"""

from __future__ import annotations

import copy
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from workload import __version__

SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]])
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return _inline({**target, **extra}, defs)
        return {k: _inline(v, defs) for k, v in node.items() if k not in ("$defs", "title")}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _merge_nullable(node: Any) -> Any:
    """anyOf [X, {type: null}] -> X with type [X.type, "null"]; patternProperties -> propertyNames."""
    if isinstance(node, list):
        return [_merge_nullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _merge_nullable(v) for k, v in node.items()}
    options = node.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        inner = next(o for o in options if o != {"type": "null"})
        merged = {**inner, **{k: v for k, v in node.items() if k != "anyOf"}}
        merged["type"] = [inner["type"], "null"]
        if "enum" in merged:
            merged["enum"] = [*merged["enum"], None]  # an enum admits only its members, null included
        node = merged
    if "patternProperties" in node:
        ((key_pattern, value_schema),) = node.pop("patternProperties").items()
        names = node.pop("propertyNames", {})
        node["propertyNames"] = {**names, "pattern": key_pattern}
        node["additionalProperties"] = value_schema
    return node


def _require_defaulted(node: dict[str, Any]) -> None:
    """Mark defaulted, non-nullable properties required, down the chain of merged objects."""
    properties: dict[str, Any] = node.get("properties", {})
    required = list(node.get("required", []))
    for name, prop in properties.items():
        nullable = isinstance(prop.get("type"), list) and "null" in prop["type"]
        if "default" in prop and not nullable and name not in required:
            required.append(name)
        if prop.get("type") == "object" and "properties" in prop:
            prop.pop("default", None)  # the nested properties carry their own defaults
            _require_defaulted(prop)
    if required:
        node["required"] = sorted(required)


def _apply_defaults(node: dict[str, Any], model: type[BaseModel]) -> None:
    """Pydantic leaves default_factory defaults out of the schema; put every default in, from the model."""
    properties = node.get("properties", {})
    for name, field in model.model_fields.items():
        prop = properties.get(field.alias or name)
        if prop is None:
            continue
        if not field.is_required():
            value = default_value(field)
            if value is None:
                prop.pop("default", None)  # "unset": the key is simply absent from values.yaml
            else:
                prop["default"] = value
        sub = _model_class(field.annotation)
        if sub is not None:
            _apply_defaults(prop, sub)
            if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
                _apply_defaults(prop["items"], sub)


def _model_class(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside X, X | None or list[X], if any."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        for inner in get_args(candidate):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def default_value(field: FieldInfo) -> Any:
    """A field's default as plain camelCase data (what values.yaml holds)."""
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True, mode="json")
    if isinstance(value, list):
        return [
            v.model_dump(by_alias=True, exclude_none=True, mode="json") if isinstance(v, BaseModel) else v
            for v in value
        ]
    return value


def values_schema(model: type[BaseModel], chart_name: str) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True)
    schema = _merge_nullable(_inline(raw, raw.get("$defs", {})))
    _apply_defaults(schema, model)
    _require_defaulted(schema)
    return {
        "$schema": SCHEMA_DIALECT,
        "$comment": f"GENERATED by `workload generate` from the {model.__name__} model; do not edit. "
        f"Values contract {__version__}.",
        "title": f"{chart_name} values",
        **schema,
    }
