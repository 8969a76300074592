"""The values contracts: one package per workload type, and the union of them (registry.py).

The union and the models are imported when first asked for (PEP 562), so that what needs no pydantic
(a workload type's rules and defaults) can be imported without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workload.models.registry import WORKLOAD_TYPES, WorkloadType

__all__ = ["WORKLOAD_TYPES", "WorkloadType"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from workload.models import registry  # noqa: PLC0415

        return getattr(registry, name)
    raise AttributeError(name)
