"""The architecture page (docs/architecture.md) names only paths that exist, so a move shows up here."""

from __future__ import annotations

import re

from workload.paths import REPO_ROOT

PAGE = REPO_ROOT / "docs" / "architecture.md"
CHART = REPO_ROOT / "charts" / "ml-inference-load"


def named_paths() -> set[str]:
    text = PAGE.read_text(encoding="utf-8")
    return {m[1] for m in re.finditer(r"`((?:src|charts|tests|scripts|docs|templates|dashboards|files)/[^`\s]*)`", text)
            if "NAME" not in m[1] and "new" not in m[1] and "<" not in m[1]}  # fmt: skip


def test_the_page_names_paths() -> None:
    assert len(named_paths()) > 30


def test_every_path_the_architecture_page_names_exists() -> None:
    missing = []
    for path in sorted(named_paths()):
        base = CHART if path.startswith(("templates/", "dashboards/", "files/")) else REPO_ROOT
        if not (base / path.rstrip("/")).exists():
            missing.append(path)
    assert missing == []
