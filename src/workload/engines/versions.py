"""The engine version an image holds: read from its tag, or declared where the tag is not a version."""

from __future__ import annotations

import re
from typing import Protocol

Version = tuple[int, int, int]


class VersionedImage(Protocol):
    @property
    def tag(self) -> str: ...
    @property
    def version(self) -> str | None: ...


def image_version(image: VersionedImage, default_tag: str = "") -> str | None:
    """inference.image.version, else the X.Y.Z at the start of the tag ('3.3.7-rocm' -> 3.3.7), else None. An
    empty tag is `default_tag` (the engine's own).

    A digest or a tag such as 'latest' says nothing about what the image contains, so no version is
    guessed: options that need a newer engine are refused until inference.image.version declares one.
    """
    match = re.match(r"^v?([0-9]+\.[0-9]+\.[0-9]+)", image.version or image.tag or default_tag)
    return match[1] if match else None


def as_tuple(version: str) -> Version:
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch
