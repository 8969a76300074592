"""The `workload` command's entry point: `workload validate FILE...` (plain files, no options) is answered
without typer or rich, and for files the contract accepts without pydantic too; everything else goes to
cli.py. The words and exit codes are the command's own (tests/test_fast_validate.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _fast_validate(names: list[str]) -> int | None:
    """The exit code, or None when the full command must answer (it then prints everything)."""
    from workload.errors import WorkloadError  # noqa: PLC0415
    from workload.fast_validate import validate_files  # noqa: PLC0415

    files = [Path(name) for name in names]
    report = validate_files(files)
    if report is None:  # some file needs pydantic's words (or the fit check): the full check, still no typer
        from workload.validate_paths import validate_paths  # noqa: PLC0415

        try:
            report = validate_paths(files)
        except WorkloadError:
            return None  # the full command says it in one line
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
    lines = []
    for name, problems in report.items():
        if not problems:
            lines.append(f"\x1b[32m{name}: ok\x1b[0m" if color else f"{name}: ok")
        lines += [f"{name}: {problem}" for problem in problems]
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 1 if any(report.values()) else 0


def main() -> None:
    args = sys.argv[1:]
    plain = len(args) >= 2 and args[0] == "validate" and not any(a.startswith("-") for a in args[1:])
    if plain and all(os.path.isfile(name) for name in args[1:]) and (code := _fast_validate(args[1:])) is not None:
        sys.exit(code)
    from workload.cli import main as full  # noqa: PLC0415

    full()
