"""Reading values files the way Helm reads them.

Helm parses values with go-yaml (YAML 1.1 rules, via sigs.k8s.io/yaml). PyYAML's SafeLoader differs in
a few scalars, and every difference would make `workload validate` and `helm template` disagree:

- go-yaml reads `y`, `Y`, `n`, `N` as booleans; PyYAML reads them as strings.
- go-yaml reads `1e3` as a number; PyYAML needs a dot (`1.0e3`).
- PyYAML turns `2024-01-01` into a date and `1:20` into the integer 80; go-yaml keeps both strings.

The loader below resolves scalars like go-yaml does, so both tools see the same document.
"""

from __future__ import annotations

import base64
import json
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from workload.problems import field_path


class HelmLikeLoader(yaml.SafeLoader):
    """A SafeLoader whose implicit scalar types follow go-yaml v2 (what Helm uses)."""


def _install_resolvers() -> None:
    resolvers: dict[Any, Any] = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [
            (tag, regexp)
            for tag, regexp in entries
            if tag
            not in (
                "tag:yaml.org,2002:timestamp",
                "tag:yaml.org,2002:float",
                "tag:yaml.org,2002:int",
                "tag:yaml.org,2002:bool",
            )
        ]
        resolvers[first] = kept
    HelmLikeLoader.yaml_implicit_resolvers = resolvers
    HelmLikeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"),
        list("yYnNtTfFoO"),
    )
    HelmLikeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:int",
        re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
        list("-+0123456789"),
    )
    HelmLikeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"
            r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    )


_install_resolvers()


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() in ("y", "yes", "true", "on")


HelmLikeLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)


def go_key(key: Any) -> Any:
    """A mapping key as sigs.k8s.io/yaml turns it into a JSON key: `on:` is "true", `1:` is "1"."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return _go_float(key)
    return key


def _go_float(value: float) -> str:
    """Go's strconv.FormatFloat(value, 'g', -1, 64): shortest digits; exponent form below 1e-4 and from 1e6."""
    if math.isnan(value) or math.isinf(value):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(value)]
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    point = len(text) + int(exponent)  # where the decimal point falls in `text`
    magnitude = point - 1
    prefix = "-" if sign else ""
    if magnitude < -4 or magnitude >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'+' if magnitude >= 0 else '-'}{abs(magnitude):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return f"{prefix}{text}{'0' * (point - len(text))}"
    return f"{prefix}{text[:point]}.{text[point:]}"


def _refuse_duplicate_keys(loader: yaml.SafeLoader, node: yaml.MappingNode) -> None:
    """Helm keeps the last of two equal keys without a word; a values file with both is a mistake.
    Keys brought in by a merge (<<) may be overridden: only the mapping's own keys count."""
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
            continue
        key = go_key(loader.construct_object(key_node))
        line = key_node.start_mark.line + 1
        if key in seen:
            raise ValuesFileError(
                f"{json.dumps(str(key))} is set twice, on lines {seen[key]} and {line}; Helm would silently use "
                "the last one, so keep one"
            )
        seen[key] = line


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    _refuse_duplicate_keys(loader, node)
    loader.flatten_mapping(node)  # merge keys (<<), as go-yaml does
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, list | dict):
            raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a scalar", key_node.start_mark)
        mapping[go_key(key)] = loader.construct_object(value_node, deep=True)
    return mapping


HelmLikeLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _construct_binary(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    # go-yaml decodes !!binary to a string of its bytes, and the JSON step replaces invalid UTF-8.
    data = base64.b64decode(str(loader.construct_scalar(node)))
    return data.decode("utf-8", errors="replace")


def _construct_untyped(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    # go-yaml ignores a tag it does not know (`!foo 123` is the string "123"); so does Helm.
    if isinstance(node, yaml.ScalarNode):
        return str(loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    assert isinstance(node, yaml.MappingNode)
    return _construct_mapping(loader, node)


HelmLikeLoader.add_constructor("tag:yaml.org,2002:binary", _construct_binary)
HelmLikeLoader.add_multi_constructor("!", _construct_untyped)


MAX_CHARACTERS = 1_048_576  # far above any real values file; bounds the work a hostile file can cause


class ValuesFileError(Exception):
    """A values file that cannot be read as a YAML mapping; the message is one line."""


def load_values_text(text: str) -> dict[str, Any]:
    """Parse YAML text into the mapping Helm would see, or raise ValuesFileError."""
    if len(text) > MAX_CHARACTERS:
        raise ValuesFileError(f"has {len(text)} characters; a values file may have at most {MAX_CHARACTERS}")
    try:
        data = yaml.load(text, Loader=HelmLikeLoader)
    except yaml.composer.ComposerError as exc:
        if "another document" not in str(exc):
            raise ValuesFileError(f"not valid YAML: {exc.problem}") from None
        raise ValuesFileError(
            "holds more than one YAML document; Helm 3 reads only the first and Helm 4 merges them all, so keep one"
        ) from None
    except RecursionError:
        raise ValuesFileError("is nested too deeply to be a values file") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ValuesFileError(f"not valid YAML{where}: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ValuesFileError(f"not valid YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        raise ValuesFileError("the file is empty; expected a mapping of values such as 'workloadType: ...'")
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
            type(data), type(data).__name__
        )
        raise ValuesFileError(f"the document is {kind}; expected a mapping of values at the top level")
    return data


def load_values_file(path: Path) -> dict[str, Any]:
    """Read a values file, turning every way it can fail into a one-line ValuesFileError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValuesFileError("no such file") from None
    except IsADirectoryError:
        raise ValuesFileError("is a directory, not a values file") from None
    except OSError as exc:
        raise ValuesFileError(f"cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValuesFileError("is not UTF-8 text (a binary file?)") from None
    if "\x00" in text:
        raise ValuesFileError("is not text: it contains NUL bytes")
    return load_values_text(text)


def key_lines(text: str) -> dict[str, int]:
    """Field path (as problems name it) -> the 1-based line where that key or list item is written."""
    loader = HelmLikeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError:
        return {}
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    keys = HelmLikeLoader("")  # constructs key scalars the way the values are read

    def walk(node: yaml.Node, parts: tuple[int | str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = go_key(keys.construct_object(key_node))
                path = (*parts, str(key))
                lines.setdefault(field_path(path), key_node.start_mark.line + 1)
                walk(value_node, path)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                path = (*parts, index)
                lines.setdefault(field_path(path), item.start_mark.line + 1)
                walk(item, path)

    if root is not None:
        walk(root, ())
    return lines


def line_of(lines: dict[str, int], path: str) -> int:
    """The line of a problem's field, else of the nearest enclosing field written in the file, else 1."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return 1
