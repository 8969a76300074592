"""A problem with a values document: the field path it concerns and what is wrong, printed as one line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

# A key shown as written: printable, no spaces, brackets or quotes. Others are shown quoted, so that a
# problem is always one line whatever the key holds (a newline, a tab, U+2028).
_PLAIN_KEY = re.compile(r"^[^\s\[\]\"\\]+$")


def field_path(parts: Iterable[int | str]) -> str:
    """('environmentVariables', 0, 'name') -> 'environmentVariables[0].name'; odd keys as ["..."]."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part) and part.isprintable():
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


@dataclass(frozen=True)
class Problem:
    """`path` uses dots and [index], e.g. environmentVariables[0].name; empty means the whole document."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message
