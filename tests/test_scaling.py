"""Replicas, autoscaling and availability, rendered with Helm 3 and Helm 4 (the `render` fixture runs each
test with both): what each setting renders, checked against the strict Kubernetes schemas and KEDA's
real ScaledObject CRD (fetched from github.com/kedacore/keda/v2 by set-up)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from conftest import EXAMPLES, Render, by_kind, kinds
from workload.engines import engine, engine_names
from workload.kubeschema import CrdSchemas, builtin_errors
from workload.paths import REPO_ROOT

MINIMAL = (EXAMPLES / "minimal.yaml").read_text(encoding="utf-8")
MONITORED = "monitoring:\n  serviceMonitor:\n    enabled: true\n"
KEDA_CRD = "keda-v2.21.0-scaledobjects.yaml"


def deployment(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return by_kind(docs, "Deployment")


def test_one_replica_recreates_and_needs_no_budget(render: Render) -> None:
    docs = render(MINIMAL)
    spec = deployment(docs)["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    assert "topologySpreadConstraints" not in spec["template"]["spec"]
    assert "PodDisruptionBudget" not in kinds(docs)


def test_several_replicas_roll_without_a_spare_gpu(render: Render) -> None:
    docs = render(MINIMAL + "scaling:\n  replicas: 3\n")
    spec = deployment(docs)["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
    (spread,) = spec["template"]["spec"]["topologySpreadConstraints"]
    assert spread["whenUnsatisfiable"] == "ScheduleAnyway"
    assert spread["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]
    budget = by_kind(docs, "PodDisruptionBudget")
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"] == spec["selector"]
    for doc in docs:
        assert builtin_errors(doc, "1.29") == [], doc["kind"]


def test_budget_and_spread_can_be_turned_off(render: Render) -> None:
    extra = "scaling:\n  replicas: 2\n  disruptionBudget:\n    enabled: false\n  topologySpread:\n    enabled: false\n"
    docs = render(MINIMAL + extra)
    assert "PodDisruptionBudget" not in kinds(docs)
    assert "topologySpreadConstraints" not in deployment(docs)["spec"]["template"]["spec"]


@pytest.mark.parametrize(("kube", "action"), [("1.29.0", "exec"), ("1.30.0", "sleep"), ("1.37.0", "sleep")])
def test_prestop_pause_where_the_cluster_supports_it(render: Render, kube: str, action: str) -> None:
    """The sleep action from Kubernetes 1.30 (PodLifecycleSleepAction on by default), else an exec of sleep."""
    container = deployment(render(MINIMAL, "--kube-version", kube))["spec"]["template"]["spec"]["containers"][0]
    pre_stop = container["lifecycle"]["preStop"]
    assert pre_stop == ({"sleep": {"seconds": 10}} if action == "sleep" else {"exec": {"command": ["sleep", "10"]}})
    no_pause = deployment(render(MINIMAL + "scaling:\n  preStopSeconds: 0\n", "--kube-version", kube))
    assert "lifecycle" not in no_pause["spec"]["template"]["spec"]["containers"][0]


def test_keda_scales_on_active_requests_and_kv_pressure(render: Render, crds: CrdSchemas) -> None:
    docs = render(MINIMAL + MONITORED + "scaling:\n  autoscaling:\n    enabled: true\n    maxReplicas: 4\n")
    assert "replicas" not in deployment(docs)["spec"], "the scaler owns replicas; an upgrade must not reset them"
    assert deployment(docs)["spec"]["strategy"]["type"] == "RollingUpdate"
    scaled = by_kind(docs, "ScaledObject")
    assert crds.errors(scaled, KEDA_CRD) == []
    spec = scaled["spec"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (1, 4)
    # A loading pod is never scaled away: nothing scales in within the startup budget (1800 s by default).
    assert spec["initialCooldownPeriod"] == 1800
    assert (
        spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 1800
    )
    active, pressure = spec["triggers"]
    assert active["metricType"] == "AverageValue"
    assert active["metadata"]["threshold"] == "8"
    selector = 'namespace="test-ns",service="qwen-small"'  # the namespace the render fixture installs into
    assert (
        active["metadata"]["query"] == f"sum(tgi_queue_size{{{selector}}}) + sum(tgi_batch_current_size{{{selector}}})"
    )
    assert pressure["metricType"] == "Value"
    assert pressure["metadata"]["threshold"] == "0.85"
    assert "tgi_batch_current_max_tokens" in pressure["metadata"]["query"]
    assert "tgi_batch_max_total_tokens" in pressure["metadata"]["query"]
    assert by_kind(docs, "PodDisruptionBudget")


def test_a_long_startup_budget_is_capped_at_the_hpas_limit(render: Render, crds: CrdSchemas) -> None:
    extra = "healthCheck:\n  startupTimeoutSeconds: 7200\nscaling:\n  autoscaling:\n    enabled: true\n"
    scaled = by_kind(render(MINIMAL + MONITORED + extra), "ScaledObject")
    assert scaled["spec"]["initialCooldownPeriod"] == 7200
    behavior = scaled["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 3600  # the HPA refuses more
    assert crds.errors(scaled, KEDA_CRD) == []


def test_hpa_on_the_adapters_pods_metric(render: Render) -> None:
    extra = "scaling:\n  autoscaling:\n    enabled: true\n    engine: hpa\n    minReplicas: 2\n    maxReplicas: 6\n"
    docs = render(MINIMAL + MONITORED + extra)
    hpa = by_kind(docs, "HorizontalPodAutoscaler")
    assert builtin_errors(hpa, "1.29") == []
    assert builtin_errors(hpa, "1.37") == []
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    (metric,) = hpa["spec"]["metrics"]
    assert metric["pods"]["metric"]["name"] == "tgi_active_requests"
    assert metric["pods"]["target"] == {"type": "AverageValue", "averageValue": "8"}
    assert "ScaledObject" not in kinds(docs)


@pytest.mark.parametrize("name", engine_names())
def test_the_adapter_rule_serves_the_metric_the_hpa_reads(name: str) -> None:
    # Found by the real vLLM suite: the vLLM and SGLang HPAs read vllm_/sglang_active_requests, and the rules
    # file served only TGI's, so `engine: hpa` on those engines never scaled.
    signals = engine(name).signals
    rules = yaml.safe_load((REPO_ROOT / "docs" / "autoscaling" / "prometheus-adapter-rules.yaml").read_text())
    served = {rule["name"]["as"]: rule for rule in rules["rules"]["custom"]}
    assert signals.adapter_metric in served, f"no adapter rule serves {signals.adapter_metric}"
    rule = served[signals.adapter_metric]
    assert rule["seriesQuery"].startswith(signals.active_requests[0] + "{")
    for series in signals.active_requests:
        assert f"{series}{{<<.LabelMatchers>>}}" in rule["metricsQuery"]
