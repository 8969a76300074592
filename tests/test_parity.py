"""Property-based parity: on documents generated from the schema, and on mutations of them that break
one rule each, `workload validate` accepts exactly when `helm template` does; accepted documents render
objects that pass strict Kubernetes 1.29 and 1.37 schemas and the CRDs; rejected ones get a one-line
error naming a field. A bounded budget here; scripts/parity_run.py runs a large one."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import helm_path
from parity import Tally, check_document, documents, dump, mutate
from workload.fleet import ObjectChecker
from workload.kubeschema import CrdSchemas

BUDGET = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip


@pytest.fixture(scope="module")
def checker(crds: CrdSchemas) -> ObjectChecker:
    return ObjectChecker(("1.29", "1.37"), crds)


def _assert(tally: Tally) -> None:
    assert not tally.disagreements, tally.disagreements[0]
    assert not tally.bad_manifests, tally.bad_manifests[0]
    assert not tally.unclear_errors, tally.unclear_errors[0]


@pytest.mark.parametrize("helm_name", ["helm3", "helm4"])
def test_generated_documents(helm_name: str, checker: ObjectChecker) -> None:
    tally = Tally()
    helm: Path = helm_path(helm_name)

    @BUDGET
    @given(documents())
    def run(document: dict[str, Any]) -> None:
        check_document(dump(document), helm, checker, tally)

    run()
    _assert(tally)
    assert tally.documents >= 20
    assert tally.accepted, "the budget must see both verdicts to prove anything"
    assert tally.rejected, "the budget must see both verdicts to prove anything"


@pytest.mark.parametrize("helm_name", ["helm3", "helm4"])
def test_mutated_documents(helm_name: str, checker: ObjectChecker) -> None:
    tally = Tally()
    helm: Path = helm_path(helm_name)
    kinds: set[str] = set()

    @BUDGET
    @given(documents(), st.randoms(use_true_random=False))
    def run(document: dict[str, Any], rng: random.Random) -> None:
        kind, broken = mutate(document, rng)
        kinds.add(kind)
        check_document(dump(broken), helm, checker, tally)

    run()
    _assert(tally)
    assert tally.rejected >= tally.documents // 2, "most mutations must break the document"
    assert len(kinds) >= 3
