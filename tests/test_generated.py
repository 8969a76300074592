"""Generated files: one source (the model), no drift, and values.yaml equal to the model's defaults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import CHART
from workload import generate
from workload.engines import engine, engine_names
from workload.generate.values_yaml import model_defaults
from workload.models.ml_inference_load import MlInferenceLoad


def test_generated_files_are_up_to_date() -> None:
    assert generate.stale_files() == [], "run `workload generate` and commit the result"


def test_values_yaml_defaults_equal_the_model_defaults() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert values == model_defaults(MlInferenceLoad)


def test_generated_files_say_so() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    assert "GENERATED" in schema["$comment"]
    assert (CHART / "values.yaml").read_text(encoding="utf-8").startswith("# GENERATED")
    assert "BEGIN GENERATED VALUES TABLE" in (CHART / "README.md").read_text(encoding="utf-8")


def test_schema_is_strict_at_every_level() -> None:
    """Every object in values.schema.json rejects unknown keys (so `gpus: 2` is an error anywhere)."""
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))

    def objects(node: object, path: str) -> list[tuple[str, dict[str, object]]]:
        found: list[tuple[str, dict[str, object]]] = []
        if isinstance(node, dict):
            if node.get("type") in ("object", ["object", "null"]):
                found.append((path, node))
            for key, value in node.items():
                found += objects(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                found += objects(value, f"{path}/{i}")
        return found

    everything = objects(schema, "")
    assert len(everything) > 10
    for path, node in everything:
        assert "additionalProperties" in node, f"{path} accepts unknown keys"
    assert "$ref" not in json.dumps(schema), "refs resolve differently across Helm's two validators"


def test_readme_table_lists_every_leaf_field() -> None:
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    for key in ("`gpu.count`", "`inference.maxInputLength`", "`vault.hfTokenPath`", "`ingress.gateway.name`",
                "`environmentVariables`", "`model.id`", "`healthCheck.startupTimeoutSeconds`"):  # fmt: skip
        assert key in readme


@pytest.fixture
def chart_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the charts folder that the generator is pointed at, to be spoiled safely."""
    charts = tmp_path / "charts"
    shutil.copytree(CHART.parent, charts)
    monkeypatch.setenv("WORKLOAD_CHARTS_DIR", str(charts))
    return charts / CHART.name


@pytest.mark.parametrize("name", ["values.schema.json", "values.yaml", "README.md"])
def test_drift_check_catches_a_hand_edit(chart_copy: Path, name: str) -> None:
    target = chart_copy / name
    original = target.read_text(encoding="utf-8")
    marker = "| `gpu.count` |" if name == "README.md" else "8"  # inside the generated part
    target.write_text(original.replace(marker, marker + "0", 1), encoding="utf-8")
    assert generate.stale_files() == [target]
    assert generate.write_all() == [target]
    assert target.read_text(encoding="utf-8") == original
    assert generate.stale_files() == []


def test_readme_outside_the_markers_is_left_alone(chart_copy: Path) -> None:
    readme = chart_copy / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nHand-written footer.\n", encoding="utf-8")
    assert generate.stale_files() == []


@pytest.mark.parametrize("name", engine_names())
def test_the_readmes_engine_table_names_each_engines_image(name: str) -> None:
    """The README's table of what differs is written by hand: it must follow the engines' pinned images."""
    image = engine(name).image
    readme = (CHART.parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"`{image.repository}:{image.tag}`" in readme, f"README.md's engine table: {name}'s image"
