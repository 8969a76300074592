"""`workload deploy`, a straight line of steps: validate, preflight, install (helm upgrade --install), follow
the pod through its phases to Ready, and diagnose what stopped it, with a fix, within the startup budget.

`deploy()` runs them in that order; each step is a function of its own, tested alone. What a person reads
goes through a `Printer`, so the command line only parses arguments and prints."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workload.engines.base import Engine
from workload.errors import ExitCode, run_tool
from workload.helm import find_helm
from workload.models.ml_inference_load import MlInferenceLoad
from workload.models.ml_inference_load.rules import engine_of
from workload.ops.external_secrets import secret_diagnosis
from workload.ops.kube import Kubectl
from workload.ops.phases import (
    Cause,
    Diagnosis,
    LogState,
    Phase,
    container_state,
    crash_looping,
    creation_diagnosis,
    pod_diagnosis,
    pod_phase,
    read_log,
    stuck_diagnosis,
)

if TYPE_CHECKING:
    from workload.ops.preflight import Blocker
    from workload.sizing.metadata import ModelFacts

UNSCHEDULABLE_GRACE_SECONDS = 120  # a cluster autoscaler may still be adding a GPU node
PROBE_GRACE_SECONDS = 60  # six readiness periods of failures after "Connected" before calling it stuck
SECRET_GRACE_SECONDS = 20  # ESO retries a failed sync after 1 s, 2 s, 4 s, ...: a secret written meanwhile is read
_pause = time.sleep
_clock = time.monotonic


@dataclass(frozen=True)
class Printer:
    """Where `deploy` writes: a line for standard output, one for standard error, and the success line."""

    out: Callable[[str], None]
    err: Callable[[str], None]
    success: Callable[[str], None]


@dataclass(frozen=True)
class DeployRequest:
    """What `workload deploy` was asked to do (its command line)."""

    file: Path
    release: str | None = None
    namespace: str | None = None
    context: str | None = None
    check: bool = False
    skip_preflight: bool = False
    model_dir: Path | None = None


def deploy(request: DeployRequest, printer: Printer) -> ExitCode:
    """Validate, preflight, install, follow, diagnose."""
    from workload.ops.preflight import preflight_with_metadata  # noqa: PLC0415 (sizing, only when deploying)
    from workload.sizing.workload import dashboard_sizing  # noqa: PLC0415
    from workload.validation import check_values_file  # noqa: PLC0415

    file = request.file
    checked = check_values_file(file)  # 1. validate
    values, member = checked.values, checked.member
    if not isinstance(values, MlInferenceLoad) or member is None:
        for problem in checked.problems:
            printer.err(f"{file}: {problem}")
        return ExitCode.FAILED
    release = request.release or values.service_name
    namespace = request.namespace or values.namespace or "default"
    helm = str(find_helm())  # a missing helm is said before the cluster is asked anything
    kube = Kubectl(namespace, request.context)
    blockers: list[Blocker] = []  # 2. preflight
    facts: ModelFacts | None = None
    if not request.skip_preflight:
        blockers, facts = preflight_with_metadata(file, values, kube, request.model_dir, printer.out)
    for blocker in blockers:
        printer.err(f"{file}: preflight: {blocker}")
    if request.check:
        if not blockers:
            printer.out(f"{file}: preflight: nothing stops {values.service_name} in namespace {namespace}")
        return ExitCode.FAILED if blockers else ExitCode.OK
    if blockers:
        printer.err("not installed: fix the above, or pass --skip-preflight")
        return ExitCode.FAILED
    budget = float(values.health_check.startup_timeout_seconds)
    sizing = dashboard_sizing(values, facts) if facts is not None else ""
    command = helm_upgrade_command(helm, release, member.chart_dir, file, namespace, sizing=sizing)
    printer.out(f"installing release {release} in {namespace} (startup budget {budget:.0f} s)")
    if failure := run_helm(command):  # 3. install
        printer.err(f"{file}: helm: {failure}")
        return ExitCode.FAILED
    labels = {"app": values.service_name, "app.kubernetes.io/name": member.chart_name,
              "app.kubernetes.io/instance": release}  # fmt: skip
    engine = engine_of(values)
    outcome = watch(kube, labels, budget, phase_printer(printer, engine), engine=engine)  # 4. follow
    return report(outcome, release, namespace, printer, engine)  # 5. diagnose


def phase_printer(printer: Printer, engine: Engine) -> Callable[[Progress], None]:
    """Prints each phase once, when the pod enters it, with its elapsed time."""
    seen: list[Phase] = []

    def show(progress: Progress) -> None:
        if not seen or seen[-1] is not progress.phase:
            seen.append(progress.phase)
            detail = f": {progress.detail}" if progress.detail else ""
            printer.out(f"[{progress.elapsed:6.0f} s] {progress.phase.text(engine.title)}{detail}")

    return show


def report(outcome: Outcome, release: str, namespace: str, printer: Printer, engine: Engine) -> ExitCode:
    """Ready and how to check it, or the diagnosis: what failed, what was seen, the fix."""
    if outcome.ready:
        printer.success(f"ready after {outcome.elapsed:.0f} s")
        printer.out(f"check it: workload verify --release {release} --namespace {namespace}")
        return ExitCode.OK
    diagnosis = outcome.diagnosis
    assert diagnosis is not None
    printer.err(f"failed while {outcome.phase.text(engine.title)}: {diagnosis.problem}")
    if diagnosis.evidence:
        printer.err(f"  seen: {diagnosis.evidence}")
    printer.err(f"  fix:  {diagnosis.fix}")
    return ExitCode.FAILED


def helm_upgrade_command(
    helm: str, release: str, chart: Path, values: Path, namespace: str, *, sizing: str = ""
) -> list[str]:
    """Install or upgrade without --wait: the watch below reports progress instead of a silent wait. `sizing`
    is `workload size`'s plan for the dashboard's description."""
    escaped = sizing.replace(",", "\\,")  # --set-string splits values at unescaped commas
    extra = ["--set-string", f"monitoring.grafanaDashboard.sizing={escaped}"] if sizing else []
    return [helm, "upgrade", "--install", release, str(chart), "--namespace", namespace, "--create-namespace",
            "--values", str(values), *extra]  # fmt: skip


def run_helm(command: list[str]) -> str | None:
    """Run helm; the first error line on failure, else None (a helm that cannot run is a ToolError)."""
    result = run_tool(command)
    if result.returncode == 0:
        return None
    return next((ln for ln in result.stderr.splitlines() if ln.strip()), "helm failed").removeprefix("Error: ")


@dataclass(frozen=True)
class Progress:
    phase: Phase
    detail: str
    elapsed: float


@dataclass(frozen=True)
class Outcome:
    ready: bool
    phase: Phase
    elapsed: float
    diagnosis: Diagnosis | None = None


def _newest(pods: list[dict[str, Any]]) -> dict[str, Any] | None:
    return max(pods, key=lambda p: p["metadata"].get("creationTimestamp", ""), default=None)


def snapshot(
    kube: Kubectl, labels: dict[str, str], engine: Engine
) -> tuple[dict[str, Any] | None, list[dict[str, Any]], LogState]:
    """The newest pod, its events and what its log (or its last crashed run's log) says."""
    pod = _newest(kube.find("pods", labels))
    if pod is None:
        # No pod yet: the ReplicaSet's events say why one could not be created (RuntimeClass, Pod Security).
        replica_set = _newest(kube.find("replicasets", labels))
        events = kube.events_for("ReplicaSet", replica_set["metadata"]["name"]) if replica_set else []
        return None, events, LogState()
    name = pod["metadata"]["name"]
    events = kube.events_for("Pod", name)
    running = bool(container_state(pod).get("running"))
    text = kube.logs(name, tail=2000) if running else ""
    if crash_looping(pod) and not running:
        text = kube.logs(name, tail=2000, previous=True)
    return pod, events, read_log(text.splitlines(), engine)


def watch(
    kube: Kubectl,
    labels: dict[str, str],
    budget_seconds: float,
    on_progress: Callable[[Progress], None],
    *,
    engine: Engine,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    interval: float = 2.0,
) -> Outcome:
    sleep = sleep or _pause  # module attributes, looked up per call, so a test can replace them
    clock = clock or _clock
    start = clock()
    last = Phase.SCHEDULING
    first_seen: dict[str, float] = {}  # problem -> when the watch first saw it
    while True:
        elapsed = clock() - start
        pod, events, log = snapshot(kube, labels, engine)
        phase = pod_phase(pod, events, log)
        last = phase
        on_progress(Progress(phase, log.detail(), elapsed))
        if phase is Phase.READY:
            return Outcome(True, phase, elapsed)
        diagnosis = (pod_diagnosis(pod, events, engine) if pod else creation_diagnosis(events, engine)) or log.diagnosis
        if (
            pod is not None
            and (container_state(pod).get("waiting") or {}).get("reason") == "CreateContainerConfigError"
        ):
            # Most often the Secret an ExternalSecret has not produced: ESO's reason, when the release has one.
            diagnosis = secret_diagnosis(kube, labels["app.kubernetes.io/instance"]) or diagnosis
        if diagnosis is None and pod is not None:
            diagnosis = stuck_diagnosis(pod, events, log, engine)
        if diagnosis and _fatal(diagnosis, pod, elapsed - first_seen.setdefault(diagnosis.problem, elapsed)):
            return Outcome(False, phase, elapsed, diagnosis)
        if elapsed >= budget_seconds:
            return Outcome(False, last, elapsed, Diagnosis(
                f"not ready within the startup budget ({budget_seconds:.0f} s), last seen: {phase.text(engine.title)}",
                "raise healthCheck.startupTimeoutSeconds for a large model or slow link, and read the pod log",
                log.detail()))  # fmt: skip
        sleep(interval)


def _fatal(diagnosis: Diagnosis, pod: dict[str, Any] | None, seen_for: float) -> bool:
    """Whether to stop on a diagnosis that the watch has seen for `seen_for` seconds."""
    if diagnosis.cause is Cause.UNSCHEDULABLE:
        return seen_for >= UNSCHEDULABLE_GRACE_SECONDS
    if diagnosis.cause is Cause.PROBE:
        return seen_for >= PROBE_GRACE_SECONDS
    if diagnosis.cause is Cause.SECRET:
        return seen_for >= SECRET_GRACE_SECONDS
    if diagnosis.cause is Cause.IMAGE_PULL and pod is not None:
        waiting = container_state(pod).get("waiting") or {}
        return waiting.get("reason") != "ErrImagePull"  # a first pull error may be transient; BackOff is not
    return True
