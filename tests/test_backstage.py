"""The Backstage catalog entry: valid to Backstage's own validators, a form generated from the model,
and a skeleton that the scaffolder's template engine turns into a values file `workload validate` accepts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import EXAMPLES, FIXTURES, Render, by_kind, is_test_hook, missing
from workload.generate.backstage import form_fields
from workload.generate.schema import values_schema
from workload.models.ml_inference_load import MlInferenceLoad
from workload.paths import REPO_ROOT
from workload.validation import validate_document
from workload.yamlio import load_values_file

CATALOG = REPO_ROOT / ".cat" / "backstage" / "ml-inference-load.yaml"
SKELETON = REPO_ROOT / ".cat" / "backstage" / "skeleton"
SCRIPTS = Path(__file__).parent / "backstage"


@pytest.fixture(scope="module")
def node_modules() -> Path:
    path = REPO_ROOT / "node_modules" / "@backstage" / "plugin-scaffolder-common"
    if not path.exists():
        missing(f"{path} (npm ci)")
    return path


def node(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(SCRIPTS / script), *args], capture_output=True, text=True, check=False, cwd=REPO_ROOT
    )


def validate_entities(*files: Path) -> list[dict[str, Any]]:
    result = node("validate-entities.mjs", *map(str, files))
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def template() -> dict[str, Any]:
    return next(e for e in yaml.safe_load_all(CATALOG.read_text(encoding="utf-8")) if e and e["kind"] == "Template")


def form_defaults() -> dict[str, Any]:
    """What the form holds before anyone types: every parameter's default."""
    defaults: dict[str, Any] = {}
    for page in template()["spec"]["parameters"]:
        for name, prop in page["properties"].items():
            if "default" in prop:
                defaults[name] = prop["default"]
    return defaults


def render_skeleton(values: dict[str, Any], out: Path) -> Path:
    result = node("render-skeleton.mjs", str(SKELETON), str(out), json.dumps(values))
    assert result.returncode == 0, result.stderr
    return out


def test_catalog_entities_pass_backstage_validation(node_modules: Path) -> None:
    results = validate_entities(CATALOG)
    assert [(r["kind"], r["ok"]) for r in results] == [("Component", True), ("Template", True)], results


def test_backstage_validation_can_fail(node_modules: Path, tmp_path: Path) -> None:
    """The same validators refuse a Template whose steps are not a list and a Component without an owner."""
    broken = [dict(e) for e in yaml.safe_load_all(CATALOG.read_text(encoding="utf-8")) if e]
    broken[0]["spec"] = {k: v for k, v in broken[0]["spec"].items() if k != "owner"}
    broken[1]["spec"] = {**broken[1]["spec"], "steps": "fetch"}
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump_all(broken), encoding="utf-8")
    assert [r["ok"] for r in validate_entities(path)] == [False, False]


def test_form_pages_are_json_schemas() -> None:
    for page in template()["spec"]["parameters"]:
        jsonschema.Draft7Validator.check_schema(page)


def test_form_fields_keep_the_values_rules() -> None:
    """Each form field refuses what values.schema.json refuses at the path it fills."""
    schema = values_schema(MlInferenceLoad, "x")
    pages = template()["spec"]["parameters"]
    properties = {name: prop for page in pages for name, prop in page["properties"].items()}
    for page in pages:  # a field shown conditionally sits under dependencies
        for on, dependency in page.get("dependencies", {}).items():
            for option in dependency.get("oneOf", []):  # the union of the options' choices is the field's
                for key, prop in option["properties"].items():
                    if key != on:
                        seen = properties.get(key, {}).get("enum", [])
                        properties[key] = {**prop, **({"enum": [*seen, *prop["enum"]]} if "enum" in prop else {})}
    for field in form_fields():
        node = schema
        for part in field.path.split("."):
            node = node["properties"][part]
        for rule in ("pattern", "maxLength", "minimum", "maximum"):
            assert properties[field.name].get(rule) == node.get(rule), (field.name, rule)
        if "enum" in node:
            assert set(properties[field.name]["enum"]) - {""} == set(node["enum"]) - {None}


def test_every_parameter_reaches_the_skeleton() -> None:
    fetch = next(s for s in template()["spec"]["steps"] if s["action"] == "fetch:template")
    skeleton_text = "".join(p.read_text(encoding="utf-8") for p in SKELETON.iterdir())
    for name in fetch["input"]["values"]:
        assert f"values.{name}" in skeleton_text, name


def test_skeleton_with_form_defaults_and_a_model_id_validates(node_modules: Path, tmp_path: Path) -> None:
    submission = {**form_defaults(), "modelId": "Qwen/Qwen2.5-0.5B-Instruct", "repoUrl": "github.com?owner=o&repo=r"}
    for page in template()["spec"]["parameters"]:
        jsonschema.Draft7Validator(page).validate(submission)
    out = render_skeleton(submission, tmp_path / "out")
    document = load_values_file(out / "values.yaml")
    assert validate_document(document)[1] == []
    assert document["model"]["id"] == "Qwen/Qwen2.5-0.5B-Instruct"
    assert [r["ok"] for r in validate_entities(out / "catalog-info.yaml")] == [True]


def test_skeleton_with_every_form_option_validates(node_modules: Path, tmp_path: Path) -> None:
    submission = {
        **form_defaults(), "modelId": "TheBloke/Llama-2-13B-AWQ", "quantization": "awq", "gpuCount": 2,
        "ingressEnabled": True, "host": "llama.llm.example.com", "hfTokenPath": "shared/huggingface/token",
        "apiKeyVaultPath": "teams/ml/llama-key", "environment": "prod", "owner": "group:default/ml-team",
    }  # fmt: skip
    out = render_skeleton(submission, tmp_path / "out")
    document = load_values_file(out / "values.yaml")
    assert validate_document(document)[1] == []
    assert document["ingress"] == {"enabled": True, "host": "llama.llm.example.com"}
    assert document["apiKey"] == {"vaultPath": "teams/ml/llama-key"}
    entity = yaml.safe_load((out / "catalog-info.yaml").read_text(encoding="utf-8"))
    assert entity["spec"]["lifecycle"] == "production"
    assert entity["spec"]["system"] == "ml-team"
    assert [r["ok"] for r in validate_entities(out / "catalog-info.yaml")] == [True]


def test_a_value_cannot_inject_yaml_into_the_skeleton(node_modules: Path, tmp_path: Path) -> None:
    """Values are written with `dump` (JSON strings), so a newline cannot add a key."""
    submission = {**form_defaults(), "modelId": "a/b\nhfToken:\n  existingSecret: stolen"}
    document = load_values_file(render_skeleton(submission, tmp_path / "out") / "values.yaml")
    assert "hfToken" not in document
    assert validate_document(document)[1] != []  # and the model id itself is refused


@pytest.mark.parametrize("values", [EXAMPLES / "minimal.yaml", FIXTURES / "values" / "everything.yaml"],
                         ids=["minimal", "everything"])  # fmt: skip
def test_every_object_carries_the_backstage_label(render: Render, values: Path) -> None:
    """The helm-test hook's ConfigMap and Pod too: the plugin shows them while a test runs."""
    docs = render(values.read_text(encoding="utf-8"))
    name = yaml.safe_load(values.read_text(encoding="utf-8"))["serviceName"]
    assert any(is_test_hook(doc) for doc in docs)
    for doc in docs:
        assert doc["metadata"]["labels"]["backstage.io/kubernetes-id"] == name, doc["kind"]
    pod_labels = by_kind(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["backstage.io/kubernetes-id"] == name
