"""Where an engine's pod is on its way to serving, and why it failed: read from pod status, events and the
engine's log (each engine reads its own lines: Engine.read_progress and Engine.log_failures).

Pure functions over Kubernetes objects and log text, so they are tested on recorded objects and on real
engine log lines (tests/fixtures/recordings/); `workload deploy` and `workload verify` call them on live data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from workload.chart_facts import CONTAINER_NAME
from workload.engines import DEFAULT_ENGINE
from workload.engines import engine as engine_named
from workload.engines.base import Engine
from workload.engines.progress import Cause, Diagnosis, LogState, Phase
from workload.ops.kube import strip_ansi

__all__ = ["Cause", "Diagnosis", "LogState", "Phase"]  # where deploy, verify and the tests have read them


def read_log(lines: Iterable[str], engine: Engine | None = None) -> LogState:
    """Fold an engine's log lines into a LogState (phase and progress by the engine's reader, and the first
    failure seen, by its failure lines): the default engine's when none is given."""
    engine = engine or engine_named(DEFAULT_ENGINE)
    failures = engine.log_failures
    state = LogState()
    for raw in lines:
        line = strip_ansi(raw).rstrip()
        if not line:
            continue
        engine.read_progress(state, line)
        if state.diagnosis is None:
            for failure in failures:
                if m := failure.pattern.search(line):
                    detail = m.groupdict().get("detail")
                    problem = f"{failure.problem}: {detail}" if detail else failure.problem
                    state.diagnosis = Diagnosis(problem, failure.fix, line.strip())
                    break
    return state


def container_state(pod: dict[str, Any], name: str = CONTAINER_NAME) -> dict[str, Any]:
    """The container's current state: {"running": ...}, {"waiting": ...} or {"terminated": ...}."""
    return dict(_container_status(pod, name).get("state") or {})


def _container_status(pod: dict[str, Any], name: str = CONTAINER_NAME) -> dict[str, Any]:
    for status in pod.get("status", {}).get("containerStatuses", []) or []:
        if status.get("name") == name:
            return dict(status)
    return {}


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """The object's status condition of type `kind` ({} when it has none)."""
    for found in obj.get("status", {}).get("conditions", []) or []:
        if found.get("type") == kind:
            return dict(found)
    return {}


def pod_diagnosis(pod: dict[str, Any], events: list[dict[str, Any]], engine: Engine) -> Diagnosis | None:
    """A failure visible in the pod's status or events (scheduling, image, memory, secrets)."""
    scheduled = condition(pod, "PodScheduled")
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        message = scheduled.get("message", "")
        if "Insufficient" in message and "gpu" in message:
            return Diagnosis("no node has a free GPU", "free a GPU, add GPU nodes, or lower gpu.count", message,
                             Cause.UNSCHEDULABLE)  # fmt: skip
        if "untolerated taint" in message:
            return Diagnosis("the GPU nodes are tainted and the pod does not tolerate it",
                             "add the taint to gpu.tolerations", message, Cause.UNSCHEDULABLE)  # fmt: skip
        if "node affinity/selector" in message:
            return Diagnosis("no node matches gpu.nodeSelector", "check the GPU nodes' labels", message,
                             Cause.UNSCHEDULABLE)  # fmt: skip
        return Diagnosis("the pod cannot be scheduled", "read the message", message, Cause.UNSCHEDULABLE)
    status = _container_status(pod)
    waiting = container_state(pod).get("waiting") or {}
    reason, message = waiting.get("reason", ""), waiting.get("message", "")
    if reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName"):
        return Diagnosis(f"the {engine.title} image cannot be pulled",
                         "check inference.image.repository/tag/digest, and pullSecrets for a private mirror",
                         message or reason, Cause.IMAGE_PULL)  # fmt: skip
    if reason == "CreateContainerConfigError":
        fix = ("the ExternalSecret has not produced the Secret yet: kubectl describe externalsecret"
               if "secret" in message.lower() else "read the message")  # fmt: skip
        return Diagnosis("the container cannot be configured", fix, message)
    terminated = (status.get("lastState") or {}).get("terminated") or {}
    if terminated.get("reason") == "OOMKilled":
        return Diagnosis("the container ran out of memory (host memory, not GPU)",
                         "raise resources.limits.memory; /dev/shm (inference.shmSize) counts against it",
                         f"OOMKilled, exit code {terminated.get('exitCode')}")  # fmt: skip
    for event in events:
        if event.get("reason") == "FailedMount":
            return Diagnosis(
                "a volume cannot be mounted", "check storage.modelCache and the PVC", event.get("message", "")
            )
    return None


def creation_diagnosis(replica_set_events: list[dict[str, Any]], engine: Engine) -> Diagnosis | None:
    """Why the ReplicaSet could not create the pod (its newest FailedCreate event), with the fix."""
    failures = [e for e in replica_set_events if e.get("reason") == "FailedCreate"]
    if not failures:
        return None
    message = failures[-1].get("message", "")
    if "RuntimeClass" in message and "not found" in message:
        return Diagnosis("the RuntimeClass the pod asks for does not exist",
                         "install the GPU Operator's RuntimeClass, or set gpu.runtimeClassName (null where the "
                         "operator uses CDI)", message)  # fmt: skip
    if "violates PodSecurity" in message:
        return Diagnosis("the namespace's Pod Security level refuses the pod", root_fix(engine), message)
    if "exceeded quota" in message:
        return Diagnosis("the namespace's ResourceQuota refuses the pod", "raise the quota or lower the requests",
                         message)  # fmt: skip
    return Diagnosis("the pod cannot be created", "read the message", message)


def pod_phase(pod: dict[str, Any] | None, events: list[dict[str, Any]], log: LogState) -> Phase:
    """The phase from status first, then the log for a running container."""
    if pod is None:
        return Phase.SCHEDULING
    if condition(pod, "PodScheduled").get("status") != "True":
        return Phase.SCHEDULING
    status = _container_status(pod)
    if status.get("ready"):
        return Phase.READY
    state = container_state(pod)
    if (state.get("waiting") or {}).get("reason") == "CreateContainerConfigError":  # pulled; no config for it
        return Phase.STARTING
    if not state.get("running") and not crash_looping(pod):
        return Phase.PULLING_IMAGE
    # Running, or restarting after a crash (then the phase is where the last run's log stopped). Only
    # the kubelet's Ready makes it ready: a log that says "Connected" is at most warming up.
    return log.phase if log.phase is not Phase.READY else Phase.WARMING_UP


def stuck_diagnosis(
    pod: dict[str, Any], events: list[dict[str, Any]], log: LogState, engine: Engine
) -> Diagnosis | None:
    """Why a pod that was scheduled and started does not get Ready, when neither its status nor its log
    names a specific failure: the kubelet's probe events, or a crash loop. Read after pod_diagnosis and
    the log's own diagnosis, which are more specific."""
    probe_kills = [e for e in events if e.get("reason") == "Killing" and "failed startup probe" in e.get("message", "")]
    if probe_kills:
        return Diagnosis(f"the startup probe gave up before {engine.title} opened its port (the kubelet restarted it)",
                         "raise healthCheck.startupTimeoutSeconds to cover the download and load of the weights",
                         probe_kills[-1].get("message", ""))  # fmt: skip
    waiting = container_state(pod).get("waiting") or {}
    if waiting.get("reason") == "CrashLoopBackOff":
        status = _container_status(pod)
        terminated = (status.get("lastState") or {}).get("terminated") or {}
        name = pod.get("metadata", {}).get("name", "POD")
        return Diagnosis(
            f"the {engine.title} container keeps exiting (exit code {terminated.get('exitCode', '?')}, "
            f"{status.get('restartCount', 0)} restarts)",
            f"read the last run's log: kubectl logs {name} -c {CONTAINER_NAME} --previous",
            waiting.get("message") or terminated.get("reason", ""))  # fmt: skip
    if log.phase is Phase.READY:  # the log says the engine serves, yet the kubelet does not call it ready
        failures = [
            e for e in events if e.get("reason") == "Unhealthy" and "Readiness probe failed" in e.get("message", "")
        ]
        if failures:
            return Diagnosis(f"{engine.title} is serving, but its readiness probe keeps failing",
                             engine.probes.readiness_failing, failures[-1].get("message", ""), Cause.PROBE)  # fmt: skip
    return None


def root_fix(engine: Engine) -> str:
    """How to run the engine where Pod Security 'restricted' refuses uid 0, from its image facts."""
    image = engine.image
    derived = (
        f"the derived image ({image.non_root_recipe.removesuffix('/Dockerfile')}) with inference.image.runsAsNonRoot"
    )
    if image.root_only_since is None:
        return f"set podSecurityContext.runAsUser to a non-zero uid, or use {derived}"
    since = f"stock {engine.title} >= {image.root_only_since} runs as uid 0"
    return f"{since} and needs 'baseline'; for 'restricted' use {derived}"


def crash_looping(pod: dict[str, Any]) -> bool:
    waiting = container_state(pod).get("waiting") or {}
    return waiting.get("reason") == "CrashLoopBackOff" or int(_container_status(pod).get("restartCount", 0)) > 0
