"""A problem with a values document: the field path it concerns and what is wrong, printed as one line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """`path` uses dots and [index], e.g. environmentVariables[0].name; empty means the whole document."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message
