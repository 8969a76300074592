"""The chart renders what it rendered before the engine seam, for every example and every values document the
tests render (tests/golden/, from tests/golden_renders.py), on Helm 3 and Helm 4: object for object, value
for value."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import HELMS, helm_path
from golden_renders import cases, example_documents, helm_template, normalised_objects

CASES = cases()


def _where(expected: Any, actual: Any, path: str = "") -> str:
    """The first path at which two objects differ, for a message that says where."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if expected.get(key, "<absent>") != actual.get(key, "<absent>"):
                return _where(expected.get(key, "<absent>"), actual.get(key, "<absent>"), f"{path}.{key}")
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            if e != a:
                return _where(e, a, f"{path}[{i}]")
    return f"{path}: {expected!r} != {actual!r}"


def test_every_example_and_fixture_has_a_golden_render() -> None:
    assert set(example_documents()) <= set(CASES)


@pytest.mark.parametrize("helm_name", HELMS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_render_is_unchanged(name: str, helm_name: str) -> None:
    """The recorded values, and for an example or fixture also the file as it is now (which may spell out a
    default, such as inference.engine: tgi), render the recorded objects."""
    case = CASES[name]
    texts = [case["values"]]
    if name in example_documents():
        texts.append(example_documents()[name].read_text(encoding="utf-8"))
    for text in texts:
        _compare(case, normalised_objects(helm_template(helm_path(helm_name), text, case["args"])))


def _compare(case: dict[str, Any], actual: list[dict[str, Any]]) -> None:
    expected = case["objects"]
    kinds = [(o["kind"], o["metadata"]["name"]) for o in actual]
    assert kinds == [(o["kind"], o["metadata"]["name"]) for o in expected]
    for want, got in zip(expected, actual, strict=True):
        assert want == got, f"{got['kind']} {got['metadata']['name']}{_where(want, got)}"
