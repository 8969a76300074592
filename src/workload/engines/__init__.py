"""The inference engines: one package each under workload/engines/, found by name (adding an engine adds a
package and a chart partial; nothing here changes). See base.py for what an engine says."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from workload.engines.base import Engine

DEFAULT_ENGINE = "tgi"  # the design document's engine


@cache
def engine_names() -> tuple[str, ...]:
    """Every engine package, the default first."""
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)
    return (DEFAULT_ENGINE, *(name for name in found if name != DEFAULT_ENGINE))


@cache
def engine(name: str) -> Engine:
    """The engine called `name` (a value of inference.engine); imported only when asked for."""
    if name not in engine_names():
        raise KeyError(name)
    found: Engine = importlib.import_module(f"workload.engines.{name}").ENGINE
    return found


def all_engines() -> list[Engine]:
    return [engine(name) for name in engine_names()]


@cache
def engine_specific_fields() -> dict[str, str]:
    """Values fields some engines receive and others do not -> the titles of those that do ("TGI"); setting one
    with an engine that lacks it is refused, not ignored."""
    engines = all_engines()
    every = frozenset.intersection(*(e.fields() for e in engines))
    return {path: ", ".join(e.title for e in engines if path in e.fields())
            for path in sorted(frozenset.union(*(e.fields() for e in engines)) - every)}  # fmt: skip
