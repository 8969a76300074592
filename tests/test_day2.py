"""Day-2 commands without a GPU cluster: the real kubectl against recorded API objects (served by
tests/fake_apiserver.py), the TGI log-phase parser on TGI's own log lines, and `workload verify`
against the TGI test server. See tests/fixtures/recordings/README.md for what the recordings are."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import FIXTURES, missing
from fake_apiserver import ClusterState, serving, write_kubeconfig
from recordings import POD_NAME, log, pod, recording
from simulated import Running, simulated
from workload.chart_facts import ENGINE_ANNOTATION
from workload.cli import app
from workload.engines import DEFAULT_ENGINE, engine
from workload.engines.tgi.simulator import Settings
from workload.errors import ExitCode
from workload.kubeschema import CrdSchemas, builtin_errors
from workload.ops.deploy import (
    DeployRequest,
    Outcome,
    Printer,
    Progress,
    deploy,
    helm_upgrade_command,
    phase_printer,
    report,
    run_helm,
    watch,
)
from workload.ops.kube import Kubectl
from workload.ops.phases import (
    Cause,
    Diagnosis,
    LogState,
    Phase,
    creation_diagnosis,
    pod_diagnosis,
    read_log,
    stuck_diagnosis,
)
from workload.ops.verify import verify
from workload.paths import tools_bin

NAMESPACE = "ml-inference"
TGI = engine(DEFAULT_ENGINE)
LABELS = {
    "app": "qwen-small",
    "app.kubernetes.io/name": "ml-inference-load",
    "app.kubernetes.io/instance": "qwen-small",
}


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ClusterState, Kubectl]]:
    """A recorded cluster served to the real kubectl through a kubeconfig of its own."""
    binary = tools_bin() / "kubectl"
    if not binary.exists():
        missing(str(binary))
    state = ClusterState()
    with serving(state) as server:
        monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", server, NAMESPACE)))
        yield state, Kubectl(NAMESPACE, binary=str(binary))


def set_pod(state: ClusterState, status: str, text: str = "", previous: str = "", events: str = "") -> None:
    state.put(pod(status))
    state.logs[(NAMESPACE, POD_NAME)] = text
    state.previous_logs[(NAMESPACE, POD_NAME)] = previous
    state.objects.setdefault(NAMESPACE, {})["events"] = copy.deepcopy(recording("events.yaml").get(events, []))


# -- the recordings are real Kubernetes objects ------------------------------------------------------


@pytest.mark.parametrize("status", sorted(recording("pod-statuses.yaml")))
def test_recorded_pods_pass_the_strict_schema(status: str) -> None:
    assert builtin_errors(pod(status), "1.37") == []


def test_recorded_objects_pass_their_schemas(crds: CrdSchemas) -> None:
    for name in ("deployment.yaml", "secret-api-key.yaml"):
        assert builtin_errors(recording(name), "1.37") == [], name
    for event in recording("events.yaml")["pulling"]:
        assert builtin_errors(event, "1.37") == []
    assert crds.errors(recording("httproute.yaml"), "gateway-api-v1.6.1-httproutes.yaml") == []


# -- TGI's log, phase by phase -----------------------------------------------------------------------


def test_log_of_a_download_that_reaches_connected() -> None:
    state = read_log(log("download-ready.log").splitlines())
    assert state.phase is Phase.READY
    assert state.loaded
    assert not state.cache_hit
    assert (state.files_done, state.files_total) == (1, 1)
    assert (state.shards_ready, state.shards_total) == (1, 1)
    assert state.kv_cache_tokens == 418368
    assert state.diagnosis is None


def test_log_of_a_download_in_progress_shows_file_progress() -> None:
    state = read_log(log("download-in-progress.log").splitlines())
    assert state.phase is Phase.DOWNLOADING
    assert state.detail() == "meta-llama/Llama-3.1-8B-Instruct 1/4 files, now model-00002-of-00004.safetensors"


def test_log_of_a_cache_hit() -> None:
    state = read_log(log("cache-hit-ready.log").splitlines())
    assert state.cache_hit
    assert state.phase is Phase.READY


@pytest.mark.parametrize(
    ("name", "problem", "fix"),
    [
        ("gated-model.log", "the model is gated", "vault.hfTokenPath"),
        ("argument-validation.log", "TGI refused its settings: `max_input_tokens` must be < `max_total_tokens`", ""),
        ("shard-failed-cuda-oom.log", "the model does not fit in GPU memory", "gpu.count"),
    ],
)
def test_log_failures_are_diagnosed(name: str, problem: str, fix: str) -> None:
    diagnosis = read_log(log(name).splitlines()).diagnosis
    assert diagnosis is not None
    assert diagnosis.problem.startswith(problem)
    assert fix in diagnosis.fix
    assert diagnosis.evidence


def test_ansi_colours_do_not_hide_lines() -> None:
    coloured = "\x1b[2m2026-11-27T09:01:32Z\x1b[0m \x1b[32m INFO\x1b[0m router: Connected"
    assert read_log([coloured]).phase is Phase.READY


@pytest.mark.parametrize(
    ("status", "problem"),
    [
        ("unschedulable", "no node has a free GPU"),
        ("image-pull-backoff", "the TGI image cannot be pulled"),
        ("oom-killed", "the container ran out of memory"),
    ],
)
def test_pod_status_failures_are_diagnosed(status: str, problem: str) -> None:
    diagnosis = pod_diagnosis(pod(status), [], TGI)
    assert diagnosis is not None
    assert diagnosis.problem.startswith(problem)
    assert diagnosis.fix


def event(reason: str, message: str) -> dict[str, Any]:
    return {"type": "Warning", "reason": reason, "message": message}


READINESS_503 = event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503")


def test_a_crash_loop_without_a_known_error_says_where_to_look() -> None:
    diagnosis = stuck_diagnosis(pod("crash-loop"), [], LogState(), TGI)
    assert diagnosis is not None
    assert diagnosis.problem.startswith("the TGI container keeps exiting (exit code ")
    assert f"kubectl logs {POD_NAME} -c inference --previous" in diagnosis.fix


def test_a_startup_probe_that_kills_the_container_names_the_budget() -> None:
    # The kubelet's event when the startup probe's failureThreshold runs out (pkg/kubelet/prober).
    killing = event("Killing", "Container inference failed startup probe, will be restarted")
    diagnosis = stuck_diagnosis(pod("crash-loop"), [killing], LogState(), TGI)
    assert diagnosis is not None
    assert "healthCheck.startupTimeoutSeconds" in diagnosis.fix


def test_a_readiness_probe_failing_after_connected_is_stuck_only_then() -> None:
    connected = read_log(log("cache-hit-ready.log").splitlines())
    diagnosis = stuck_diagnosis(pod("running"), [READINESS_503], connected, TGI)
    assert diagnosis is not None
    assert diagnosis.cause is Cause.PROBE
    assert stuck_diagnosis(pod("running"), [READINESS_503], LogState(phase=Phase.LOADING), TGI) is None  # still loading
    assert stuck_diagnosis(pod("running"), [], connected, TGI) is None


def test_diagnoses_and_phases_name_the_engine_they_are_given() -> None:
    # The core's words come from the engine's facts: another engine's pod is never called TGI's.
    other = dataclasses.replace(
        TGI, name="other", title="Other", image=dataclasses.replace(TGI.image, root_only_since=None),
        probes=dataclasses.replace(TGI.probes, readiness_failing="read Other's log"),
    )  # fmt: skip
    connected = read_log(log("cache-hit-ready.log").splitlines())
    refusal = [event("FailedCreate", "pods is forbidden: violates PodSecurity")]
    found = [
        pod_diagnosis(pod("image-pull-backoff"), [], other),
        stuck_diagnosis(pod("crash-loop"), [], LogState(), other),
        stuck_diagnosis(pod("running"), [READINESS_503], connected, other),
        creation_diagnosis(refusal, other),
        creation_diagnosis(refusal, TGI),
    ]
    problems, fixes = [d.problem if d else "" for d in found], [d.fix if d else "" for d in found]
    assert problems[:3] == ["the Other image cannot be pulled", "the Other container keeps exiting (exit code 1, "
                            "2 restarts)", "Other is serving, but its readiness probe keeps failing"]  # fmt: skip
    assert fixes[2:] == [
        "read Other's log",
        "set podSecurityContext.runAsUser to a non-zero uid, or use the derived image (images/tgi-nonroot) with "
        "inference.image.runsAsNonRoot",
        "stock TGI >= 3.1.1 runs as uid 0 and needs 'baseline'; for 'restricted' use the derived image "
        "(images/tgi-nonroot) with inference.image.runsAsNonRoot",
    ]
    assert (Phase.STARTING.text("Other"), Phase.STARTING.text(TGI.title)) == ("starting Other", "starting TGI")


# -- workload deploy's watch, through the real kubectl ------------------------------------------------


class Timeline:
    """Advances the recorded cluster one step per poll, and a fake clock by `seconds` per poll."""

    def __init__(self, state: ClusterState, steps: list[dict[str, str]], seconds: float = 10) -> None:
        self.state, self.steps, self.seconds, self.now, self.index = state, steps, seconds, 0.0, 0
        set_pod(state, **steps[0])

    def sleep(self, _interval: float) -> None:
        self.now += self.seconds
        self.index = min(self.index + 1, len(self.steps) - 1)
        set_pod(self.state, **self.steps[self.index])

    def clock(self) -> float:
        return self.now


def run_watch(kube: Kubectl, timeline: Timeline, budget: float = 1800) -> tuple[Outcome, list[Progress]]:
    seen: list[Progress] = []
    outcome = watch(kube, LABELS, budget, seen.append, engine=TGI, sleep=timeline.sleep, clock=timeline.clock)
    return outcome, seen


def test_watch_follows_a_model_load_to_ready(cluster: tuple[ClusterState, Kubectl]) -> None:
    state, kube = cluster
    steps = [
        {"status": "pulling", "events": "pulling"},
        {"status": "running", "text": log("download-in-progress.log")},
        {"status": "running", "text": log("cache-hit-ready.log").split("Warming")[0]},
        {"status": "running", "text": log("cache-hit-ready.log")},
        {"status": "ready", "text": log("cache-hit-ready.log")},
    ]
    outcome, seen = run_watch(kube, Timeline(state, steps))
    assert outcome.ready
    assert [p.phase for p in seen] == [
        Phase.PULLING_IMAGE, Phase.DOWNLOADING, Phase.LOADING, Phase.WARMING_UP, Phase.READY,
    ]  # fmt: skip
    assert "1/4 files" in seen[1].detail
    assert any("/pods?labelSelector=" in r for r in state.requests), "the real kubectl did the reading"


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        ({"status": "image-pull-backoff"}, "the TGI image cannot be pulled"),
        ({"status": "oom-killed", "previous": log("download-ready.log")}, "the container ran out of memory"),
        ({"status": "crash-loop", "previous": log("gated-model.log")}, "the model is gated"),
        ({"status": "crash-loop", "previous": log("argument-validation.log")}, "TGI refused its settings"),
        ({"status": "running", "text": log("shard-failed-cuda-oom.log")}, "the model does not fit in GPU memory"),
    ],
    ids=["image", "oom-killed", "gated", "arguments", "shard-cuda-oom"],
)
def test_watch_stops_with_a_diagnosis(
    cluster: tuple[ClusterState, Kubectl], step: dict[str, str], problem: str
) -> None:
    state, kube = cluster
    outcome, _ = run_watch(kube, Timeline(state, [step]))
    assert not outcome.ready
    assert outcome.diagnosis is not None
    assert outcome.diagnosis.problem.startswith(problem)


def test_unschedulable_waits_for_an_autoscaler_then_fails(cluster: tuple[ClusterState, Kubectl]) -> None:
    state, kube = cluster
    outcome, seen = run_watch(kube, Timeline(state, [{"status": "unschedulable"}], seconds=30))
    assert outcome.diagnosis is not None
    assert outcome.diagnosis.problem == "no node has a free GPU"
    assert "Insufficient nvidia.com/gpu" in outcome.diagnosis.evidence
    assert outcome.elapsed >= 120
    assert len(seen) > 1


def test_a_load_slower_than_the_budget_times_out(cluster: tuple[ClusterState, Kubectl]) -> None:
    state, kube = cluster
    timeline = Timeline(state, [{"status": "running", "text": log("download-in-progress.log")}], seconds=60)
    outcome, _ = run_watch(kube, timeline, budget=300)
    assert outcome.diagnosis is not None
    assert outcome.diagnosis.problem.startswith("not ready within the startup budget (300 s)")
    assert "startupTimeoutSeconds" in outcome.diagnosis.fix


def test_helm_command_installs_without_waiting(tmp_path: Path) -> None:
    command = helm_upgrade_command("helm", "r", Path("/c"), tmp_path / "v.yaml", "ns")
    assert command[:4] == ["helm", "upgrade", "--install", "r"]
    assert "--wait" not in command
    assert "--create-namespace" in command


def test_deploy_reports_an_unreachable_cluster_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real helm, with no cluster to talk to: one line, exit 1, no traceback."""
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "k", "http://127.0.0.1:9", "ns")))
    monkeypatch.setenv("WORKLOAD_HELM", str(tools_bin() / "helm4"))
    values = str(FIXTURES.parent.parent / "examples" / "minimal.yaml")
    # The preflight asks the cluster first: an unreachable one is exit 4 (workload/errors.py), one line.
    checked = CliRunner().invoke(app, ["deploy", values])
    assert checked.exit_code == 4
    assert checked.output.startswith("deploy: ")
    assert checked.output.count("\n") == 1
    # Without it, helm is the first to find out.
    result = CliRunner().invoke(app, ["deploy", values, "--skip-preflight"])
    assert result.exit_code == 1
    assert "helm:" in result.output
    assert "Traceback" not in result.output + checked.output
    assert run_helm([str(tools_bin() / "helm4"), "status", "nothing"]) is not None


# -- workload verify ----------------------------------------------------------------------------------


@pytest.fixture
def released(cluster: tuple[ClusterState, Kubectl]) -> Iterator[tuple[ClusterState, Kubectl, Running, str]]:
    """A rolled-out release with an API key and a route, and `workload simulate` standing in for the pod.
    Every answer it gave must match TGI's published schemas."""
    state, kube = cluster
    for name in ("deployment.yaml", "secret-api-key.yaml", "httproute.yaml"):
        state.put(recording(name))
    set_pod(state, "ready", log("download-ready.log"))
    with simulated(Settings(model_id="Qwen/Qwen2.5-0.5B-Instruct", api_key="test-key")) as tgi:
        yield state, kube, tgi, tgi.url
        assert tgi.schema_errors() == []


def test_verify_passes_every_check_on_a_healthy_release(released: tuple[ClusterState, Kubectl, Running, str]) -> None:
    _, kube, _, url = released
    checks = verify(kube, "qwen-small", url=url, gateway_url=url)
    assert [(c.name, c.ok) for c in checks] == [
        ("rollout", True), ("model loaded", True), ("health", True), ("info", True), ("generate", True),
        ("generate_stream", True), ("chat_completion", True), ("metrics", True), ("gateway", True),
    ], checks  # fmt: skip
    assert checks[7].detail == "tgi_request_count 0 -> 3"


def test_verify_reports_the_cold_start_and_the_autoscaler(released: tuple[ClusterState, Kubectl, Running, str]) -> None:
    """The recorded pod went from scheduled (09:00:02) to Ready (09:03:10); KEDA's HPA (a constructed
    recording, in the shape autoscaling/v2 reports) reads the active-requests trigger."""
    state, kube, _, url = released
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "keda-hpa-qwen-small", "namespace": NAMESPACE},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "qwen-small"},
                    "minReplicas": 1, "maxReplicas": 4, "metrics": []},
           "status": {"currentReplicas": 2, "desiredReplicas": 2, "currentMetrics": [
               {"type": "External", "external": {"metric": {"name": "s0-prometheus"},
                                                 "current": {"averageValue": "3"}}}]}}  # fmt: skip
    assert builtin_errors(hpa, "1.37") == []
    state.put(hpa)
    checks = {c.name: c for c in verify(kube, "qwen-small", url=url, gateway_url=url)}
    assert checks["model loaded"].detail.endswith("cold start 188 s (scheduled to Ready)")
    assert checks["autoscaler"].ok
    assert checks["autoscaler"].detail == "hpa/keda-hpa-qwen-small (KEDA's) reads s0-prometheus = 3; 2 replicas (1-4)"
    hpa["status"] = {"conditions": [{"type": "ScalingActive", "status": "False", "reason": "FailedGetExternalMetric",
                                     "message": "the HPA was unable to compute the replica count"}]}  # fmt: skip
    failed = {c.name: c for c in verify(kube, "qwen-small", url=url, gateway_url=url)}["autoscaler"]
    assert not failed.ok
    assert failed.detail.endswith("reads no value: the HPA was unable to compute the replica count")


def test_verify_says_what_to_look_at(released: tuple[ClusterState, Kubectl, Running, str]) -> None:
    state, kube, tgi, url = released
    set_pod(state, "running", log("download-in-progress.log"))
    tgi.settings.model_id = "someone/else"
    checks = {c.name: c for c in verify(kube, "qwen-small", url=url, gateway_url=url)}
    assert not checks["model loaded"].ok
    assert "downloading weights" in checks["model loaded"].detail
    assert f"logs {POD_NAME}" in checks["model loaded"].hint
    assert not checks["info"].ok
    assert "someone/else" in checks["info"].detail


def test_verify_asks_the_engine_the_deployment_names(released: tuple[ClusterState, Kubectl, Running, str]) -> None:
    """The chart annotates a Deployment whose engine is not the default; one this CLI does not know is one
    failed check with what to do, not a stack trace."""
    state, kube, _, url = released
    deployment = recording("deployment.yaml")
    deployment["metadata"].setdefault("annotations", {})[ENGINE_ANNOTATION] = DEFAULT_ENGINE
    state.put(deployment)
    assert all(c.ok for c in verify(kube, "qwen-small", url=url, gateway_url=url))
    deployment["metadata"]["annotations"][ENGINE_ANNOTATION] = "from-the-future"
    state.put(deployment)
    checks = verify(kube, "qwen-small", url=url, gateway_url=url)
    assert [(c.name, c.ok) for c in checks] == [("rollout", True), ("model loaded", False), ("gateway", False)]
    assert "runs engine 'from-the-future', which this workload CLI does not know" in checks[1].detail


def test_verify_on_a_cluster_without_the_gateway_api(released: tuple[ClusterState, Kubectl, Running, str]) -> None:
    """kubectl api-resources exits 0 with empty output for a missing group: no route check, no error."""
    state, kube, _, url = released
    state.missing_groups.add("gateway.networking.k8s.io")
    checks = verify(kube, "qwen-small", url=url)
    assert [c.name for c in checks][-1] == "metrics"
    assert all(c.ok for c in checks), checks


def test_verify_url_alone_needs_no_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    """A team checking its gateway from outside: --url without --release runs the HTTP checks only."""
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    monkeypatch.setenv("WORKLOAD_API_KEY", "test-key")
    with simulated(Settings(model_id="Qwen/Qwen2.5-0.5B-Instruct", api_key="test-key")) as tgi:
        result = CliRunner().invoke(app, ["verify", "--url", tgi.url, "--model-id", "Qwen/Qwen2.5-0.5B-Instruct"])
    assert result.exit_code == 0, result.output
    assert [line.split()[1] for line in result.output.splitlines() if line.startswith("│")] == [
        "health", "info", "generate", "generate_stream", "chat_completion", "metrics",
    ]  # fmt: skip


def test_verify_table_is_printed_whole_into_a_file() -> None:
    """Not a terminal: no folding at 80 columns, each check on one line."""
    with simulated(Settings(model_id="m")) as tgi:
        tgi.settings.healthy = False
        result = CliRunner().invoke(app, ["verify", "--url", tgi.url])
    rows = [line for line in result.output.splitlines() if line.startswith("│")]
    assert len(rows) == 6, result.output
    assert max(len(row) for row in rows) > 80


def test_verify_with_an_unreachable_url_fails_checks_not_the_command() -> None:
    result = CliRunner().invoke(app, ["verify", "--url", "http://127.0.0.1:9", "--output", "json"])
    assert result.exit_code == 1
    checks = json.loads(result.output)
    assert [c["ok"] for c in checks] == [False] * 6
    assert checks[0]["detail"].startswith("no answer")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["verify", "--url", "http://x", "-o", "xml"], 2, "'xml' is not one of"),
        (["validate", "examples/minimal.yaml", "-o", "xml"], 2, "'xml' is not one of"),
        (["verify"], 2, "verify: give --release (a release in the cluster) or --url (a server to check)"),
        (["verify", "--url", "http://x", "--engine", "nope"], 2, "verify: --engine 'nope' is not one of tgi"),
        (["render", "examples/minimal.yaml"], 3, "render: WORKLOAD_HELM=/nonexistent/helm: no such file"),
        (["deploy", "examples/minimal.yaml"], 3, "deploy: WORKLOAD_HELM=/nonexistent/helm: no such file"),
    ],
    ids=["verify-format", "validate-format", "verify-nothing-to-check", "verify-engine", "render-helm", "deploy-helm"],
)
def test_failures_are_one_line_with_their_exit_code(
    monkeypatch: pytest.MonkeyPatch, args: list[str], code: int, message: str
) -> None:
    monkeypatch.setenv("WORKLOAD_HELM", "/nonexistent/helm")
    monkeypatch.chdir(FIXTURES.parent.parent)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in " ".join(result.output.split()), result.output


def test_verify_without_the_release(cluster: tuple[ClusterState, Kubectl]) -> None:
    _, kube = cluster
    checks = verify(kube, "missing", url="http://127.0.0.1:9")
    assert checks[0].name == "rollout"
    assert not checks[0].ok
    assert "helm list" in checks[0].hint
    assert all(c.detail.startswith("skipped") for c in checks[1:])


def test_verify_command_output(
    released: tuple[ClusterState, Kubectl, Running, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, kube, _, url = released
    monkeypatch.setenv("WORKLOAD_KUBECTL", kube.binary)
    args = ["verify", "--release", "qwen-small", "--namespace", NAMESPACE, "--url", url, "--gateway-url", url]
    result = CliRunner().invoke(app, [*args, "--output", "json"])
    assert result.exit_code == 0, result.output
    assert all(c["ok"] for c in json.loads(result.output))
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0
    assert "generate_stream" in table.output


def test_verify_command_exits_1_and_names_what_to_look_at(
    released: tuple[ClusterState, Kubectl, Running, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, kube, tgi, url = released
    tgi.settings.healthy = False
    monkeypatch.setenv("WORKLOAD_KUBECTL", kube.binary)
    args = ["verify", "--release", "qwen-small", "--namespace", NAMESPACE, "--url", url, "--output", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    health = next(c for c in json.loads(result.output) if c["name"] == "health")
    assert health["ok"] is False
    assert health["hint"]


def test_deploy_command_prints_phases_and_a_diagnosis(
    cluster: tuple[ClusterState, Kubectl], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command end to end with the real kubectl; only the install itself, which needs a cluster, is
    replaced (helm upgrade --install cannot run against recorded objects)."""
    state, kube = cluster
    timeline = Timeline(state, [
        {"status": "pulling", "events": "pulling"},
        {"status": "running", "text": log("download-in-progress.log")},
        {"status": "crash-loop", "previous": log("gated-model.log")},
    ])  # fmt: skip
    installs: list[list[str]] = []
    monkeypatch.setattr("workload.ops.deploy.run_helm", installs.append)
    monkeypatch.setattr("workload.ops.deploy._pause", timeline.sleep)
    monkeypatch.setattr("workload.ops.deploy._clock", timeline.clock)
    monkeypatch.setenv("WORKLOAD_KUBECTL", kube.binary)
    values = FIXTURES.parent.parent / "examples" / "minimal.yaml"
    # The recorded API server serves no nodes or RuntimeClasses: the preflight is tested on the real control plane.
    result = CliRunner().invoke(
        app, ["deploy", str(values), "--namespace", NAMESPACE, "--release", "qwen-small", "--skip-preflight"]
    )
    assert result.exit_code == 1
    assert installs[0][:4][1:] == ["upgrade", "--install", "qwen-small"]
    lines = result.output.splitlines()
    assert any(line.endswith("pulling the image") for line in lines)
    assert any("downloading weights: meta-llama/Llama-3.1-8B-Instruct 1/4 files" in line for line in lines)
    assert "failed while downloading weights: the model is gated and the server has no token that may read it" in lines
    assert any(line.strip().startswith("fix:") and "vault.hfTokenPath" in line for line in lines)


# -- deploy's steps, each alone ------------------------------------------------------------------------


@pytest.fixture
def printed() -> tuple[Printer, dict[str, list[str]]]:
    lines: dict[str, list[str]] = {"out": [], "err": [], "success": []}
    return Printer(lines["out"].append, lines["err"].append, lines["success"].append), lines


def test_deploy_stops_at_validation_before_helm_or_the_cluster(
    printed: tuple[Printer, dict[str, list[str]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    printer, lines = printed
    monkeypatch.setenv("WORKLOAD_HELM", "/nonexistent/helm")  # never asked for: validation comes first
    bad = tmp_path / "bad.yaml"
    bad.write_text((FIXTURES.parent.parent / "examples" / "minimal.yaml").read_text() + "gpu:\n  count: 0\n")
    assert deploy(DeployRequest(bad), printer) is ExitCode.FAILED
    assert lines["err"] == [f"{bad}: gpu.count: must be >= 1 (got 0)"]
    assert lines["out"] == []


def test_the_phase_printer_says_each_phase_once(printed: tuple[Printer, dict[str, list[str]]]) -> None:
    printer, lines = printed
    show = phase_printer(printer, TGI)
    for phase, elapsed in ((Phase.SCHEDULING, 0), (Phase.SCHEDULING, 2), (Phase.DOWNLOADING, 4), (Phase.READY, 9)):
        show(Progress(phase, "", elapsed))
    assert lines["out"] == ["[     0 s] scheduling", "[     4 s] downloading weights", "[     9 s] ready"]


def test_the_report_names_the_failure_what_was_seen_and_the_fix(printed: tuple[Printer, dict[str, list[str]]]) -> None:
    printer, lines = printed
    assert report(Outcome(True, Phase.READY, 41.6), "qwen", "ml", printer, TGI) is ExitCode.OK
    assert lines["success"] == ["ready after 42 s"]
    assert lines["out"] == ["check it: workload verify --release qwen --namespace ml"]
    failed = Outcome(False, Phase.LOADING, 60, Diagnosis("the model does not fit", "use more GPUs", "CUDA OOM"))
    assert report(failed, "qwen", "ml", printer, TGI) is ExitCode.FAILED
    assert lines["err"] == ["failed while loading shards: the model does not fit", "  seen: CUDA OOM",
                            "  fix:  use more GPUs"]  # fmt: skip
