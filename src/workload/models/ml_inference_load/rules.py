"""Cross-field rules of ML_INFERENCE_LOAD: what values.schema.json cannot say about one field alone.

Most are limits TGI enforces itself, some only after the whole model has loaded (so a bad value would
cost a full download before the pod crash-loops). templates/_validate.tpl applies the same rules, in the
same order, with the same words; tests prove it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from workload.chart_facts import (
    CHART_LABEL_KEYS,
    MANAGED_ENV,
    NON_ROOT_UID,
    ROOT_ONLY_SINCE,
    SECRET_LIKE_ENV,
    TGI_DEFAULT_DRAIN_SECONDS,
    VERSION_GATES,
)
from workload.problems import Problem
from workload.quantities import cpu_millicores, duration_ms, memory_bytes

if TYPE_CHECKING:  # only for annotations: values.py imports this module to run the rules
    from workload.models.ml_inference_load.values import MlInferenceLoad

Version = tuple[int, int, int]


def tgi_version(v: MlInferenceLoad) -> str | None:
    """inference.image.version, else the X.Y.Z at the start of the tag ('3.3.7-rocm' -> 3.3.7), else None.

    A digest or a tag such as 'latest' says nothing about what the image contains, so no version is
    guessed: options that need a newer TGI are refused until inference.image.version declares one.
    """
    image = v.inference.image
    match = re.match(r"^v?([0-9]+\.[0-9]+\.[0-9]+)", image.version or image.tag)
    return match[1] if match else None


def _as_tuple(version: str) -> Version:
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch


def _needs(v: MlInferenceLoad, path: str, need: str) -> Problem | None:
    have = tgi_version(v)
    if have is None:
        tag = v.inference.image.tag
        return Problem(path, f"needs TGI >= {need}; the image tag '{tag}' is not a version, so set "
                             "inference.image.version")  # fmt: skip
    if _as_tuple(have) < _as_tuple(need):
        return Problem(path, f"needs TGI >= {need} (the image is TGI {have})")
    return None


def image_needs_root(v: MlInferenceLoad) -> bool:
    """True for a stock TGI image from 3.1.1 on, or one whose version is unknown, unless declared non-root."""
    if v.inference.image.runs_as_non_root:
        return False
    have = tgi_version(v)
    return have is None or _as_tuple(have) >= _as_tuple(ROOT_ONLY_SINCE)


def pod_user(v: MlInferenceLoad) -> tuple[bool, int, int]:
    """(runAsNonRoot, runAsUser, runAsGroup) the pod runs with: the values where set, else from the image."""
    ctx = v.pod_security_context
    default_uid = 0 if image_needs_root(v) else NON_ROOT_UID
    uid = default_uid if ctx.run_as_user is None else ctx.run_as_user
    non_root = uid != 0 if ctx.run_as_non_root is None else ctx.run_as_non_root
    gid = (0 if uid == 0 else NON_ROOT_UID) if ctx.run_as_group is None else ctx.run_as_group
    return non_root, uid, gid


def _security(v: MlInferenceLoad) -> Iterator[Problem]:
    ctx = v.pod_security_context
    if image_needs_root(v):
        version = tgi_version(v)
        image = f"TGI {version}" if version else f"an image tag that is not a version ('{v.inference.image.tag}')"
        way_out = (
            f"{image} runs only as uid 0 (TGI >= 3.1.1 keeps its Python under /root: TGI issue 3082); leave "
            "runAsNonRoot and runAsUser unset, or build images/tgi-nonroot/Dockerfile and set "
            "inference.image.runsAsNonRoot: true"
        )
        if ctx.run_as_non_root:
            yield Problem("podSecurityContext.runAsNonRoot", f"must not be true: {way_out}")
        elif ctx.run_as_user is not None and ctx.run_as_user != 0:
            yield Problem("podSecurityContext.runAsUser", f"must be 0: {way_out}")
        return
    if ctx.run_as_non_root and ctx.run_as_user == 0:
        yield Problem(
            "podSecurityContext.runAsNonRoot",
            "cannot be true with podSecurityContext.runAsUser 0; the kubelet would refuse to start the container",
        )


def _version_gates(v: MlInferenceLoad) -> Iterator[Problem]:
    used = {
        "model.quantization": v.model.quantization == "compressed-tensors",
        "inference.payloadLimit": v.inference.payload_limit is not None,
        "inference.gracefulTerminationTimeout": v.inference.graceful_termination_timeout is not None,
        "apiKey": bool(v.api_key.vault_path or v.api_key.existing_secret),
    }
    for path, need in VERSION_GATES.items():
        if used[path] and (problem := _needs(v, path, need)):
            yield problem


def _engine(v: MlInferenceLoad) -> Iterator[Problem]:
    inf = v.inference
    if inf.max_input_length >= inf.max_total_tokens:
        yield Problem(
            "inference.maxInputLength",
            f"must be less than inference.maxTotalTokens ({inf.max_input_length} >= {inf.max_total_tokens})",
        )
    prefill, batch = inf.max_batch_prefill_tokens, inf.max_batch_total_tokens
    if prefill is not None and prefill < inf.max_input_length:
        yield Problem(
            "inference.maxBatchPrefillTokens",
            f"must be at least inference.maxInputLength ({prefill} < {inf.max_input_length}); TGI finds this "
            "only after loading the model",
        )
    if batch is not None and batch < inf.max_total_tokens:
        yield Problem(
            "inference.maxBatchTotalTokens",
            f"must be at least inference.maxTotalTokens ({batch} < {inf.max_total_tokens})",
        )
    if prefill is not None and batch is not None and prefill > batch:
        yield Problem(
            "inference.maxBatchPrefillTokens",
            f"must not exceed inference.maxBatchTotalTokens ({prefill} > {batch})",
        )
    if v.model.dtype is not None and v.model.quantization is not None:
        yield Problem("model.dtype", "cannot be combined with model.quantization; TGI refuses both")
    if v.model.quantization == "exl2" and v.gpu.count > 1:
        yield Problem("model.quantization", "exl2 models cannot be sharded; set gpu.count to 1")
    yield from _version_gates(v)
    drain = inf.graceful_termination_timeout or TGI_DEFAULT_DRAIN_SECONDS
    pause = v.scaling.pre_stop_seconds
    if inf.termination_grace_period_seconds <= pause + drain:
        yield Problem(
            "inference.terminationGracePeriodSeconds",
            f"must be greater than scaling.preStopSeconds plus TGI's graceful drain of {drain} s "
            f"({inf.termination_grace_period_seconds} <= {pause} + {drain})",
        )


def _exposure(v: MlInferenceLoad) -> Iterator[Problem]:
    if v.ingress.enabled and not v.ingress.host:
        yield Problem("ingress.host", "required when ingress.enabled is true")
    seen: set[str] = set()
    for i, path in enumerate(v.ingress.paths):
        if path == "/metrics":
            yield Problem(f"ingress.paths[{i}]", "/metrics is never exposed through the gateway")
        elif path in seen:
            yield Problem(f"ingress.paths[{i}]", f"{path} is listed twice")
        seen.add(path)
    monitor = v.monitoring.service_monitor
    extra_labels = (  # in the order the template's dict ranges over them (by path)
        ("monitoring.grafanaDashboard.labels", v.monitoring.grafana_dashboard.labels),
        ("monitoring.serviceMonitor.labels", monitor.labels),
    )
    for path, labels in extra_labels:
        for key in sorted(labels):
            if key in CHART_LABEL_KEYS:
                yield Problem(path, f"{key} is set by the chart; choose another label key")
    if duration_ms(monitor.scrape_timeout) > duration_ms(monitor.interval):
        yield Problem(
            "monitoring.serviceMonitor.scrapeTimeout",
            f"must not exceed monitoring.serviceMonitor.interval ({monitor.scrape_timeout} > {monitor.interval})",
        )


def _credentials(v: MlInferenceLoad) -> Iterator[Problem]:
    if v.vault.hf_token_path and v.hf_token.existing_secret:
        yield Problem(
            "hfToken.existingSecret", "cannot be combined with vault.hfTokenPath; choose one source for the token"
        )
    if v.api_key.vault_path and v.api_key.existing_secret:
        yield Problem(
            "apiKey.existingSecret", "cannot be combined with apiKey.vaultPath; choose one source for the key"
        )


def _resources(v: MlInferenceLoad) -> Iterator[Problem]:
    req, lim = v.resources.requests, v.resources.limits
    if cpu_millicores(req.cpu) > cpu_millicores(lim.cpu):
        yield Problem("resources.requests.cpu", f"must not exceed resources.limits.cpu ({req.cpu} > {lim.cpu})")
    if memory_bytes(req.memory) > memory_bytes(lim.memory):
        yield Problem(
            "resources.requests.memory",
            f"must not exceed resources.limits.memory ({req.memory} > {lim.memory})",
        )
    shm = v.inference.shm_size or f"{v.gpu.count}Gi"
    if memory_bytes(shm) > memory_bytes(lim.memory):
        yield Problem(
            "inference.shmSize",
            f"must not exceed resources.limits.memory ({shm} > {lim.memory}); /dev/shm is memory",
        )
    cache = v.storage.model_cache
    if cache.offline and not cache.enabled:
        yield Problem(
            "storage.modelCache.offline",
            "needs storage.modelCache.enabled; offline, TGI loads weights only from the cache",
        )
    if cache.mount_path in ("/tmp", "/dev/shm"):
        yield Problem("storage.modelCache.mountPath", f"{cache.mount_path} is a volume of its own; choose another path")


def _environment(v: MlInferenceLoad) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, env in enumerate(v.environment_variables):
        where = f"environmentVariables[{i}]"
        if env.name in MANAGED_ENV:
            yield Problem(f"{where}.name", f"{env.name} is set by the chart; set {MANAGED_ENV[env.name]} instead")
            continue  # one problem per managed name is enough
        if env.name in seen:
            yield Problem(f"{where}.name", f"{env.name} is already set by environmentVariables[{seen[env.name]}]")
        seen.setdefault(env.name, i)
        if env.value is not None and env.secret_key_ref is not None:
            yield Problem(where, "set either value or secretKeyRef, not both")
        elif env.value is not None and re.search(SECRET_LIKE_ENV, env.name):
            yield Problem(
                f"{where}.value",
                f"{env.name} looks like a credential; take it from a Secret with secretKeyRef, not a literal value",
            )


def _scaling(v: MlInferenceLoad) -> Iterator[Problem]:
    auto = v.scaling.autoscaling
    if auto.enabled:
        if auto.min_replicas == 0:
            yield Problem("scaling.autoscaling.minReplicas", "0 needs something that holds requests during a cold "
                          "start (the KEDA HTTP add-on), which this chart does not render; use at least 1")  # fmt: skip
        if auto.min_replicas > auto.max_replicas:
            yield Problem("scaling.autoscaling.minReplicas", "must not exceed scaling.autoscaling.maxReplicas "
                          f"({auto.min_replicas} > {auto.max_replicas})")  # fmt: skip
        if not v.monitoring.service_monitor.enabled:
            yield Problem("scaling.autoscaling.enabled", "needs monitoring.serviceMonitor.enabled: the scaler reads "
                          "TGI's metrics from the Prometheus that scrapes it")  # fmt: skip
    cache = v.storage.model_cache
    if v.scaling.max_pods > 1 and cache.enabled and cache.access_mode != "ReadWriteMany":
        yield Problem("storage.modelCache.accessMode", f"{cache.access_mode} is mounted by one "
                      f"{'pod' if cache.access_mode == 'ReadWriteOncePod' else 'node'} at a time, and up to "
                      f"{v.scaling.max_pods} pods may land on different nodes: use ReadWriteMany (one download, "
                      "shared), or turn storage.modelCache.enabled off (each pod downloads its own copy)")  # fmt: skip


def cross_field_problems(v: MlInferenceLoad) -> Iterator[Problem]:
    """Every rule, in the order the templates check them."""
    for group in (_engine, _exposure, _credentials, _resources, _environment, _security, _scaling):
        yield from group(v)
