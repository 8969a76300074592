"""`workload verify`: the design's testing plan (section 9, steps 3-7) as checks against a live release."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from typing import Any

from workload.chart_facts import CHART_NAME, ENGINE_ANNOTATION, SERVICE_PORT
from workload.checks import Check
from workload.engines import DEFAULT_ENGINE
from workload.engines import engine as engine_named
from workload.engines.base import Engine
from workload.errors import ClusterError
from workload.ops.external_secrets import check_external_secrets
from workload.ops.kube import Kubectl, container_env, container_spec, secret_value
from workload.ops.phases import Phase, condition, read_log


def find_deployment(kube: Kubectl, release: str) -> dict[str, Any] | None:
    labels = {"app.kubernetes.io/instance": release, "app.kubernetes.io/name": CHART_NAME}
    found = kube.find("deployments", labels)
    return found[0] if found else None


def check_rollout(deployment: dict[str, Any] | None, release: str, namespace: str) -> Check:
    if deployment is None:
        return Check("rollout", False, f"no {CHART_NAME} Deployment of release {release} in {namespace}",
                     f"helm list -n {namespace}; is this the release name?")  # fmt: skip
    name = deployment["metadata"]["name"]
    spec, status = deployment.get("spec", {}), deployment.get("status", {})
    wanted = spec.get("replicas", 1)
    current = status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 0)
    updated, available = status.get("updatedReplicas", 0), status.get("availableReplicas", 0)
    if current and updated >= wanted and available >= wanted:
        return Check("rollout", True, f"deployment/{name}: {available}/{wanted} available")
    return Check(
        "rollout",
        False,
        f"deployment/{name}: {updated} updated, {available}/{wanted} available",
        f"kubectl -n {namespace} rollout status deployment/{name}; `workload deploy` names the cause",
    )


def check_model_loaded(kube: Kubectl, deployment: dict[str, Any], engine: Engine) -> Check:
    labels = deployment["spec"]["selector"]["matchLabels"]
    pods = sorted(kube.find("pods", labels), key=lambda p: p["metadata"].get("creationTimestamp", ""))
    if not pods:
        return Check("model loaded", False, "no pod", "kubectl describe deployment")
    pod = pods[-1]["metadata"]["name"]
    try:
        text = kube.logs(pod)
    except ClusterError as error:  # a container that never started (its Secret missing) has no log
        return Check("model loaded", False, f"pod/{pod} has no log: {error}",
                     f"kubectl -n {kube.namespace} describe pod {pod}")  # fmt: skip
    log = read_log(text.splitlines(), engine)
    if log.diagnosis:
        return Check(
            "model loaded", False, f"{log.diagnosis.problem} ({log.diagnosis.evidence[:120]})", log.diagnosis.fix
        )
    if not log.loaded or log.phase is not Phase.READY:
        return Check("model loaded", False, f"pod/{pod} log stops at: {log.phase.text(engine.title)}",
                     f"kubectl -n {kube.namespace} logs {pod}")  # fmt: skip
    source = "found in the cache" if log.cache_hit else "downloaded"
    cold = cold_start_seconds(pods[-1])
    started = f"; cold start {cold:.0f} s (scheduled to Ready)" if cold is not None else ""
    return Check("model loaded", True, f"pod/{pod}: weights {source}, server connected{started}")


def _true_since(pod: dict[str, Any], kind: str) -> datetime | None:
    """When the pod's condition `kind` last became True, if it is True."""
    found = condition(pod, kind)
    if found.get("status") != "True" or not found.get("lastTransitionTime"):
        return None
    return datetime.fromisoformat(str(found["lastTransitionTime"]).replace("Z", "+00:00"))


def cold_start_seconds(pod: dict[str, Any]) -> float | None:
    """From scheduled to Ready: the image pull, the download and the load, which an autoscaler's cooldown
    (scaling.autoscaling, derived from healthCheck.startupTimeoutSeconds) must cover."""
    scheduled, ready = _true_since(pod, "PodScheduled"), _true_since(pod, "Ready")
    return (ready - scheduled).total_seconds() if scheduled and ready else None


def _metric_value(metric: dict[str, Any]) -> tuple[str, str] | None:
    """(name, current value) of one HPA status.currentMetrics entry."""
    kind = str(metric.get("type", ""))
    body = (
        metric.get(kind[:1].lower() + kind[1:]) or {}
    )  # type Pods -> key pods, ContainerResource -> containerResource
    current = body.get("current") or {}
    value = current.get("averageValue", current.get("value", current.get("averageUtilization")))
    name = (body.get("metric") or {}).get("name") or kind.lower()
    return (str(name), str(value)) if value is not None else None


def check_autoscaler(kube: Kubectl, deployment: dict[str, Any]) -> Check | None:
    """With autoscaling on (an HPA, ours or KEDA's, targets the Deployment): that it reads a value."""
    name = deployment["metadata"]["name"]
    try:
        hpas = [h for h in kube.find("horizontalpodautoscalers") if h["spec"]["scaleTargetRef"].get("name") == name]
    except ClusterError:
        return None
    if not hpas:
        return None
    hpa, status = hpas[0], hpas[0].get("status") or {}
    who = f"hpa/{hpa['metadata']['name']}" + (" (KEDA's)" if hpa["metadata"]["name"].startswith("keda-hpa-") else "")
    values = [v for v in (_metric_value(m) for m in status.get("currentMetrics") or []) if v is not None]
    if values:
        read = ", ".join(f"{metric} = {value}" for metric, value in values)
        return Check("autoscaler", True, f"{who} reads {read}; {status.get('currentReplicas', '?')} replicas "
                     f"({hpa['spec'].get('minReplicas', 1)}-{hpa['spec']['maxReplicas']})")  # fmt: skip
    why = next((c.get("message", "") for c in status.get("conditions") or []
                if c.get("type") == "ScalingActive" and c.get("status") != "True"), "no metric value yet")  # fmt: skip
    return Check("autoscaler", False, f"{who} reads no value: {why}",
                 "KEDA: is its operator running and Prometheus reachable at scaling.autoscaling.prometheusAddress? "
                 "HPA: install prometheus-adapter with docs/autoscaling/prometheus-adapter-rules.yaml")  # fmt: skip


def engine_of(deployment: dict[str, Any]) -> Engine:
    """The engine a release runs: the chart's annotation names it, unless it is the default."""
    annotations = deployment["metadata"].get("annotations") or {}
    return engine_named(annotations.get(ENGINE_ANNOTATION, DEFAULT_ENGINE))


def _api_key(kube: Kubectl, env: dict[str, Any], engine: Engine) -> str:
    found = env.get(engine.api_key_env)
    ref = found.get("secretKeyRef") if isinstance(found, dict) else None
    if not ref:
        return ""
    return secret_value(kube, ref["name"], ref["key"]) or ""


def _skipped(names: list[str], reason: str) -> list[Check]:
    return [Check(name, False, f"skipped: {reason}") for name in names]


def http_check_names(engine: Engine) -> list[str]:
    return [*engine.verifier().request_checks, "metrics"]


def http_checks(engine: Engine, url: str, api_key: str, model_id: str) -> list[Check]:
    """The engine's request checks, and that its success counter grew with them."""
    verifier, counter = engine.verifier(), engine.signals.successes
    before = verifier.metric_total(url, api_key, counter)
    checks = verifier.run_request_checks(url, api_key, model_id)
    after = verifier.metric_total(url, api_key, counter)
    if before is None or after is None:
        checks.append(Check("metrics", False, f"{counter} not in /metrics", f"is this a {engine.title} server?"))
    elif after > before:
        checks.append(Check("metrics", True, f"{counter} {before:.0f} -> {after:.0f}"))
    else:
        checks.append(Check("metrics", False, f"{counter} stayed at {after:.0f}",
                            "requests did not reach this server: check the Service selector"))  # fmt: skip
    return checks


def verify_url(url: str, model_id: str, api_key: str, engine: str = DEFAULT_ENGINE) -> list[Check]:
    """The HTTP checks alone, against a server or gateway at `url`: no cluster needed."""
    return http_checks(engine_named(engine), url, api_key, model_id)


def gateway_check(engine: Engine, route: dict[str, Any], api_key: str, gateway_url: str | None) -> Check:
    host = (route.get("spec", {}).get("hostnames") or [""])[0]
    found = engine.verifier().gateway_checks(gateway_url or f"https://{host}", api_key, host if gateway_url else "")
    if all(check.ok for check in found):
        return Check("gateway", True, f"{host}: " + "; ".join(f"{c.name} {c.detail}" for c in found))
    failed = next(check for check in found if not check.ok)
    return Check("gateway", False, f"{host}: {failed.name} {failed.detail}",
                 f"kubectl -n {route['metadata'].get('namespace', '')} describe httproute "
                 f"{route['metadata']['name']} (Accepted/ResolvedRefs); DNS of {host}; "
                 "the Gateway's allowedRoutes")  # fmt: skip


def verify(kube: Kubectl, release: str, url: str | None = None, gateway_url: str | None = None) -> list[Check]:
    """Every check, in the order of the testing plan; a failed step skips the ones that need it."""
    try:
        deployment = find_deployment(kube, release)
    except ClusterError as error:
        return [Check("rollout", False, f"cannot read the cluster: {error}", "kubectl config current-context")]
    checks = [check_rollout(deployment, release, kube.namespace), *check_external_secrets(kube, release)]
    if deployment is None:
        names = http_check_names(engine_named(DEFAULT_ENGINE))
        return checks + _skipped(["model loaded", *names, "gateway"], "no Deployment")
    name = deployment["metadata"]["name"]
    try:
        engine = engine_of(deployment)
    except KeyError as unknown:
        detail = f"deployment/{name} runs engine {unknown}, which this workload CLI does not know"
        checks.append(Check("model loaded", False, detail, "upgrade the workload CLI to the chart's version"))
        return checks + _skipped(["gateway"], "unknown engine")
    checks.append(check_model_loaded(kube, deployment, engine))
    if (scaler := check_autoscaler(kube, deployment)) is not None:
        checks.append(scaler)
    api_key = _api_key(kube, container_env(deployment), engine)
    model_id = engine.verifier().model_id(container_spec(deployment))
    with ExitStack() as stack:
        base = url
        if base is None:
            try:
                port = stack.enter_context(kube.port_forward(f"service/{name}", SERVICE_PORT))
                base = f"http://127.0.0.1:{port}"
            except ClusterError as error:
                checks.append(Check("health", False, str(error), f"kubectl -n {kube.namespace} get endpoints {name}"))
                skipped = [*http_check_names(engine)[1:], "gateway"]
                return checks + _skipped(skipped, "no connection to the Service")
        checks += http_checks(engine, base, api_key, model_id)
    routes = kube.find("httproutes", {"app.kubernetes.io/instance": release}) if _has_routes(kube) else []
    if routes:
        checks.append(gateway_check(engine, routes[0], api_key, gateway_url))
    return checks


def _has_routes(kube: Kubectl) -> bool:
    """Whether the cluster serves HTTPRoutes. kubectl exits 0 with empty output when the group is missing."""
    try:
        served = kube.run("api-resources", "--api-group", "gateway.networking.k8s.io", "--output", "name")
    except ClusterError:
        return False
    return any(name.split(".")[0] == "httproutes" for name in served.split())
