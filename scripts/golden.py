#!/usr/bin/env python3
"""Writes tests/golden/ (see tests/golden_renders.py): the examples and fixtures under their own names, plus
each values document of a folder of recorded test renders (`--recorded DIR`, JSON files {values, extra}); or
renders every case already there anew from its own values and arguments (`--refresh`), after a change that is
meant to change renders.

    .venv/bin/python scripts/golden.py --write [--recorded DIR]
    .venv/bin/python scripts/golden.py --refresh
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from golden_renders import GOLDEN, cases, example_documents, helm_template, normalised_objects, write_case

HELM = Path(__file__).resolve().parents[1] / ".tools" / "bin" / "helm3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="Write tests/golden/ anew.")
    mode.add_argument("--refresh", action="store_true", help="Render every case in tests/golden/ anew.")
    parser.add_argument("--recorded", type=Path, help="A folder of recorded renders to add as cases.")
    options = parser.parse_args()
    if options.refresh:
        for name, case in cases().items():
            write_case(
                name,
                case["values"],
                case["args"],
                normalised_objects(helm_template(HELM, case["values"], case["args"])),
            )
        print(f"rendered {len(cases())} cases in {GOLDEN} anew")
        return
    GOLDEN.mkdir(exist_ok=True)
    for old in GOLDEN.glob("*.yaml"):
        old.unlink()
    inputs: dict[str, tuple[str, list[str]]] = {}
    for name, path in example_documents().items():
        inputs[name] = (path.read_text(encoding="utf-8"), [])
    seen = {(text, tuple(args)) for text, args in inputs.values()}
    for recorded in sorted(options.recorded.glob("*.json")) if options.recorded else []:
        data = json.loads(recorded.read_text(encoding="utf-8"))
        text, args = data["values"], list(data["extra"])
        if (text, tuple(args)) in seen:
            continue
        seen.add((text, tuple(args)))
        digest = hashlib.sha256(json.dumps([text, args]).encode()).hexdigest()[:12]
        inputs[f"test-{digest}"] = (text, args)
    for name, (text, args) in sorted(inputs.items()):
        write_case(name, text, args, normalised_objects(helm_template(HELM, text, args)))
    print(f"wrote {len(inputs)} cases to {GOLDEN}")


if __name__ == "__main__":
    main()
