"""Splitting `helm template` output into objects."""

from __future__ import annotations

from typing import Any

import yaml


def split_manifests(text: str) -> list[dict[str, Any]]:
    """Every non-empty YAML document of a rendered manifest stream."""
    return [doc for doc in yaml.safe_load_all(text) if doc]
