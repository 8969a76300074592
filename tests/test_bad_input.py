"""The bad-input table: every row is rejected by `workload validate` and by `helm template` (Helm 3 and
Helm 4), both name the same field, and for cross-field rules the messages are word for word the same."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES, HelmFailed, helm_template
from workload.helm import problems_from_helm_error
from workload.problems import Problem
from workload.validation import validate_document
from workload.yamlio import ValuesFileError, load_values_text

BASE: dict[str, Any] = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text(encoding="utf-8"))
DELETE = object()


def changed(changes: dict[str, Any]) -> str:
    """The minimal example with dotted-path changes applied (DELETE removes a key), as YAML text.
    A change replaces the whole value at its path; Helm merges it with the chart's defaults."""
    doc = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
        if value is DELETE:
            del node[leaf]
        else:
            node[leaf] = value
    return yaml.safe_dump(doc, sort_keys=False)


def env(*items: dict[str, Any]) -> dict[str, Any]:
    return {"environmentVariables": list(items)}


# (id, values text, the field path the error must name, is it a cross-field rule)
ROWS: list[tuple[str, str, str, bool]] = [
    ("unknown-top-level-key", changed({"gpus": 2}), "gpus", False),
    ("unknown-nested-key", changed({"gpu.gpus": 2}), "gpu.gpus", False),
    ("missing-workload-type", changed({"workloadType": DELETE}), "workloadType", False),
    ("wrong-workload-type", changed({"workloadType": "BASIC_CONTAINER_LOAD"}), "workloadType", False),
    ("missing-service-name", changed({"serviceName": DELETE}), "serviceName", False),
    ("service-name-uppercase", changed({"serviceName": "My_Service"}), "serviceName", False),
    ("service-name-too-long", changed({"serviceName": "a" * 64}), "serviceName", False),
    ("service-name-longer-than-a-helm-release", changed({"serviceName": "a" * 54}), "serviceName", False),
    ("custom-label-the-chart-sets",
     changed({"monitoring": {"serviceMonitor": {"enabled": True, "labels": {"app": "other"}}}}),
     "monitoring.serviceMonitor.labels", True),
    ("dashboard-label-the-chart-sets",
     changed({"monitoring": {"grafanaDashboard": {"labels": {"helm.sh/chart": "x", "app.kubernetes.io/name": "o"}}}}),
     "monitoring.grafanaDashboard.labels", True),
    ("service-name-starts-with-digit", changed({"serviceName": "1llm"}), "serviceName", False),
    ("service-catalog-bad-label", changed({"serviceCatalog": "-ml team-"}), "serviceCatalog", False),
    ("namespace-not-dns", changed({"namespace": "ML Inference"}), "namespace", False),
    ("environment-not-in-enum", changed({"environment": "qa"}), "environment", False),
    ("missing-model-id", changed({"model.id": DELETE}), "model.id", False),
    ("model-id-malformed", changed({"model.id": "meta llama/Llama 3"}), "model.id", False),
    ("model-revision-empty", changed({"model.revision": ""}), "model.revision", False),
    ("model-not-a-mapping", changed({"model": "Qwen/Qwen2.5-0.5B-Instruct"}), "model", False),
    ("gpu-null", changed({"gpu": None}), "gpu", False),
    ("gpu-count-zero", changed({"gpu.count": 0}), "gpu.count", False),
    ("gpu-count-string", changed({"gpu.count": "2"}), "gpu.count", False),
    ("gpu-count-fraction", changed({"gpu.count": 1.5}), "gpu.count", False),
    ("gpu-count-too-many", changed({"gpu.count": 9}), "gpu.count", False),
    ("node-selector-number", changed({"gpu.nodeSelector": {"zone": 3}}), "gpu.nodeSelector.zone", False),
    ("toleration-operator", changed({"gpu.tolerations": [{"key": "k", "operator": "Maybe"}]}),
     "gpu.tolerations[0].operator", False),
    ("port-privileged", changed({"inference.port": 80}), "inference.port", False),
    ("port-out-of-range", changed({"inference.port": 70000}), "inference.port", False),
    ("max-input-zero", changed({"inference.maxInputLength": 0}), "inference.maxInputLength", False),
    ("image-tag-with-space", changed({"inference.image": {"tag": "3.3.7 latest"}}), "inference.image.tag", False),
    ("image-digest-malformed", changed({"inference.image": {"digest": "sha256:xyz"}}),
     "inference.image.digest", False),
    ("ingress-host-uppercase", changed({"ingress": {"enabled": True, "host": "LLM.Example.com"}}),
     "ingress.host", False),
    ("ingress-host-space", changed({"ingress": {"enabled": True, "host": "llm example.com"}}), "ingress.host", False),
    ("ingress-timeout-words", changed({"ingress": {"requestTimeout": "10 minutes"}}),
     "ingress.requestTimeout", False),
    ("ingress-enabled-string", changed({"ingress": {"enabled": "yes"}}), "ingress.enabled", False),
    ("cpu-word", changed({"resources": {"requests": {"cpu": "two"}}}), "resources.requests.cpu", False),
    ("memory-unquoted-number", changed({"resources": {"requests": {"memory": 8}}}),
     "resources.requests.memory", False),
    ("memory-bad-suffix", changed({"resources": {"limits": {"memory": "16GB"}}}), "resources.limits.memory", False),
    ("vault-path-only-slash", changed({"vault": {"hfTokenPath": "/"}}), "vault.hfTokenPath", False),
    ("vault-path-double-slash", changed({"vault": {"hfTokenPath": "secret//hf"}}), "vault.hfTokenPath", False),
    ("vault-path-trailing-slash", changed({"vault": {"hfTokenPath": "secret/hf/"}}), "vault.hfTokenPath", False),
    ("secret-store-kind", changed({"secretStore": {"kind": "Store"}}), "secretStore.kind", False),
    ("startup-budget-too-short", changed({"healthCheck": {"startupTimeoutSeconds": 10}}),
     "healthCheck.startupTimeoutSeconds", False),
    ("env-list-is-mapping", changed({"environmentVariables": {"A": "1"}}), "environmentVariables", False),
    ("env-name-digit", changed(env({"name": "1BAD", "value": "x"})), "environmentVariables[0].name", False),
    ("env-value-number", changed(env({"name": "A", "value": 1})), "environmentVariables[0].value", False),
    ("env-unknown-key", changed(env({"name": "A", "valu": "1"})), "environmentVariables[0].valu", False),
    # Cross-field rules: values.schema.json cannot express them; the templates fail with the same text.
    ("input-not-below-total", changed({"inference": {"maxInputLength": 4096, "maxTotalTokens": 4096}}),
     "inference.maxInputLength", True),
    ("ingress-without-host", changed({"ingress": {"enabled": True}}), "ingress.host", True),
    ("extra-arg-the-chart-sets", changed({"inference": {"extraArgs": ["--foo", "--port=9000"]}}),
     "inference.extraArgs[1]", True),
    ("extra-arg-underscored", changed({"inference": {"extraArgs": ["--max_total_tokens", "5"]}}),
     "inference.extraArgs[0]", True),
    ("extra-arg-empty", changed({"inference": {"extraArgs": [""]}}), "inference.extraArgs[0]", False),
    ("extra-arg-line-break", changed({"inference": {"extraArgs": ["--a\n--b"]}}), "inference.extraArgs[0]", False),
    ("two-token-sources", changed({"vault": {"hfTokenPath": "hf"}, "hfToken": {"existingSecret": "hf"}}),
     "hfToken.existingSecret", True),
    ("cpu-request-above-limit", changed({"resources": {"requests": {"cpu": "4500m"}}}),
     "resources.requests.cpu", True),
    ("memory-request-above-limit", changed({"resources": {"requests": {"memory": "17Gi"}}}),
     "resources.requests.memory", True),
    ("env-sets-port", changed(env({"name": "PORT", "value": "80"})), "environmentVariables[0].name", True),
    ("env-sets-hf-token", changed(env({"name": "HF_TOKEN", "value": "hf_x"})), "environmentVariables[0].name", True),
    ("env-sets-model-id", changed(env({"name": "MODEL_ID", "value": "x"})), "environmentVariables[0].name", True),
    ("env-sets-num-shard", changed(env({"name": "NUM_SHARD", "value": "2"})), "environmentVariables[0].name", True),
    ("env-legacy-max-input", changed(env({"name": "MAX_INPUT_LENGTH", "value": "1"})),
     "environmentVariables[0].name", True),
    ("env-duplicate", changed(env({"name": "A", "value": "1"}, {"name": "A", "value": "2"})),
     "environmentVariables[1].name", True),
    ("env-secret-literal", changed(env({"name": "WANDB_API_KEY", "value": "abc"})),
     "environmentVariables[0].value", True),
    ("env-value-and-ref", changed(env({"name": "A", "value": "1", "secretKeyRef": {"name": "s", "key": "k"}})),
     "environmentVariables[0]", True),
    ("grace-period-below-drain", changed({"inference.terminationGracePeriodSeconds": 30}),
     "inference.terminationGracePeriodSeconds", True),
]  # fmt: skip

# The production options (issue 3): one row per new field or rule.
ROWS += [
    ("quantization-unknown", changed({"model.quantization": "int4"}), "model.quantization", False),
    ("dtype-unknown", changed({"model.dtype": "float32"}), "model.dtype", False),
    ("trust-remote-code-string", changed({"model.trustRemoteCode": "yes"}), "model.trustRemoteCode", False),
    ("image-version-not-semver", changed({"inference": {"image": {"version": "3.3"}}}),
     "inference.image.version", False),
    ("max-concurrent-zero", changed({"inference": {"maxConcurrentRequests": 0}}),
     "inference.maxConcurrentRequests", False),
    ("cuda-graphs-string", changed({"inference": {"cudaGraphs": "1,2,4"}}), "inference.cudaGraphs", False),
    ("cuda-graphs-negative", changed({"inference": {"cudaGraphs": [1, -1]}}), "inference.cudaGraphs[1]", False),
    ("payload-limit-tiny", changed({"inference": {"payloadLimit": 10}}), "inference.payloadLimit", False),
    ("shm-size-bad", changed({"inference": {"shmSize": "1GB"}}), "inference.shmSize", False),
    ("cache-size-bad", changed({"storage": {"modelCache": {"size": "big"}}}), "storage.modelCache.size", False),
    ("cache-access-mode", changed({"storage": {"modelCache": {"accessMode": "ReadOnlyMany"}}}),
     "storage.modelCache.accessMode", False),
    ("cache-mount-relative", changed({"storage": {"modelCache": {"mountPath": "data"}}}),
     "storage.modelCache.mountPath", False),
    ("cache-unknown-key", changed({"storage": {"modelCache": {"sizeGi": 50}}}), "storage.modelCache.sizeGi", False),
    ("service-monitor-interval", changed({"monitoring": {"serviceMonitor": {"interval": "30 s"}}}),
     "monitoring.serviceMonitor.interval", False),
    ("service-monitor-label-number", changed({"monitoring": {"serviceMonitor": {"labels": {"release": 1}}}}),
     "monitoring.serviceMonitor.labels.release", False),
    ("grafana-folder-number", changed({"monitoring": {"grafanaDashboard": {"folder": 5}}}),
     "monitoring.grafanaDashboard.folder", False),
    ("network-policy-namespace", changed({"networkPolicy": {"monitoringNamespace": "Monitoring"}}),
     "networkPolicy.monitoringNamespace", False),
    ("api-key-vault-path", changed({"apiKey": {"vaultPath": "a//b"}}), "apiKey.vaultPath", False),
    ("ingress-paths-empty", changed({"ingress": {"paths": []}}), "ingress.paths", False),
    ("ingress-path-relative", changed({"ingress": {"paths": ["generate"]}}), "ingress.paths[0]", False),
    ("run-as-user-negative", changed({"podSecurityContext": {"runAsUser": -1}}), "podSecurityContext.runAsUser", False),
    ("seccomp-unknown", changed({"podSecurityContext": {"seccompProfile": "Localhost"}}),
     "podSecurityContext.seccompProfile", False),
    ("read-only-root-string", changed({"containerSecurityContext": {"readOnlyRootFilesystem": "true"}}),
     "containerSecurityContext.readOnlyRootFilesystem", False),
    ("automount-string", changed({"automountServiceAccountToken": "no"}), "automountServiceAccountToken", False),
    ("max-batch-total-string", changed({"inference": {"maxBatchTotalTokens": "lots"}}),
     "inference.maxBatchTotalTokens", False),
    ("graceful-timeout-zero", changed({"inference": {"gracefulTerminationTimeout": 0}}),
     "inference.gracefulTerminationTimeout", False),
    ("cache-enabled-string", changed({"storage": {"modelCache": {"enabled": "true"}}}),
     "storage.modelCache.enabled", False),
    ("cache-storage-class", changed({"storage": {"modelCache": {"storageClass": "Fast NFS"}}}),
     "storage.modelCache.storageClass", False),
    ("cache-existing-claim", changed({"storage": {"modelCache": {"existingClaim": "Claim_1"}}}),
     "storage.modelCache.existingClaim", False),
    ("cache-keep-number", changed({"storage": {"modelCache": {"keepOnUninstall": 1}}}),
     "storage.modelCache.keepOnUninstall", False),
    ("cache-offline-string", changed({"storage": {"modelCache": {"offline": "yes"}}}),
     "storage.modelCache.offline", False),
    ("service-monitor-enabled-string", changed({"monitoring": {"serviceMonitor": {"enabled": "on"}}}),
     "monitoring.serviceMonitor.enabled", False),
    ("grafana-labels-list", changed({"monitoring": {"grafanaDashboard": {"labels": ["grafana_dashboard"]}}}),
     "monitoring.grafanaDashboard.labels", False),
    ("network-policy-enabled-string", changed({"networkPolicy": {"enabled": "true"}}), "networkPolicy.enabled", False),
    ("network-policy-extra-namespace", changed({"networkPolicy": {"extraIngressNamespaces": ["Batch Jobs"]}}),
     "networkPolicy.extraIngressNamespaces[0]", False),
    ("network-policy-ambient-string", changed({"networkPolicy": {"istioAmbient": "yes"}}),
     "networkPolicy.istioAmbient", False),
    ("api-key-secret-name", changed({"apiKey": {"existingSecret": "API KEY"}}), "apiKey.existingSecret", False),
    ("api-key-secret-key", changed({"apiKey": {"existingSecretKey": "api key"}}), "apiKey.existingSecretKey", False),
    ("api-key-property", changed({"apiKey": {"vaultProperty": ""}}), "apiKey.vaultProperty", False),
    ("fs-group-fraction", changed({"podSecurityContext": {"fsGroup": 1.5}}), "podSecurityContext.fsGroup", False),
    ("fs-group-policy", changed({"podSecurityContext": {"fsGroupChangePolicy": "Never"}}),
     "podSecurityContext.fsGroupChangePolicy", False),
    ("run-as-non-root-string", changed({"podSecurityContext": {"runAsNonRoot": "true"}}),
     "podSecurityContext.runAsNonRoot", False),
    ("drop-capabilities-list", changed({"containerSecurityContext": {"dropAllCapabilities": ["ALL"]}}),
     "containerSecurityContext.dropAllCapabilities", False),
    ("helm-test-enabled-string", changed({"helmTest": {"enabled": "false"}}), "helmTest.enabled", False),
    ("helm-test-image-tag", changed({"helmTest": {"image": {"tag": "3.13 alpine"}}}), "helmTest.image.tag", False),
    ("helm-test-image-repository", changed({"helmTest": {"image": {"repository": "Python"}}}),
     "helmTest.image.repository", False),
    ("helm-test-cpu", changed({"helmTest": {"cpu": "lots"}}), "helmTest.cpu", False),
    ("helm-test-unknown-key", changed({"helmTest": {"timeout": 60}}), "helmTest.timeout", False),
    # Cross-field rules of the production options.
    ("prefill-below-input", changed({"inference": {"maxBatchPrefillTokens": 1000}}),
     "inference.maxBatchPrefillTokens", True),
    ("batch-total-below-request-total", changed({"inference": {"maxBatchTotalTokens": 4000}}),
     "inference.maxBatchTotalTokens", True),
    ("prefill-above-batch-total", changed({"inference": {"maxBatchPrefillTokens": 8192, "maxBatchTotalTokens": 6000}}),
     "inference.maxBatchPrefillTokens", True),
    ("dtype-with-quantization", changed({"model.dtype": "float16", "model.quantization": "awq"}), "model.dtype", True),
    ("exl2-sharded", changed({"model.quantization": "exl2", "gpu": {"count": 2}}), "model.quantization", True),
    ("compressed-tensors-on-2-4", changed({"model.quantization": "compressed-tensors",
                                           "inference": {"image": {"tag": "2.4.0"}}}), "model.quantization", True),
    ("payload-limit-on-2-4-0", changed({"inference": {"payloadLimit": 2000000, "image": {"tag": "2.4.0"}}}),
     "inference.payloadLimit", True),
    ("graceful-timeout-on-latest", changed({"inference": {"gracefulTerminationTimeout": 60,
                                                          "image": {"tag": "latest"}}}),
     "inference.gracefulTerminationTimeout", True),
    ("api-key-on-2-2", changed({"apiKey": {"existingSecret": "k"}, "inference": {"image": {"tag": "2.2.0"}}}),
     "apiKey", True),
    ("grace-below-custom-drain", changed({"inference": {"gracefulTerminationTimeout": 200,
                                                        "terminationGracePeriodSeconds": 150}}),
     "inference.terminationGracePeriodSeconds", True),
    ("paths-include-metrics", changed({"ingress": {"paths": ["/generate", "/metrics"]}}), "ingress.paths[1]", True),
    ("paths-duplicate", changed({"ingress": {"paths": ["/info", "/info"]}}), "ingress.paths[1]", True),
    ("scrape-timeout-above-interval", changed({"monitoring": {"serviceMonitor": {"interval": "10s",
                                                                                "scrapeTimeout": "1m"}}}),
     "monitoring.serviceMonitor.scrapeTimeout", True),
    ("two-api-key-sources", changed({"apiKey": {"vaultPath": "k", "existingSecret": "k"}}),
     "apiKey.existingSecret", True),
    ("shm-above-memory-limit", changed({"inference": {"shmSize": "32Gi"}}), "inference.shmSize", True),
    ("multi-gpu-shm-above-limit", changed({"gpu": {"count": 8}, "resources": {"limits": {"memory": "6Gi"},
                                                                            "requests": {"memory": "4Gi"}}}),
     "inference.shmSize", True),
    ("offline-without-cache", changed({"storage": {"modelCache": {"offline": True}}}),
     "storage.modelCache.offline", True),
    ("cache-mounted-on-tmp", changed({"storage": {"modelCache": {"mountPath": "/tmp"}}}),
     "storage.modelCache.mountPath", True),
    ("env-sets-api-key", changed(env({"name": "API_KEY", "secretKeyRef": {"name": "s", "key": "k"}})),
     "environmentVariables[0].name", True),
    ("env-sets-quantize", changed(env({"name": "QUANTIZE", "value": "awq"})), "environmentVariables[0].name", True),
    ("env-sets-hf-hub-offline", changed(env({"name": "HF_HUB_OFFLINE", "value": "1"})),
     "environmentVariables[0].name", True),
    # Stock TGI >= 3.1.1 starts only as uid 0 (TGI issue 3082; docs/reference/tgi-image.md).
    ("non-root-on-stock-3.3.7", changed({"podSecurityContext": {"runAsNonRoot": True}}),
     "podSecurityContext.runAsNonRoot", True),
    ("uid-10001-on-stock-3.3.7", changed({"podSecurityContext": {"runAsUser": 10001}}),
     "podSecurityContext.runAsUser", True),
    ("non-root-on-a-tag-that-is-not-a-version",
     changed({"inference.image": {"tag": "latest"}, "podSecurityContext": {"runAsNonRoot": True}}),
     "podSecurityContext.runAsNonRoot", True),
    ("non-root-on-3.1.1", changed({"inference.image": {"tag": "3.1.1"}, "podSecurityContext": {"runAsUser": 1000}}),
     "podSecurityContext.runAsUser", True),
    ("non-root-with-uid-0-on-2.4.0",
     changed({"inference.image": {"tag": "2.4.0"}, "podSecurityContext": {"runAsNonRoot": True, "runAsUser": 0}}),
     "podSecurityContext.runAsNonRoot", True),
]  # fmt: skip

# Scale and availability (issue 11).
MONITORED = {"monitoring": {"serviceMonitor": {"enabled": True}}}
ROWS += [
    ("replicas-zero", changed({"scaling": {"replicas": 0}}), "scaling.replicas", False),
    ("scale-to-zero-without-a-holder", changed({**MONITORED, "scaling": {"autoscaling": {"enabled": True,
                                                                                       "minReplicas": 0}}}),
     "scaling.autoscaling.minReplicas", True),
    ("min-above-max", changed({**MONITORED, "scaling": {"autoscaling": {"enabled": True, "minReplicas": 3,
                                                                        "maxReplicas": 2}}}),
     "scaling.autoscaling.minReplicas", True),
    ("autoscaling-without-metrics", changed({"scaling": {"autoscaling": {"enabled": True}}}),
     "scaling.autoscaling.enabled", True),
    ("unknown-engine", changed({"scaling": {"autoscaling": {"engine": "vpa"}}}), "scaling.autoscaling.engine", False),
    ("kv-pressure-above-one", changed({"scaling": {"autoscaling": {"targetKvPressure": 1.5}}}),
     "scaling.autoscaling.targetKvPressure", False),
    ("rwo-cache-shared-by-replicas",
     changed({"scaling": {"replicas": 2}, "storage": {"modelCache": {"enabled": True}}}),
     "storage.modelCache.accessMode", True),
    ("rwop-cache-shared-by-autoscaled-pods",
     changed({**MONITORED, "scaling": {"autoscaling": {"enabled": True}},
              "storage": {"modelCache": {"enabled": True, "accessMode": "ReadWriteOncePod"}}}),
     "storage.modelCache.accessMode", True),
    ("grace-below-pause-and-drain", changed({"scaling": {"preStopSeconds": 40}}),
     "inference.terminationGracePeriodSeconds", True),
]  # fmt: skip

# Whole-file faults: no field to name, but both tools must refuse them.
FILE_ROWS = [
    ("empty-file", ""),
    ("top-level-list", "- workloadType: ML_INFERENCE_LOAD\n"),
    ("top-level-scalar", "ML_INFERENCE_LOAD\n"),
]


def python_problems(values_text: str) -> list[Problem]:
    try:
        document = load_values_text(values_text)
    except ValuesFileError as exc:
        return [Problem("", str(exc))]
    return validate_document(document)[1]


def helm_problems(helm: Path, values_text: str) -> list[Problem]:
    try:
        helm_template(helm, values_text)
    except HelmFailed as failure:
        return problems_from_helm_error(failure.stderr)
    return []


def names_field(problem: Problem, path: str) -> bool:
    """True if the problem is about `path`: at it, or at its parent naming it (Helm's 'additional property
    x' and 'x is required' are reported at the parent object)."""
    if problem.path == path:
        return True
    cut = max(path.rfind("."), path.rfind("["))
    parent, leaf = (path[:cut], path[cut:].lstrip(".")) if cut > 0 else ("", path)
    return problem.path == parent and f"{leaf}" in problem.message


def test_table_is_large_enough() -> None:
    assert len(ROWS) >= 25
    assert len({row[0] for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize(("row_id", "values_text", "path", "cross_field"), ROWS, ids=[r[0] for r in ROWS])
def test_workload_validate_rejects_and_names_the_field(
    row_id: str, values_text: str, path: str, cross_field: bool
) -> None:
    problems = python_problems(values_text)
    assert problems, f"{row_id}: accepted"
    assert path in [p.path for p in problems], problems
    assert all("\n" not in str(p) for p in problems)


@pytest.mark.parametrize(("row_id", "values_text", "path", "cross_field"), ROWS, ids=[r[0] for r in ROWS])
def test_helm_template_rejects_and_agrees(
    helm: Path, row_id: str, values_text: str, path: str, cross_field: bool
) -> None:
    from_helm = helm_problems(helm, values_text)
    assert from_helm, f"{row_id}: helm accepted it"
    assert any(names_field(p, path) for p in from_helm), from_helm
    if cross_field:
        # Helm stops at the first failing rule; the model lists the same rule first, word for word.
        assert from_helm == [python_problems(values_text)[0]]


@pytest.mark.parametrize(("row_id", "values_text"), FILE_ROWS, ids=[r[0] for r in FILE_ROWS])
def test_whole_file_faults_are_refused_by_both(helm: Path, row_id: str, values_text: str) -> None:
    assert python_problems(values_text)
    assert helm_problems(helm, values_text)


# Documents both tools must accept: the edges of what is allowed, nulls above all (Helm drops a null
# for a key that has a default, keeps it for one that has none).
GOOD_ROWS: list[tuple[str, str]] = [
    ("optional-enums-null", changed({"model.quantization": None, "model.dtype": None})),
    ("namespace-null", changed({"namespace": None})),
    ("runtime-class-null", changed({"gpu": {"runtimeClassName": None}})),
    ("node-selector-key-removed", changed({"gpu": {"nodeSelector": {"nvidia.com/gpu.present": None}}})),
    ("engine-settings-null", changed({"inference": {"maxBatchTotalTokens": None, "cudaGraphs": None,
                                                    "payloadLimit": None, "image": {"version": None}}})),
    ("env-value-null", changed(env({"name": "A", "value": None}))),
    ("integral-float", changed({"gpu": {"count": 2.0}})),
    ("largest-values", changed({"inference": {"maxInputLength": 1_048_575, "maxTotalTokens": 1_048_576,
                                              "port": 65535}, "resources": {"limits": {"memory": "2Ti"}}})),
]  # fmt: skip


@pytest.mark.parametrize(("row_id", "values_text"), GOOD_ROWS, ids=[r[0] for r in GOOD_ROWS])
def test_edge_documents_are_accepted_by_both(helm: Path, row_id: str, values_text: str) -> None:
    assert python_problems(values_text) == []
    assert helm_problems(helm, values_text) == []


def test_valid_base_is_accepted_by_both(helm: Path) -> None:
    """The table's rows differ from this document by one change each: it must itself pass."""
    text = yaml.safe_dump(BASE)
    assert python_problems(text) == []
    assert helm_problems(helm, text) == []
