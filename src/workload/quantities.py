"""Kubernetes quantities reduced to whole numbers, as the chart's templates reduce them (rounded half up).

The chart compares requests with limits in Go templates using float arithmetic rounded to whole
millicores and bytes; doing the same here keeps `workload validate` and `helm template` in agreement.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

_MEMORY_SUFFIX = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}  # fmt: skip


def cpu_millicores(quantity: str) -> int:
    """'2' -> 2000, '0.5' -> 500, '250m' -> 250."""
    if quantity.endswith("m"):
        return int(quantity[:-1])
    return int((Decimal(quantity) * 1000).to_integral_value(ROUND_HALF_UP))


def memory_bytes(quantity: str) -> int:
    """'8Gi' -> 8589934592, '1.5G' -> 1500000000."""
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity)
    if match is None:
        raise ValueError(f"not a memory quantity: {quantity!r}")
    number, suffix = match.groups()
    return int((Decimal(number) * _MEMORY_SUFFIX[suffix]).to_integral_value(ROUND_HALF_UP))


_DURATION_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def duration_ms(duration: str) -> int:
    """'30s' -> 30000, '1m' -> 60000 (one unit, as the ServiceMonitor fields here take them)."""
    match = re.fullmatch(r"([0-9]+)(ms|s|m|h)", duration)
    if match is None:
        raise ValueError(f"not a duration: {duration!r}")
    return int(match[1]) * _DURATION_MS[match[2]]
