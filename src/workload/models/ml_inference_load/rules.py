"""Cross-field rules of ML_INFERENCE_LOAD: what values.schema.json cannot say about one field alone.

The engine's own rules come first (workload/engines/<name>/rules.py), then these, which hold for every
engine and ask it for its facts. Each message is written once, in MESSAGES (and the engine's), as
"path: message" with printf verbs: `workload generate` writes them into templates/_facts.tpl, and
templates/_validate.tpl fails with them, checking the same rules in the same order; tests prove it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from workload.chart_facts import CHART_ENV, CHART_LABEL_KEYS, SECRET_LIKE_ENV
from workload.engines import engine as engine_named
from workload.engines import engine_specific_fields
from workload.engines.base import Engine, problem
from workload.engines.versions import as_tuple, image_version
from workload.problems import Problem
from workload.quantities import cpu_millicores, duration_ms, memory_bytes

if TYPE_CHECKING:  # only for annotations: values.py imports this module to run the rules
    from workload.models.ml_inference_load.values import MlInferenceLoad

MESSAGES: dict[str, str] = {
    "notThisEngine": "%s: is a setting of %s, which %s does not have; remove it (inference.extraArgs passes the "
    "engine's own flags)",
    "managedFlag": "inference.extraArgs[%d]: %s is set by the chart; set %s instead",
    "notEngineChoice": "%s: %s does not take %s; it takes %s",
    "gracePeriod": "inference.terminationGracePeriodSeconds: must be greater than scaling.preStopSeconds plus "
    "%s's graceful drain of %d s (%d <= %d + %d)",
    "hostRequired": "ingress.host: required when ingress.enabled is true",
    "metricsPath": "ingress.paths[%d]: /metrics is never exposed through the gateway",
    "pathTwice": "ingress.paths[%d]: %s is listed twice",
    "chartLabel": "%s: %s is set by the chart; choose another label key",
    "scrapeTimeout": "monitoring.serviceMonitor.scrapeTimeout: must not exceed monitoring.serviceMonitor.interval "
    "(%s > %s)",
    "hfTokenTwice": "hfToken.existingSecret: cannot be combined with vault.hfTokenPath; choose one source for the "
    "token",
    "apiKeyTwice": "apiKey.existingSecret: cannot be combined with apiKey.vaultPath; choose one source for the key",
    "cpuRequest": "resources.requests.cpu: must not exceed resources.limits.cpu (%s > %s)",
    "memoryRequest": "resources.requests.memory: must not exceed resources.limits.memory (%s > %s)",
    "shmSize": "inference.shmSize: must not exceed resources.limits.memory (%s > %s); /dev/shm is memory",
    "offlineWithoutCache": "storage.modelCache.offline: needs storage.modelCache.enabled; offline, %s loads "
    "weights only from the cache",
    "cacheMountPath": "storage.modelCache.mountPath: %s is a volume of its own; choose another path",
    "managedEnv": "environmentVariables[%d].name: %s is set by the chart; set %s instead",
    "envTwice": "environmentVariables[%d].name: %s is already set by environmentVariables[%d]",
    "envValueAndRef": "environmentVariables[%d]: set either value or secretKeyRef, not both",
    "envCredential": "environmentVariables[%d].value: %s looks like a credential; take it from a Secret with "
    "secretKeyRef, not a literal value",
    "imageVersion": "%s %s",
    "imageUnversioned": "an image tag that is not a version ('%s')",
    "rootOnly": "%s runs only as uid 0 (%s); leave runAsNonRoot and runAsUser unset, or build %s and set "
    "inference.image.runsAsNonRoot: true",
    "rootOnlyNonRoot": "podSecurityContext.runAsNonRoot: must not be true: %s",
    "rootOnlyUid": "podSecurityContext.runAsUser: must be 0: %s",
    "nonRootUid0": "podSecurityContext.runAsNonRoot: cannot be true with podSecurityContext.runAsUser 0; the "
    "kubelet would refuse to start the container",
    "minReplicasZero": "scaling.autoscaling.minReplicas: 0 needs something that holds requests during a cold start "
    "(the KEDA HTTP add-on), which this chart does not render; use at least 1",
    "minAboveMax": "scaling.autoscaling.minReplicas: must not exceed scaling.autoscaling.maxReplicas (%d > %d)",
    "autoscalingNeedsMonitor": "scaling.autoscaling.enabled: needs monitoring.serviceMonitor.enabled: the scaler "
    "reads %s's metrics from the Prometheus that scrapes it",
    "sharedCache": "storage.modelCache.accessMode: %s is mounted by one %s at a time, and up to %d pods may land on "
    "different nodes: use ReadWriteMany (one download, shared), or turn storage.modelCache.enabled off (each pod "
    "downloads its own copy)",
}


def engine_of(v: MlInferenceLoad) -> Engine:
    return engine_named(v.inference.engine)


def image_tag(v: MlInferenceLoad) -> str:
    """inference.image.tag, else the engine's own (the chart's ml-inference-load.engineImage)."""
    return v.inference.image.tag or engine_of(v).image.tag


def managed_env(engine: Engine) -> dict[str, str]:
    """Every variable the chart sets with this engine -> the values field to change instead."""
    return {**CHART_ENV, **engine.managed_env}


def image_needs_root(v: MlInferenceLoad) -> bool:
    """True for a stock image the engine starts only as uid 0 (or whose version is unknown), unless declared."""
    since = engine_of(v).image.root_only_since
    if v.inference.image.runs_as_non_root or since is None:
        return False
    have = image_version(v.inference.image, engine_of(v).image.tag)
    return have is None or as_tuple(have) >= as_tuple(since)


def pod_user(v: MlInferenceLoad) -> tuple[bool, int, int]:
    """(runAsNonRoot, runAsUser, runAsGroup) the pod runs with: the values where set, else from the image."""
    ctx = v.pod_security_context
    non_root_uid = engine_of(v).image.non_root_uid
    default_uid = 0 if image_needs_root(v) else non_root_uid
    uid = default_uid if ctx.run_as_user is None else ctx.run_as_user
    non_root = uid != 0 if ctx.run_as_non_root is None else ctx.run_as_non_root
    gid = (0 if uid == 0 else non_root_uid) if ctx.run_as_group is None else ctx.run_as_group
    return non_root, uid, gid


def max_pods(v: MlInferenceLoad) -> int:
    """The most pods there can be: maxReplicas with autoscaling, else replicas (the chart's maxPods)."""
    auto = v.scaling.autoscaling
    return auto.max_replicas if auto.enabled else v.scaling.replicas


def value_at(v: MlInferenceLoad, path: str) -> object:
    """The value of a values path such as inference.maxInputLength (None when unset)."""
    found: object = v
    for part in path.split("."):
        found = getattr(found, re.sub(r"(?<!^)(?=[A-Z])", "_", part).lower())
    return found


def flag_name(arg: str) -> str:
    """The flag an argument spells ("--max_model_len=8" -> "--max-model-len"); "" for a value."""
    if not arg.startswith("-"):
        return ""
    name = arg.split("=", 1)[0]
    return name[:2] + name[2:].replace("_", "-") if name.startswith("--") else name


def _engine_fields(v: MlInferenceLoad, engine: Engine) -> Iterator[Problem]:
    """A field another engine has, set with this one, and a chart-managed flag in extraArgs."""
    for path, owners in engine_specific_fields().items():
        if path not in engine.fields() and value_at(v, path) is not None:
            yield problem(MESSAGES["notThisEngine"], path, owners, engine.title)
    for path, value, allowed in (("model.dtype", v.model.dtype, engine.dtypes),  # by path, as the chart ranges
                                 ("model.quantization", v.model.quantization, engine.quantizations)):  # fmt: skip
        if value is not None and value not in allowed:
            yield problem(MESSAGES["notEngineChoice"], path, engine.title, value, ", ".join(allowed))
    for i, arg in enumerate(v.inference.extra_args):
        if (flag := flag_name(arg)) in engine.managed_flags:
            yield problem(MESSAGES["managedFlag"], i, flag, engine.managed_flags[flag])


def _engine(v: MlInferenceLoad) -> Iterator[Problem]:
    engine = engine_of(v)
    yield from _engine_fields(v, engine)
    yield from engine.rules(v)
    drain, pause, grace = (
        engine.drain_seconds(v),
        v.scaling.pre_stop_seconds,
        v.inference.termination_grace_period_seconds,
    )
    if grace <= pause + drain:
        yield problem(MESSAGES["gracePeriod"], engine.title, drain, grace, pause, drain)


def _exposure(v: MlInferenceLoad) -> Iterator[Problem]:
    if v.ingress.enabled and not v.ingress.host:
        yield problem(MESSAGES["hostRequired"])
    seen: set[str] = set()
    for i, path in enumerate(v.ingress.paths or ()):  # unset: the engine's routes, checked by a test
        if path == "/metrics":
            yield problem(MESSAGES["metricsPath"], i)
        elif path in seen:
            yield problem(MESSAGES["pathTwice"], i, path)
        seen.add(path)
    monitor = v.monitoring.service_monitor
    extra_labels = (  # in the order the template's dict ranges over them (by path)
        ("monitoring.grafanaDashboard.labels", v.monitoring.grafana_dashboard.labels),
        ("monitoring.serviceMonitor.labels", monitor.labels),
    )
    for path, labels in extra_labels:
        for key in sorted(labels):
            if key in CHART_LABEL_KEYS:
                yield problem(MESSAGES["chartLabel"], path, key)
    if duration_ms(monitor.scrape_timeout) > duration_ms(monitor.interval):
        yield problem(MESSAGES["scrapeTimeout"], monitor.scrape_timeout, monitor.interval)


def _credentials(v: MlInferenceLoad) -> Iterator[Problem]:
    if v.vault.hf_token_path and v.hf_token.existing_secret:
        yield problem(MESSAGES["hfTokenTwice"])
    if v.api_key.vault_path and v.api_key.existing_secret:
        yield problem(MESSAGES["apiKeyTwice"])


def _resources(v: MlInferenceLoad) -> Iterator[Problem]:
    req, lim = v.resources.requests, v.resources.limits
    if cpu_millicores(req.cpu) > cpu_millicores(lim.cpu):
        yield problem(MESSAGES["cpuRequest"], req.cpu, lim.cpu)
    if memory_bytes(req.memory) > memory_bytes(lim.memory):
        yield problem(MESSAGES["memoryRequest"], req.memory, lim.memory)
    shm = v.inference.shm_size or f"{v.gpu.count}Gi"
    if memory_bytes(shm) > memory_bytes(lim.memory):
        yield problem(MESSAGES["shmSize"], shm, lim.memory)
    cache = v.storage.model_cache
    if cache.offline and not cache.enabled:
        yield problem(MESSAGES["offlineWithoutCache"], engine_of(v).title)
    if cache.mount_path in ("/tmp", "/dev/shm"):
        yield problem(MESSAGES["cacheMountPath"], cache.mount_path)


def _environment(v: MlInferenceLoad) -> Iterator[Problem]:
    managed = managed_env(engine_of(v))
    seen: dict[str, int] = {}
    for i, env in enumerate(v.environment_variables):
        if env.name in managed:
            yield problem(MESSAGES["managedEnv"], i, env.name, managed[env.name])
            continue  # one problem per managed name is enough
        if env.name in seen:
            yield problem(MESSAGES["envTwice"], i, env.name, seen[env.name])
        seen.setdefault(env.name, i)
        if env.value is not None and env.secret_key_ref is not None:
            yield problem(MESSAGES["envValueAndRef"], i)
        elif env.value is not None and re.search(SECRET_LIKE_ENV, env.name):
            yield problem(MESSAGES["envCredential"], i, env.name)


def _security(v: MlInferenceLoad) -> Iterator[Problem]:
    ctx = v.pod_security_context
    if image_needs_root(v):
        engine = engine_of(v)
        version = image_version(v.inference.image, engine.image.tag)
        image = (MESSAGES["imageVersion"] % (engine.title, version) if version
                 else MESSAGES["imageUnversioned"] % image_tag(v))  # fmt: skip
        way_out = MESSAGES["rootOnly"] % (image, engine.image.root_reason, engine.image.non_root_recipe)
        if ctx.run_as_non_root:
            yield problem(MESSAGES["rootOnlyNonRoot"], way_out)
        elif ctx.run_as_user is not None and ctx.run_as_user != 0:
            yield problem(MESSAGES["rootOnlyUid"], way_out)
        return
    if ctx.run_as_non_root and ctx.run_as_user == 0:
        yield problem(MESSAGES["nonRootUid0"])


def _scaling(v: MlInferenceLoad) -> Iterator[Problem]:
    auto = v.scaling.autoscaling
    if auto.enabled:
        if auto.min_replicas == 0:
            yield problem(MESSAGES["minReplicasZero"])
        if auto.min_replicas > auto.max_replicas:
            yield problem(MESSAGES["minAboveMax"], auto.min_replicas, auto.max_replicas)
        if not v.monitoring.service_monitor.enabled:
            yield problem(MESSAGES["autoscalingNeedsMonitor"], engine_of(v).title)
    cache = v.storage.model_cache
    pods = max_pods(v)
    if pods > 1 and cache.enabled and cache.access_mode != "ReadWriteMany":
        holder = "pod" if cache.access_mode == "ReadWriteOncePod" else "node"
        yield problem(MESSAGES["sharedCache"], cache.access_mode, holder, pods)


def cross_field_problems(v: MlInferenceLoad) -> Iterator[Problem]:
    """Every rule, in the order the templates check them."""
    for group in (_engine, _exposure, _credentials, _resources, _environment, _security, _scaling):
        yield from group(v)
