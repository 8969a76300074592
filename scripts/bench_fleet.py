#!/usr/bin/env python3
"""Fleet validation benchmark: prints numbers, asserts nothing (run: .venv/bin/python scripts/bench_fleet.py).

Generates N distinct workload files (some invalid on purpose), then times on this machine:
  (a) the loop a CI job would write: per file `helm template`, then `kubernetes-validate --strict` for
      Kubernetes 1.29 and 1.37, each a process of its own;
  (b) one `workload validate --render FOLDER` doing the same checks;
and a single `workload validate FILE` against `helm template` of the same file (a valid one, and an
invalid one). It also prints where (a)'s time goes, and whether (a) and (b)
reached the same verdict for every file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "charts" / "ml-inference-load"
BIN = Path(sys.executable).parent
HELM = ROOT / ".tools" / "bin" / "helm"
MODELS = ["Qwen/Qwen2.5-0.5B-Instruct", "meta-llama/Llama-3.2-1B-Instruct", "mistralai/Mistral-7B-Instruct-v0.3",
          "google/gemma-2-9b-it", "microsoft/Phi-3.5-mini-instruct", "TheBloke/Llama-2-13B-AWQ"]  # fmt: skip


def workload(i: int, rng: random.Random) -> tuple[dict[str, Any], bool]:
    """The i-th workload and whether it is meant to be valid (about one in twelve is not)."""
    gpus = rng.choice([1, 1, 1, 2, 4])
    doc: dict[str, Any] = {
        "workloadType": "ML_INFERENCE_LOAD",
        "serviceName": f"llm-{i:04d}",
        "serviceCatalog": rng.choice(["ml-team", "search", "support-bots"]),
        "namespace": rng.choice(["ml-inference", "llm-prod", "team-a"]),
        "environment": rng.choice(["dev", "staging", "prod"]),
        "model": {"id": rng.choice(MODELS), "revision": "main"},
        "gpu": {"count": gpus},
        "resources": {"limits": {"memory": f"{16 * gpus}Gi"}},
    }
    if rng.random() < 0.5:
        doc["ingress"] = {"enabled": True, "host": f"llm-{i:04d}.llm.example.com"}
    if rng.random() < 0.5:
        doc["vault"] = {"hfTokenPath": "shared/huggingface/token"}
    if rng.random() < 0.3:
        doc["storage"] = {"modelCache": {"enabled": True, "size": "100Gi"}}
    if rng.random() < 0.3:
        doc["monitoring"] = {"serviceMonitor": {"enabled": True}}
    if rng.random() < 0.2:
        doc["networkPolicy"] = {"enabled": True}
    if rng.random() < 0.2:
        doc["inference"] = {"maxInputLength": 4096, "maxTotalTokens": 8192, "maxBatchPrefillTokens": 8192}
    broken = i % 12 == 5
    if broken:
        mutation = rng.choice(["unknown", "type", "range", "cross"])
        if mutation == "unknown":
            doc["gpus"] = 2
        elif mutation == "type":
            doc["gpu"]["count"] = "two"
        elif mutation == "range":
            doc["gpu"]["count"] = 0
        else:
            doc["inference"] = {"maxInputLength": 8192, "maxTotalTokens": 4096}
    return doc, not broken


def naive(files: list[Path], work: Path) -> tuple[dict[str, bool], dict[str, float]]:
    verdicts, spent = {}, {"helm template": 0.0, "kubernetes-validate": 0.0}
    for path in files:
        start = time.perf_counter()
        rendered = subprocess.run([str(HELM), "template", path.stem, str(CHART), "-f", str(path)],
                                  capture_output=True, text=True, check=False)  # fmt: skip
        spent["helm template"] += time.perf_counter() - start
        ok = rendered.returncode == 0
        if ok:
            manifest = work / f"{path.stem}.rendered.yaml"
            manifest.write_text(rendered.stdout)
            for version in ("1.29", "1.37"):
                start = time.perf_counter()
                check = subprocess.run([str(BIN / "kubernetes-validate"), "--strict", "--quiet", "-k", version,
                                        str(manifest)], capture_output=True, check=False)  # fmt: skip
                spent["kubernetes-validate"] += time.perf_counter() - start
                ok = ok and check.returncode == 0
        verdicts[path.name] = ok
    return verdicts, spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="number of workload files (default 200)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        folder, work = Path(tmp) / "workloads", Path(tmp) / "work"
        folder.mkdir()
        work.mkdir()
        meant = {}
        for i in range(args.n):
            doc, valid = workload(i, rng)
            path = folder / f"llm-{i:04d}.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
            meant[path.name] = valid
        files = sorted(folder.glob("*.yaml"))

        start = time.perf_counter()
        loop_verdicts, spent = naive(files, work)
        loop_seconds = time.perf_counter() - start

        start = time.perf_counter()
        result = subprocess.run([str(BIN / "workload"), "validate", "--render", "--output", "json", str(folder)],
                                capture_output=True, text=True, check=False)  # fmt: skip
        fleet_seconds = time.perf_counter() - start
        fleet_verdicts = {Path(r["file"]).name: r["valid"] for r in json.loads(result.stdout)}

        # One file, side by side: `workload validate FILE` and `helm template` of the same file, interleaved
        # so that both see the same machine load; a valid file (the fast path) and an invalid one (the full
        # path, pydantic's words).
        singles = {kind: single_file(next(f for f in files if meant[f.name] is valid)) for kind, valid in
                   (("valid", True), ("invalid", False))}  # fmt: skip
        # Each engine's example, as it is and with one field out of range (the full path).
        for name, example in ENGINE_EXAMPLES.items():
            doc = yaml.safe_load((ROOT / "examples" / example).read_text(encoding="utf-8"))
            broken = work / f"{name}-broken.yaml"
            broken.write_text(yaml.safe_dump({**doc, "gpu": {**doc.get("gpu", {}), "count": 0}}))
            singles[f"valid {name}"] = single_file(ROOT / "examples" / example)
            singles[f"invalid {name}"] = single_file(broken)

    same = loop_verdicts == fleet_verdicts
    print(f"files: {args.n} ({sum(meant.values())} meant valid, {args.n - sum(meant.values())} meant invalid)")
    print(f"(a) helm template + kubernetes-validate per file: {loop_seconds:8.2f} s")
    for step, seconds in spent.items():
        print(f"      of which {step:22s} {seconds:8.2f} s ({seconds / args.n * 1000:.0f} ms a file)")
    print(f"(b) workload validate --render (one call):        {fleet_seconds:8.2f} s")
    print(f"ratio (a)/(b):                                    {loop_seconds / fleet_seconds:8.1f} x")
    valid_count = sum(fleet_verdicts.values())
    print(f"verdicts identical: {same} ({valid_count} valid, {len(fleet_verdicts) - valid_count} invalid); "
          f"as meant: {fleet_verdicts == meant}")  # fmt: skip
    for kind, (ours, theirs) in singles.items():
        print(f"single {kind} file, median of {RUNS} interleaved runs: `workload validate FILE` {ours * 1000:.0f} ms, "
              f"`helm template` {theirs * 1000:.0f} ms, ratio {ours / theirs:.1f} x")  # fmt: skip
    print("load average (1, 5, 15 min): " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    return 0 if same else 1


RUNS = 10
ENGINE_EXAMPLES = {"tgi": "llama-3.2-1b.yaml", "vllm": "vllm.yaml", "sglang": "sglang.yaml"}


def single_file(path: Path) -> tuple[float, float]:
    """Medians of `workload validate FILE` and `helm template` of the file (helm refuses an invalid one too)."""
    ours, theirs = [], []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([str(BIN / "workload"), "validate", str(path)], capture_output=True, check=False)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run([str(HELM), "template", "one", str(CHART), "-f", str(path)], capture_output=True, check=False)
        theirs.append(time.perf_counter() - start)
    return statistics.median(ours), statistics.median(theirs)


if __name__ == "__main__":
    sys.exit(main())
