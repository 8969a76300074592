"""Files generated from the values models: one source, checked for drift by `workload generate --check`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workload.generate.backstage import catalog_yaml
from workload.generate.readme_table import splice, values_table
from workload.generate.schema import values_schema
from workload.generate.typescript import module_name, shared_ts, workload_schema_ts, workload_ts
from workload.generate.values_yaml import values_yaml
from workload.models import WORKLOAD_TYPES
from workload.paths import REPO_ROOT

TS_DIR = REPO_ROOT / "src" / "workloadChartValues"


@dataclass(frozen=True)
class Target:
    """A generated file: where it lives and how to compute its content from what is there now."""

    path: Path
    render: Callable[[str], str]  # current content ("" if missing) -> wanted content


def _whole_file(text: str) -> Callable[[str], str]:
    return lambda _current: text


def _section(table: str) -> Callable[[str], str]:
    return lambda current: splice(current, table)


def targets() -> list[Target]:
    found: list[Target] = []
    for member in WORKLOAD_TYPES.values():
        model, chart, name = member.model, member.chart_dir, member.chart_name
        schema_text = json.dumps(values_schema(model, name), indent=2, ensure_ascii=False) + "\n"
        found.append(Target(chart / "values.schema.json", _whole_file(schema_text)))
        found.append(Target(chart / "values.yaml", _whole_file(values_yaml(model, name))))
        found.append(Target(chart / "README.md", _section(values_table(model, name))))
        found.append(Target(TS_DIR / f"{module_name(member)}.ts", _whole_file(workload_ts(member))))
    found.append(Target(TS_DIR / "shared.ts", _whole_file(shared_ts())))
    found.append(Target(TS_DIR / "workloadSchema.ts", _whole_file(workload_schema_ts())))
    found.append(Target(REPO_ROOT / ".cat" / "backstage" / "ml-inference-load.yaml", _whole_file(catalog_yaml())))
    return found


def stale_files() -> list[Path]:
    """Generated files whose content differs from what the models produce now."""
    stale = []
    for target in targets():
        current = target.path.read_text(encoding="utf-8") if target.path.exists() else ""
        if target.render(current) != current:
            stale.append(target.path)
    return stale


def write_all() -> list[Path]:
    """Write every generated file; returns the ones that changed."""
    changed = []
    for target in targets():
        current = target.path.read_text(encoding="utf-8") if target.path.exists() else ""
        wanted = target.render(current)
        if wanted != current:
            target.path.parent.mkdir(parents=True, exist_ok=True)
            target.path.write_text(wanted, encoding="utf-8")
            changed.append(target.path)
    return changed
