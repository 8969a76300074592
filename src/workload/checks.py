"""One check's outcome, as `workload verify` reports it (ops and every engine's checks return these)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """What was checked, whether it passed, what was seen, and where to look if not."""

    name: str
    ok: bool
    detail: str
    hint: str = ""
