"""Strict schema checks of rendered manifests: Kubernetes built-in kinds and custom resources.

Built-in kinds use the strict schemas that kubernetes-validate ships (unknown fields rejected, as
`kubectl apply --validate=strict` does). Custom resources use the openAPIV3Schema of the real CRD,
turned into a JSON Schema that also rejects unknown fields. Validators are built once and reused:
building one costs far more than using it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate.utils as kv
import yaml
from referencing import Registry, Resource


class SchemaMissing(Exception):
    """No schema is known for this kind and apiVersion."""


@cache
def _schema_folder(kube_version: str) -> str:
    version = [v for v in kv.all_versions() if kv.major_minor(v) <= kv.major_minor(kube_version)][-1]
    return f"kubernetes-json-schema/v{version}-local-strict"


@cache
def _definitions(kube_version: str) -> Resource[Any]:
    """The shared definitions of one Kubernetes version (a large file: read once)."""
    return Resource.from_contents(kv.schema_contents(f"{_schema_folder(kube_version)}/_definitions.json", kube_version))


@cache
def _builtin_validator(kube_version: str, api_version: str, kind: str) -> jsonschema.protocols.Validator:
    # Mirrors kubernetes_validate.validate(strict=True), which rebuilds all of this on every call.
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv.schema_contents(f"{_schema_folder(kube_version)}/{kind.lower()}-{group_version}.json", kube_version)
    except FileNotFoundError:
        raise SchemaMissing(f"no Kubernetes {kube_version} schema for {api_version} {kind}") from None
    registry: Registry[Any] = _definitions(kube_version) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def crd_to_json_schema(node: Any) -> Any:
    """A CRD's structural openAPIV3Schema as a strict JSON Schema (CEL rules are not evaluated)."""
    if isinstance(node, list):
        return [crd_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: crd_to_json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    out.pop("nullable", None)
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    preserve = node.get("x-kubernetes-preserve-unknown-fields", False)
    if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    return out


class CrdSchemas:
    """Validators for the custom resources defined by the CRD files in one folder."""

    def __init__(self, crd_files: Iterable[Path]) -> None:
        self._schemas: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
        for path in crd_files:
            for crd in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    schema = crd_to_json_schema(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
                    key = (f"{group}/{version['name']}", kind)
                    self._schemas.setdefault(key, []).append((path.name, schema))

    def sources(self, api_version: str, kind: str) -> list[str]:
        """The CRD files that define this apiVersion and kind."""
        return [name for name, _ in self._schemas.get((api_version, kind), [])]

    def errors(self, manifest: dict[str, Any], source: str) -> list[str]:
        """Schema errors of a manifest against the CRD from one file, as 'path: message' lines."""
        key = (manifest["apiVersion"], manifest["kind"])
        schema = dict(self._schemas.get(key, [])).get(source)
        if schema is None:
            raise SchemaMissing(f"{source} does not define {key[0]} {key[1]}")
        validator = jsonschema.Draft202012Validator(schema)
        return [_describe(e) for e in sorted(validator.iter_errors(manifest), key=lambda e: list(e.path))]


def builtin_errors(manifest: dict[str, Any], kube_version: str) -> list[str]:
    """Strict schema errors of a built-in object for a Kubernetes version, as 'path: message' lines."""
    validator = _builtin_validator(kube_version, manifest["apiVersion"], manifest["kind"])
    return [_describe(e) for e in sorted(validator.iter_errors(manifest), key=lambda e: list(e.path))]


def _describe(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path) or "(root)"
    return f"{path}: {error.message}"
