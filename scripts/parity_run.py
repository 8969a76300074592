#!/usr/bin/env python3
"""Large parity run (default 10,000 documents): prints counts, exits 1 if any promise is broken.

Half the documents come from values.schema.json through hypothesis-jsonschema, half are those
documents with one rule broken. For each: `workload validate` and `helm template` (Helm 4; --helm to
pick another) must agree; accepted ones must render objects that pass strict Kubernetes 1.29 and 1.37
schemas and the real CRDs; rejected ones must get a one-line error naming a field.
Run: .venv/bin/python scripts/parity_run.py [-n 10000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from parity import Tally, check_document, documents, dump, mutate  # noqa: E402
from workload.fleet import ObjectChecker  # noqa: E402
from workload.kubeschema import CrdSchemas  # noqa: E402


def generate(n: int, seed: int) -> list[tuple[str, str]]:
    """n/2 generated documents and n/2 mutations of them, as (kind, YAML text)."""
    found: list[tuple[str, str]] = []
    rng = random.Random(seed)

    @settings(max_examples=n // 2, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(documents())
    def collect(document: dict[str, Any]) -> None:
        if len(found) < n:
            found.append(("generated", dump(document)))
            kind, broken = mutate(document, rng)
            found.append((f"mutated: {kind}", dump(broken)))

    collect()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--helm", type=Path, default=ROOT / ".tools" / "bin" / "helm4")
    parser.add_argument("--crds", type=Path, default=ROOT / ".tools" / "crds")
    args = parser.parse_args()

    start = time.perf_counter()
    docs = generate(args.n, args.seed)
    generated_in = time.perf_counter() - start
    checker = ObjectChecker(("1.29", "1.37"), CrdSchemas(sorted(args.crds.glob("*.yaml"))))
    tallies: dict[str, Tally] = {}

    def one(item: tuple[str, str]) -> None:
        kind, text = item
        check_document(text, args.helm, checker, tallies.setdefault(kind, Tally()))

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(one, docs))
    checked_in = time.perf_counter() - start

    total = Tally()
    print(f"{'documents':28s} {'total':>7s} {'accepted':>9s} {'rejected':>9s} {'disagree':>9s} "
          f"{'bad objects':>12s} {'unclear':>8s}")  # fmt: skip
    for kind, tally in sorted(tallies.items()):
        print(f"{kind:28s} {tally.documents:7d} {tally.accepted:9d} {tally.rejected:9d} {len(tally.disagreements):9d} "
              f"{len(tally.bad_manifests):12d} {len(tally.unclear_errors):8d}")  # fmt: skip
        total.documents += tally.documents
        total.accepted += tally.accepted
        total.rejected += tally.rejected
        total.objects_checked += tally.objects_checked
        total.disagreements += tally.disagreements
        total.bad_manifests += tally.bad_manifests
        total.unclear_errors += tally.unclear_errors
    print(f"{'all':28s} {total.documents:7d} {total.accepted:9d} {total.rejected:9d} {len(total.disagreements):9d} "
          f"{len(total.bad_manifests):12d} {len(total.unclear_errors):8d}")  # fmt: skip
    print(f"objects rendered and checked against strict 1.29/1.37 schemas and CRDs: {total.objects_checked}")
    print(f"generation {generated_in:.0f} s, checks {checked_in:.0f} s ({args.helm.name}, {args.jobs} jobs)")
    for problem in (total.disagreements + total.bad_manifests + total.unclear_errors)[:3]:
        print("---\n" + problem)
    return 0 if total.ok else 1


if __name__ == "__main__":
    sys.exit(main())
