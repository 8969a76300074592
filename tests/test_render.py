"""Rendering the chart with the real helm 3 and helm 4: content, agreement, and schema validity."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import (
    CHART,
    EXAMPLES,
    FIXTURES,
    HELMS,
    KUBE_VERSIONS,
    Render,
    by_kind,
    container,
    env_of,
    helm_path,
    helm_template,
    is_test_hook,
    render_docs,
)
from workload.chart_facts import ENGINE_ANNOTATION
from workload.engines import DEFAULT_ENGINE, engine, engine_names
from workload.generate.schema import values_schema
from workload.kubeschema import CrdSchemas, builtin_errors
from workload.models.ml_inference_load import MlInferenceLoad

DOCUMENTS = {
    "minimal": EXAMPLES / "minimal.yaml",
    "bundled-example": EXAMPLES / "llama-3.2-1b.yaml",
    "design-section-3": EXAMPLES / "design-section-3.yaml",
    "everything": FIXTURES / "values" / "everything.yaml",
    "everything-else": FIXTURES / "values" / "everything-else.yaml",
}
CRD_FILES = {
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): [
        "gateway-api-v1.2.1-httproutes.yaml",
        "gateway-api-v1.6.1-httproutes.yaml",
    ],
    ("external-secrets.io/v1", "ExternalSecret"): ["eso-v0.16.2-externalsecrets.yaml"],
    ("external-secrets.io/v1beta1", "ExternalSecret"): ["eso-v0.16.2-externalsecrets.yaml"],
    ("monitoring.coreos.com/v1", "ServiceMonitor"): ["prometheus-operator-v0.93.0-servicemonitors.yaml"],
    ("keda.sh/v1alpha1", "ScaledObject"): ["keda-v2.21.0-scaledobjects.yaml"],
}
CORE_KINDS = {"Deployment", "Service", "PersistentVolumeClaim", "NetworkPolicy", "ConfigMap", "Pod",
              "PodDisruptionBudget", "HorizontalPodAutoscaler"}  # fmt: skip
ESO_V1BETA1_ONLY = ("--api-versions", "external-secrets.io/v1beta1/ExternalSecret")


def text(name: str) -> str:
    return DOCUMENTS[name].read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_helm3_and_helm4_render_identical_manifests(name: str) -> None:
    outputs = {h: helm_template(helm_path(h), text(name)) for h in HELMS}
    assert outputs["helm3"] == outputs["helm4"]


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_core_objects_pass_strict_kubernetes_schemas(render: Render, name: str, kube_version: str) -> None:
    docs = render(text(name), "--kube-version", kube_version)
    core = [d for d in docs if (d["apiVersion"], d["kind"]) not in CRD_FILES]
    assert {"Deployment", "Service"} <= {d["kind"] for d in core} <= CORE_KINDS
    for doc in core:
        assert builtin_errors(doc, kube_version) == [], doc["kind"]


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
@pytest.mark.parametrize("extra", [(), ESO_V1BETA1_ONLY], ids=["eso-v1", "eso-v1beta1-cluster"])
def test_custom_resources_pass_their_real_crds(
    render: Render, crds: CrdSchemas, name: str, extra: tuple[str, ...]
) -> None:
    docs = render(text(name), *extra)
    custom = [d for d in docs if (d["apiVersion"], d["kind"]) in CRD_FILES]
    for doc in custom:
        expected = CRD_FILES[(doc["apiVersion"], doc["kind"])]
        assert crds.sources(doc["apiVersion"], doc["kind"]) != [], "CRD folder lacks this kind"
        for source in expected:
            assert crds.errors(doc, source) == [], f"{doc['kind']} against {source}"


def test_crd_check_rejects_what_the_api_server_would(render: Render, crds: CrdSchemas) -> None:
    """The CRD validators are strict: an unknown field and a malformed timeout are both caught."""
    route = by_kind(render(text("bundled-example")), "HTTPRoute")
    route["spec"]["rules"][0]["timeouts"]["request"] = "10 minutes"
    route["spec"]["retries"] = 3
    errors = crds.errors(route, "gateway-api-v1.6.1-httproutes.yaml")
    assert any("timeouts.request" in e for e in errors)
    assert any("retries" in e for e in errors)


def test_strict_kubernetes_check_rejects_unknown_fields(render: Render) -> None:
    deployment = by_kind(render(text("minimal")), "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["gpus"] = 1
    assert builtin_errors(deployment, "1.29") != []


def test_minimal_document_renders_only_core_objects(render: Render) -> None:
    docs = render(text("minimal"))
    assert sorted(d["kind"] for d in docs if not is_test_hook(d)) == ["Deployment", "Service"]
    assert "HF_TOKEN" not in env_of(docs), "a public model needs no token wiring"


def test_the_memory_fraction_is_each_engines_own_setting(render: Render) -> None:
    """inference.memoryFraction: TGI's CUDA_MEMORY_FRACTION (launcher/src/main.rs, env, default 1.0); vLLM's and
    SGLang's flags are checked by their own parsers (tests/test_engine_parsers.py). Unset, nothing is rendered."""
    assert "CUDA_MEMORY_FRACTION" not in env_of(render(text("minimal")))
    env = env_of(render(text("minimal") + "inference:\n  memoryFraction: 0.9\n"))
    assert env["CUDA_MEMORY_FRACTION"] == "0.9"
    for example, flag in (("vllm", "--gpu-memory-utilization"), ("sglang", "--mem-fraction-static")):
        document = yaml.safe_load((EXAMPLES / f"{example}.yaml").read_text(encoding="utf-8"))
        assert flag not in container(render(yaml.safe_dump(document)))["args"]
        document["inference"]["memoryFraction"] = 0.85
        args = container(render(yaml.safe_dump(document)))["args"]
        assert args[args.index(flag) + 1] == "0.85"


def test_tgi_environment_follows_decisions(render: Render) -> None:
    env = env_of(render(text("design-section-3")))
    assert env["MODEL_ID"] == "meta-llama/Llama-3.2-1B"
    assert env["REVISION"] == "main"
    assert env["MAX_INPUT_TOKENS"] == "2048"
    assert env["MAX_TOTAL_TOKENS"] == "4096"
    assert env["PORT"] == "8080", "the image's PORT=80 must be overridden"
    assert env["HOSTNAME"] == "0.0.0.0"
    assert env["NUM_SHARD"] == "1"
    assert env["HF_TOKEN"] == {"secretKeyRef": {"name": "my-llm-service-hf-token", "key": "token"}}
    assert "MAX_INPUT_LENGTH" not in env
    assert "HUGGING_FACE_HUB_TOKEN" not in env
    names = [e["name"] for e in container(render(text("design-section-3")))["env"]]
    assert names[:7] == [
        "MODEL_ID",
        "REVISION",
        "MAX_INPUT_TOKENS",
        "MAX_TOTAL_TOKENS",
        "PORT",
        "HOSTNAME",
        "NUM_SHARD",
    ]


def test_probes_use_the_named_port_and_a_startup_budget(render: Render) -> None:
    docs = render(text("design-section-3"))
    c = container(docs)
    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    startup, readiness, liveness = c["startupProbe"], c["readinessProbe"], c["livenessProbe"]
    for probe in (startup, readiness, liveness):
        assert probe["httpGet"]["port"] == "http"
    assert startup["httpGet"]["path"] == readiness["httpGet"]["path"] == "/health"
    assert liveness["httpGet"]["path"] == "/info", "liveness must not wait on the GPU"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1800
    assert startup["periodSeconds"] + 3 <= 5, "Ready within 5 s of TGI listening with the default period"
    assert "initialDelaySeconds" not in readiness
    assert "initialDelaySeconds" not in liveness


def test_startup_budget_is_rounded_up_to_whole_periods(render: Render) -> None:
    values = text("minimal") + "healthCheck:\n  startupTimeoutSeconds: 61\n"
    startup = container(render(values))["startupProbe"]
    assert startup["failureThreshold"] == 31


def test_deployment_scheduling_and_volumes(render: Render) -> None:
    docs = render(text("minimal"))
    deployment = by_kind(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert deployment["spec"]["replicas"] == 1
    assert pod["runtimeClassName"] == "nvidia"
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["terminationGracePeriodSeconds"] > 90
    c = container(docs)
    assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["shm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "1Gi"}
    assert volumes["model-cache"]["emptyDir"] == {}
    assert volumes["tmp"]["emptyDir"] == {}
    assert {m["mountPath"] for m in c["volumeMounts"]} == {"/dev/shm", "/data", "/tmp"}


def test_labels_and_selector(render: Render) -> None:
    docs = render(text("minimal"))
    deployment, service = by_kind(docs, "Deployment"), by_kind(docs, "Service")
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector["app"] == "qwen-small"
    assert service["spec"]["selector"] == selector
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= pod_labels.items()
    for doc in (d for d in docs if not is_test_hook(d)):
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "ml-inference-load"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/part-of"] == "ml-team"
        assert doc["metadata"]["namespace"] == "test-ns", "unset namespace means the release namespace"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP", "appProtocol": "http"}
    ]


def test_httproute_attaches_to_the_istio_gateway_with_a_timeout(render: Render) -> None:
    route = by_kind(render(text("bundled-example")), "HTTPRoute")
    assert route["metadata"]["name"] == "llama-3-2-1b-http-route"
    assert route["spec"]["parentRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gateway", "namespace": "istio-ingress"}
    ]
    assert route["spec"]["hostnames"] == ["llama-3-2-1b.llm.example.com"]
    rule = route["spec"]["rules"][0]
    assert rule["backendRefs"] == [{"name": "llama-3-2-1b", "port": 80}]
    assert rule["timeouts"] == {"request": "10m"}


def _route_paths(docs: list[dict[str, Any]]) -> list[str]:
    return [m["path"]["value"] for m in by_kind(docs, "HTTPRoute")["spec"]["rules"][0]["matches"]]


def test_the_route_exposes_the_engines_routes_unless_ingress_paths_says_otherwise(render: Render) -> None:
    example = yaml.safe_load(text("bundled-example"))
    assert "paths" not in example["ingress"]
    assert _route_paths(render(text("bundled-example"))) == list(engine(DEFAULT_ENGINE).routes)
    example["ingress"]["paths"] = ["/v1/chat/completions"]
    assert _route_paths(render(yaml.safe_dump(example))) == ["/v1/chat/completions"]


@pytest.mark.parametrize("name", engine_names())
def test_an_engines_routes_pass_the_rules_ingress_paths_must(name: str) -> None:
    """The rules skip an unset ingress.paths, so the engine's own routes must be what the rules would allow."""
    routes = engine(name).routes
    assert routes
    assert "/metrics" not in routes
    assert len(set(routes)) == len(routes)
    assert all(r.startswith("/") for r in routes)


def test_external_secret_is_v1_with_a_normalised_vault_key(render: Render) -> None:
    secret = by_kind(render(text("design-section-3")), "ExternalSecret")
    assert secret["apiVersion"] == "external-secrets.io/v1"
    assert secret["spec"]["secretStoreRef"] == {"name": "vault-backend", "kind": "ClusterSecretStore"}
    assert secret["spec"]["target"]["name"] == "my-llm-service-hf-token"
    assert secret["spec"]["data"] == [
        {"secretKey": "token", "remoteRef": {"key": "secret/shared/huggingface/token", "property": "value"}}
    ]


@pytest.mark.parametrize(
    ("cluster_apis", "expected"),
    [
        ((), "external-secrets.io/v1"),
        (("external-secrets.io/v1beta1/ExternalSecret",), "external-secrets.io/v1beta1"),
        (
            ("external-secrets.io/v1beta1/ExternalSecret", "external-secrets.io/v1/ExternalSecret"),
            "external-secrets.io/v1",
        ),
    ],
    ids=["offline", "old-eso", "both"],
)
def test_external_secret_falls_back_to_v1beta1_only_without_v1(
    render: Render, cluster_apis: tuple[str, ...], expected: str
) -> None:
    extra = [arg for api in cluster_apis for arg in ("--api-versions", api)]
    assert by_kind(render(text("bundled-example"), *extra), "ExternalSecret")["apiVersion"] == expected


def test_existing_secret_replaces_vault(render: Render) -> None:
    values = text("minimal") + "hfToken:\n  existingSecret: team-hf\n  existingSecretKey: hf\n"
    docs = render(values)
    assert env_of(docs)["HF_TOKEN"] == {"secretKeyRef": {"name": "team-hf", "key": "hf"}}
    assert "ExternalSecret" not in {d["kind"] for d in docs}


def test_everything_document_reaches_the_manifests(render: Render) -> None:
    docs = render(text("everything"))
    pod = by_kind(docs, "Deployment")["spec"]["template"]["spec"]
    c = container(docs)
    env = env_of(docs)
    assert c["image"].endswith("text-generation-inference@sha256:" + "0123456789abcdef" * 4)
    assert c["imagePullPolicy"] == "Always"
    assert pod["imagePullSecrets"] == [{"name": "mirror-pull"}]
    assert pod["serviceAccountName"] == "tgi-runner"
    assert pod["runtimeClassName"] == "nvidia-cdi"
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}, "null removes a default key"
    assert pod["tolerations"][1] == {"key": "dedicated", "operator": "Equal", "value": "llm", "effect": "NoExecute"}
    assert pod["terminationGracePeriodSeconds"] == 300
    assert c["resources"] == {
        "requests": {"cpu": "3500m", "memory": "30Gi"},
        "limits": {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": 2},
    }
    assert env["NUM_SHARD"] == "2"
    assert c["args"] == ["--max-waiting-tokens", "20"], "extraArgs, in order, after what the engine's partial sets"
    assert "args" not in container(render(text("minimal")))
    assert env["PORT"] == "9090"
    assert env["PREFIX_CACHING"] == "1"
    assert env["WANDB_API_KEY"] == {"secretKeyRef": {"name": "wandb", "key": "api-key"}}
    assert env["EMPTY_ON_PURPOSE"] == ""
    assert "annotations" not in by_kind(docs, "Deployment")["spec"]["template"]["metadata"]
    for doc in docs:
        assert doc["metadata"]["namespace"] == "llm-serving"
    route = by_kind(docs, "HTTPRoute")
    assert route["spec"]["parentRefs"][0] == {
        "group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "shared-gateway",
        "namespace": "gateways", "sectionName": "https",
    }  # fmt: skip
    assert route["spec"]["rules"][0]["timeouts"] == {"request": "30m"}
    secrets = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "ExternalSecret"}
    assert sorted(secrets) == ["everything-api-key", "everything-hf-token"]
    for spec in secrets.values():
        assert spec["secretStoreRef"] == {"name": "vault-ml", "kind": "SecretStore"}
        assert spec["refreshInterval"] == "15m"
    assert secrets["everything-hf-token"]["data"] == [
        {"secretKey": "token", "remoteRef": {"key": "secret/teams/ml/huggingface", "property": "token"}}
    ]
    assert secrets["everything-api-key"]["data"] == [
        {"secretKey": "api-key", "remoteRef": {"key": "teams/ml/tgi-api-key", "property": "key"}}
    ]


def _leaf_paths(data: Any, prefix: str = "") -> set[str]:
    if isinstance(data, dict) and data:
        return set().union(*(_leaf_paths(v, f"{prefix}.{k}" if prefix else k) for k, v in data.items()))
    return {prefix}


def test_fixtures_set_every_field() -> None:
    """Keeps the two 'every field' fixtures honest as the contract grows."""

    def schema_leaves(node: dict[str, Any], prefix: str = "") -> set[str]:
        leaves: set[str] = set()
        for key, prop in node.get("properties", {}).items():
            path = f"{prefix}.{key}" if prefix else key
            leaves |= schema_leaves(prop, path) if "properties" in prop else {path}
        return leaves

    written: set[str] = set()
    for name in ("everything", "everything-else"):
        written |= _leaf_paths(yaml.safe_load(DOCUMENTS[name].read_text(encoding="utf-8")))
    wanted = schema_leaves(values_schema(MlInferenceLoad, "x"))
    missing = {w for w in wanted if not any(p == w or p.startswith(w + ".") for p in written)}
    assert missing == set()


def test_notes_tell_how_to_reach_and_watch_the_service(helm: Path, tmp_path: Path) -> None:
    # `helm install --dry-run` needs a cluster on Helm 3, so NOTES.txt is rendered through a copy of the
    # chart in which it is wrapped into an ordinary template.
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    notes = (chart / "templates" / "NOTES.txt").read_text(encoding="utf-8")
    (chart / "templates" / "NOTES.txt").unlink()
    (chart / "templates" / "_notes.tpl").write_text('{{- define "notes" -}}' + notes + "{{- end -}}")
    (chart / "templates" / "notes.yaml").write_text('kind: Notes\ntext: {{ include "notes" . | toJson }}\n')
    command = [str(helm), "template", "demo", str(chart), "-f", str(DOCUMENTS["bundled-example"])]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    text_ = next(d for d in yaml.safe_load_all(result.stdout) if d and d["kind"] == "Notes")["text"]
    assert "kubectl -n ml-inference rollout status deployment/llama-3-2-1b --timeout=1800s" in text_
    assert "port-forward service/llama-3-2-1b 8080:80" in text_
    assert "https://llama-3-2-1b.llm.example.com/generate" in text_
    assert "get externalsecret llama-3-2-1b-hf-token" in text_


def test_the_deployment_names_its_engine_unless_it_is_the_default(helm: Path, tmp_path: Path) -> None:
    """`workload verify` reads the engine from the annotation; the default engine's renders carry none (so they
    are unchanged). A copy of the chart whose default engine is another one shows the annotation rendered."""
    assert ENGINE_ANNOTATION not in by_kind(render_docs(helm, text("bundled-example")), "Deployment")["metadata"].get(
        "annotations", {}
    )
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    facts = chart / "templates" / "_facts.tpl"
    default = f'"defaultEngine":"{DEFAULT_ENGINE}"'
    assert default in facts.read_text(encoding="utf-8")
    facts.write_text(facts.read_text(encoding="utf-8").replace(default, '"defaultEngine":"another"'))
    command = [str(helm), "template", "demo", str(chart), "-f", str(DOCUMENTS["bundled-example"])]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    deployment = by_kind([d for d in yaml.safe_load_all(result.stdout) if d], "Deployment")
    assert deployment["metadata"]["annotations"] == {ENGINE_ANNOTATION: DEFAULT_ENGINE}


def test_rendering_is_deterministic() -> None:
    helm = helm_path("helm4")
    command = [str(helm), "template", "r", str(CHART), "-f", str(DOCUMENTS["everything"])]
    runs = {subprocess.run(command, capture_output=True, text=True, check=True).stdout for _ in range(3)}
    assert len(runs) == 1
