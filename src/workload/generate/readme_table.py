"""The chart README's values table, written between two marker lines of an otherwise hand-written README."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from workload.generate.schema import values_schema

BEGIN = "<!-- BEGIN GENERATED VALUES TABLE: `workload generate` writes this part; do not edit. -->"
END = "<!-- END GENERATED VALUES TABLE -->"


def _type_of(prop: dict[str, Any]) -> str:
    if "const" in prop:
        return f"`{prop['const']}`"
    if "enum" in prop:
        return " \\| ".join(f"`{json.dumps(e)}`" for e in prop["enum"])
    kind = prop.get("type", "")
    kinds = kind if isinstance(kind, list) else [kind]
    if "array" in kinds and isinstance(prop.get("items"), dict):
        item = prop["items"].get("type", "object")
        return f"list of {item}"
    if "object" in kinds and "properties" not in prop:
        return "map"
    return " or ".join(str(k) for k in kinds)


def _rows(schema: dict[str, Any], prefix: str) -> list[str]:
    rows = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        if prop.get("type") == "object" and "properties" in prop:
            rows.extend(_rows(prop, f"{path}."))
            continue
        if "default" in prop:
            default = f"`{json.dumps(prop['default'])}`"
        elif name in required:
            default = "**required**"
        else:
            default = "unset"
        description = prop.get("description", "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{path}` | {_type_of(prop)} | {default} | {description} |")
    return rows


def values_table(model: type[BaseModel], chart_name: str) -> str:
    schema = values_schema(model, chart_name)
    lines = [BEGIN, "", "| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    lines += _rows(schema, "")
    lines += ["", END]
    return "\n".join(lines)


def splice(readme: str, table: str) -> str:
    """Replace the text between the markers (markers included) with the new table."""
    if BEGIN not in readme or END not in readme:
        return readme.rstrip("\n") + "\n\n## Values\n\n" + table + "\n"
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + table + tail
