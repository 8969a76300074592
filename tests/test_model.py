"""The values contract in Python: defaults, every constraint, every cross-field rule."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES, HelmFailed, helm_path, helm_template
from workload.engines import DEFAULT_ENGINE, engine
from workload.helm import problems_from_helm_error
from workload.models import WORKLOAD_TYPES
from workload.models.ml_inference_load import MlInferenceLoad
from workload.models.ml_inference_load.rules import managed_env
from workload.quantities import cpu_millicores, memory_bytes
from workload.validation import validate_document
from workload.yamlio import ValuesFileError, load_values_text

MINIMAL: dict[str, Any] = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh copy of the minimal valid document for each test to change."""
    return copy.deepcopy(MINIMAL)


def paths(document: dict[str, Any]) -> list[str]:
    return [p.path for p in validate_document(document)[1]]


def with_value(document: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    *parents, leaf = dotted.split(".")
    node = document
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return document


def test_minimal_document_gets_the_documented_defaults(doc: dict[str, Any]) -> None:
    values, problems = validate_document(doc)
    assert problems == []
    assert isinstance(values, MlInferenceLoad)
    assert (values.inference.image.repository, values.inference.image.tag) == ("", "")  # the engine's own
    assert values.inference.port == 8080
    assert (values.inference.max_input_length, values.inference.max_total_tokens) == (None, 4096)  # TGI: 2048
    assert values.gpu.count == 1
    assert values.gpu.runtime_class_name == "nvidia"
    assert values.gpu.node_selector == {"nvidia.com/gpu.present": "true"}
    assert values.health_check.startup_timeout_seconds == 1800
    assert values.inference.termination_grace_period_seconds > 90
    assert values.ingress.enabled is False
    assert (values.ingress.gateway.name, values.ingress.gateway.namespace) == ("gateway", "istio-ingress")
    assert values.secret_store.name == "vault-backend"
    assert values.vault.hf_token_path == ""
    assert values.hf_token.existing_secret == ""
    assert values.basic_monitoring.enabled is True
    assert values.namespace is None


def test_the_union_is_discriminated_by_workload_type() -> None:
    assert set(WORKLOAD_TYPES) == {"ML_INFERENCE_LOAD"}
    assert paths({"workloadType": "SOMETHING_ELSE"}) == ["workloadType"]
    assert paths({"workloadType": ["ML_INFERENCE_LOAD"]}) == ["workloadType"]


def test_every_missing_required_field_is_reported_at_once() -> None:
    assert sorted(paths({"workloadType": "ML_INFERENCE_LOAD"})) == [
        "environment", "model", "serviceCatalog", "serviceName",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        # At most 53: the Helm release is named after it, and Helm caps release names at 53 characters.
        ("serviceName", ["a", "llm-1", "a" * 53], ["", "A", "1a", "a-", "a_b", "a.b", "a" * 54, "a" * 63]),
        # Namespaces are DNS-1123 labels, at the top level and for the Gateway alike.
        ("namespace", ["ml", "1team", "a" * 63], ["ML", "a.b", "-a", "a" * 64]),
        ("serviceCatalog", ["ml", "ML_team.1", "x" * 63], ["", "-ml", "ml-", "ml team", "x" * 64]),
        ("namespace", ["ml", "ml-inference", None], ["", "ML", "ml_inference", "n" * 64]),
        ("environment", ["dev", "staging", "prod"], ["qa", "Prod", "", 1]),
        ("serviceAccount", ["", "runner", "tgi.runner"], ["Runner", "a_b"]),
        ("model.id", ["gpt2", "meta-llama/Llama-3.2-1B", "a/b.c_d-e"],
         ["", "a b", "a/b/c", "/a", "a/", "-a", "a" * 97]),
        ("model.revision", ["main", "v1.0", "refs/pr/1", "a" * 40], ["", " main", "main branch", "-x"]),
        ("inference.image.repository", ["ghcr.io/huggingface/text-generation-inference", "localhost:5000/tgi", ""],
         ["Ghcr.io/x", "ghcr.io/x:1.0", " "]),
        ("inference.image.tag", ["3.3.7", "latest", "2.4.0-rocm", ""], [" ", "3.3 .7", ".hidden", "a" * 129]),
        ("inference.image.digest", ["", "sha256:" + "a" * 64], ["sha256:" + "A" * 64, "sha256:abc", "md5:" + "a" * 32]),
        ("inference.image.pullPolicy", ["Always", "IfNotPresent", "Never"], ["always", ""]),
        ("inference.maxInputLength", [1, 2048, 4095], [0, -1, 1_048_577, "2048", True, 2.5]),
        ("inference.port", [1024, 8080, 65535], [80, 1023, 65536, "8080"]),
        ("inference.shmSize", ["", "1Gi", "512Mi", "1.5Gi", "1000000"], ["1GB", "1 Gi", "-1Gi"]),
        # More than the 10 s preStop pause plus TGI's 90 s drain.
        ("inference.terminationGracePeriodSeconds", [101, 120, 3600], [100, 90, 30, 0, 7201]),
        ("gpu.count", [1, 2, 8, 4.0], [0, 9, 1.5, "1", True]),
        ("gpu.resourceName", ["nvidia.com/gpu", "amd.com/gpu"], ["", "nvidia.com/", "a b"]),
        ("gpu.runtimeClassName", ["nvidia", None], ["", "NVIDIA"]),
        ("gpu.nodeSelector", [{}, {"a": "b"}, {"nvidia.com/gpu.present": None}], [{"a": 1}, {"a b": "c"}, ["a"]]),
        ("ingress.host", ["", "llm.example.com", "*.llm.example.com", "localhost"],
         ["LLM.example.com", "llm..example.com", "llm.example.com.", "https://llm.example.com", "a b"]),
        ("ingress.requestTimeout", ["0s", "10m", "1h30m", "500ms"], ["10", "10 m", "1d", "-5s", "123456s"]),
        ("ingress.gateway.namespace", ["", "istio-ingress", "1team"], ["Istio", "a.b"]),
        ("vault.hfTokenPath", ["", "hf", "/secret/shared/hf", "//secret/a_b/c.d"],
         ["/", "a//b", "a/", "a b", "a/../b", "a/./b"]),
        ("secretStore.kind", ["ClusterSecretStore", "SecretStore"], ["Store", ""]),
        ("secretStore.refreshInterval", ["1h", "15m", "30s", "1h30m"], ["0", "1 h", "", "1d"]),
        ("resources.requests.cpu", ["1", "0.5", "250m", "1.125"], ["", "1.2345", "two", "1 cpu", "-1", 2]),
        ("resources.limits.memory", ["16Gi", "17179869184", "16G", "1.5Ti"], ["16GB", "16gi", "", 16]),
        ("healthCheck.startupTimeoutSeconds", [60, 1800, 86400], [59, 0, 86401]),
        ("healthCheck.periodSeconds", [1, 300], [0, 301]),
        ("basicMonitoring.enabled", [True, False], ["true", 1, None]),
    ],
)  # fmt: skip
def test_field_constraints(doc: dict[str, Any], field: str, good: list[Any], bad: list[Any]) -> None:
    for value in good:
        assert paths(with_value(copy.deepcopy(doc), field, value)) == [], f"{field}={value!r} should pass"
    for value in bad:
        found = paths(with_value(copy.deepcopy(doc), field, value))
        assert found, f"{field}={value!r} should fail"
        assert all(p.startswith(field.split(".", maxsplit=1)[0]) for p in found), f"{field}={value!r}: {found}"


def test_integral_floats_count_as_integers_like_helm_reads_them(doc: dict[str, Any]) -> None:
    """Helm reads every number as float64; 2.0 must mean 2 in both tools."""
    values, problems = validate_document(with_value(doc, "gpu.count", 2.0))
    assert problems == []
    assert values is not None
    assert isinstance(values, MlInferenceLoad)
    assert values.gpu.count == 2


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"inference": {"maxInputLength": 4095, "maxTotalTokens": 4096}}, []),
        ({"inference": {"maxInputLength": 4096, "maxTotalTokens": 4096}}, ["inference.maxInputLength"]),
        ({"inference": {"maxInputLength": 5000}}, ["inference.maxInputLength"]),
        ({"ingress": {"enabled": True, "host": "a.example.com"}}, []),
        ({"ingress": {"enabled": False, "host": ""}}, []),
        ({"ingress": {"enabled": True}}, ["ingress.host"]),
        ({"vault": {"hfTokenPath": "hf"}, "hfToken": {"existingSecret": "s"}}, ["hfToken.existingSecret"]),
        ({"resources": {"requests": {"cpu": "4"}, "limits": {"cpu": "4000m"}}}, []),
        ({"resources": {"requests": {"cpu": "0.1"}, "limits": {"cpu": "100m"}}}, []),
        ({"resources": {"requests": {"cpu": "101m"}, "limits": {"cpu": "0.1"}}}, ["resources.requests.cpu"]),
        ({"resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "1024Mi"}}}, []),
        ({"resources": {"requests": {"memory": "1G"}, "limits": {"memory": "1Gi"}}}, []),
        ({"resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "1G"}}},
         ["resources.requests.memory", "inference.shmSize"]),
        ({"environmentVariables": [{"name": "MAX_BEST_OF_TOKENS", "value": "1"}]}, []),
        ({"environmentVariables": [{"name": "A"}, {"name": "B", "value": "1"}, {"name": "A"}]},
         ["environmentVariables[2].name"]),
        ({"environmentVariables": [{"name": "GITHUB_TOKEN", "value": "x"}]}, ["environmentVariables[0].value"]),
        ({"environmentVariables": [{"name": "GITHUB_TOKEN", "secretKeyRef": {"name": "gh", "key": "t"}}]}, []),
        ({"inference": {"maxInputLength": 9000}, "ingress": {"enabled": True}},
         ["inference.maxInputLength", "ingress.host"]),
    ],
)  # fmt: skip
def test_cross_field_rules(doc: dict[str, Any], changes: dict[str, Any], expected: list[str]) -> None:
    assert paths({**doc, **changes}) == expected


MANAGED_ENV = managed_env(engine(DEFAULT_ENGINE))


@pytest.mark.parametrize("name", sorted(MANAGED_ENV))
def test_every_managed_variable_is_refused_by_model_and_chart(doc: dict[str, Any], name: str) -> None:
    doc["environmentVariables"] = [{"name": name, "value": "x"}]
    problems = validate_document(doc)[1]
    assert [p.path for p in problems] == ["environmentVariables[0].name"]
    assert MANAGED_ENV[name] in problems[0].message
    with pytest.raises(HelmFailed) as failure:
        helm_template(helm_path("helm4"), yaml.safe_dump(doc))
    assert problems_from_helm_error(failure.value.stderr) == problems[:1]


@pytest.mark.parametrize(
    ("request_", "limit"),
    [("1", "1000m"), ("0.5", "500m"), ("1.001", "1001m"), ("1.001", "1000m"), ("0100m", "100m"), ("0.999", "1")],
)
def test_cpu_comparison_agrees_with_the_template(doc: dict[str, Any], request_: str, limit: str) -> None:
    doc["resources"] = {"requests": {"cpu": request_}, "limits": {"cpu": limit}}
    accepted_by_model = validate_document(doc)[1] == []
    try:
        helm_template(helm_path("helm4"), yaml.safe_dump(doc))
        accepted_by_helm = True
    except HelmFailed:
        accepted_by_helm = False
    assert accepted_by_model == accepted_by_helm
    assert accepted_by_model == (cpu_millicores(request_) <= cpu_millicores(limit))


def test_quantities() -> None:
    assert cpu_millicores("2") == 2000
    assert cpu_millicores("0.5") == 500
    assert cpu_millicores("250m") == 250
    assert memory_bytes("8Gi") == 8 * 2**30
    assert memory_bytes("1.5G") == 1_500_000_000
    assert memory_bytes("512") == 512


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: y", True), ("a: N", False), ("a: on", True), ("a: 'y'", "y"),
        ("a: 1e3", 1000.0), ("a: 0x10", 16), ("a: 2024-01-01", "2024-01-01"), ("a: 1:20", "1:20"),
        ("a: .inf", float("inf")), ("a: 010", 8), ("a: 1_000", 1000),
    ],
)  # fmt: skip
def test_yaml_scalars_are_read_as_helm_reads_them(text: str, expected: Any) -> None:
    assert load_values_text(text)["a"] == expected


def test_mapping_keys_become_strings_as_in_helm() -> None:
    """sigs.k8s.io/yaml turns keys into JSON strings: `y:` is "true", `1e3:` is "1000" (found by parity runs)."""
    assert load_values_text("a: {y: 1, 2: 2, 1e3: 3, 1234567.0: 4, ~: 5}")["a"] == {
        "true": 1, "2": 2, "1000": 3, "1.234567e+06": 4, "null": 5,
    }  # fmt: skip


@pytest.mark.parametrize("text", ["tab\tand\nnewline", "ünïcødé ✓ 😀", "{{ .Release.Name }}", "x" * 32768])
def test_free_text_accepts_what_yaml_can_carry(doc: dict[str, Any], text: str) -> None:
    doc["environmentVariables"] = [{"name": "A", "value": text}]
    assert paths(doc) == []


@pytest.mark.parametrize("text", ["bell\x07", "c1\x82control", "nel\x85", "del\x7f", "nonchar\ufffe", "x" * 32769])
def test_free_text_refuses_what_a_manifest_cannot_carry(doc: dict[str, Any], text: str) -> None:
    """Found by the parity run: helm fails on its own output when a value holds C1 control characters."""
    doc["environmentVariables"] = [{"name": "A", "value": text}]
    assert paths(doc) == ["environmentVariables[0].value"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("", "empty"), ("- a", "a list"), ("abc", "a string"), ("a: [", "not valid YAML at line"), ("{a: 1", "YAML")],
)
def test_unreadable_documents_give_one_line(text: str, fragment: str) -> None:
    with pytest.raises(ValuesFileError) as error:
        load_values_text(text)
    assert fragment in str(error.value)
    assert "\n" not in str(error.value)
