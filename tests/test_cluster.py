"""The chart on a real Kubernetes API server, controller manager and scheduler (kwok simulates the nodes
and the pods' lifecycle): what the API server accepts, what admission refuses, what the scheduler does with
GPUs, and helm's install, upgrade, rollback, test and uninstall, on Helm 3 and Helm 4.

The control plane is built from Go modules (scripts/cluster/build.sh, cached outside the repository).
scripts/test.sh runs them with --dist loadfile: one worker, one control plane per Kubernetes version.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from typer.testing import CliRunner

from conftest import CHART, EXAMPLES, FIXTURES, crds_dir, helm_path, missing
from controlplane import KUBERNETES_VERSIONS, ControlPlane, build, missing_tools
from model_metadata import LLAMA_70B, LLAMA_70B_TOTAL_SIZE, QWEN_05B, QWEN_05B_TOTAL_SIZE, model_folder
from oci_registry import KEY_NAME, Keyrings, oci_registry, signing_key
from recordings import RECORDINGS, recording
from recordings import pod as recorded_pod
from simulated import simulated
from workload import __version__
from workload.cli import app
from workload.engines import DEFAULT_ENGINE, engine, engine_names
from workload.engines.tgi.simulator import Settings
from workload.ops.kube import Kubectl
from workload.ops.phases import pod_diagnosis
from workload.ops.verify import check_autoscaler, find_deployment
from workload.paths import REPO_ROOT

TGI = engine(DEFAULT_ENGINE)
MINIMAL = EXAMPLES / "minimal.yaml"


@pytest.fixture(scope="module", params=KUBERNETES_VERSIONS, ids=[f"k8s-{v}" for v in KUBERNETES_VERSIONS])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """One control plane per Kubernetes version; every test in this module runs on each."""
    if (lacking := missing_tools()) is not None:
        missing(lacking)
    plane = ControlPlane(tmp_path_factory.mktemp("cluster"), kubernetes=request.param).start()
    try:
        yield plane
    finally:
        plane.stop()


def helm(plane: ControlPlane, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(helm_path(name)), "--kubeconfig", str(plane.kubeconfig()), *args],
                            capture_output=True, text=True, timeout=180, check=False)  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)}: {result.stderr}")
    return result


def objects(plane: ControlPlane, kind: str, namespace: str, selector: str = "") -> list[dict[str, Any]]:
    args = ["get", kind, "-n", namespace, "-o", "json"] + (["-l", selector] if selector else [])
    items: list[dict[str, Any]] = json.loads(plane.kubectl(*args))["items"]
    return items


def events(plane: ControlPlane, namespace: str, reason: str) -> list[str]:
    return [e["message"] for e in objects(plane, "events", namespace) if e["reason"] == reason]


def values_file(tmp_path: Path, extra: str = "", source: Path = MINIMAL) -> Path:
    path = tmp_path / "values.yaml"
    path.write_text(source.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def revision_of(container: dict[str, Any]) -> str | None:
    """The model revision a running container was given: TGI's REVISION, or vLLM's and SGLang's --revision (the
    simulator takes it on its command line)."""
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    args = container.get("command", []) + container.get("args", [])
    return env.get("REVISION") or (args[args.index("--revision") + 1] if "--revision" in args else None)


def life_cycle(plane: ControlPlane, helm_name: str, engine_name: str, simulator: bool, tmp_path: Path) -> None:
    """Install, upgrade, a failed upgrade, rollback, helm test and uninstall of one engine's release."""
    mode = "sim" if simulator else "real"
    ns, release = f"life-{helm_name}-{engine_name}-{mode}", "qwen-small"
    values = tmp_path / f"{engine_name}-{mode}.yaml"
    values.write_text(MINIMAL.read_text(encoding="utf-8") + f"inference:\n  engine: {engine_name}\n"
                      f"simulator:\n  enabled: {str(simulator).lower()}\n", encoding="utf-8")  # fmt: skip
    install = ["-n", ns, "-f", str(values), "--wait", "--timeout", "90s"]
    helm(plane, helm_name, "install", release, str(CHART), "--create-namespace", *install)
    (pod,) = objects(plane, "pods", ns, "app=qwen-small")
    if not simulator:
        assert pod["spec"]["nodeName"].startswith("gpu-"), "the scheduler must place it on a GPU node"

    # An upgrade that changes the pod rolls a new one (Recreate: no second GPU needed).
    helm(plane, helm_name, "upgrade", release, str(CHART), *install, "--set", "model.revision=v2")
    (rolled,) = objects(plane, "pods", ns, "app=qwen-small")
    assert rolled["metadata"]["name"] != pod["metadata"]["name"]
    assert revision_of(rolled["spec"]["containers"][0]) == "v2"

    if simulator:  # the simulator asks for no GPU: nothing to fail to schedule
        helm(plane, helm_name, "upgrade", release, str(CHART), *install, "--set", "model.revision=v3")
    else:  # more GPUs than any node has: the upgrade is reported failed, and the scheduler says why
        failed = helm(plane, helm_name, "upgrade", release, str(CHART), "-n", ns, "-f", str(values), "--set",
                      "gpu.count=8", "--wait", "--timeout", "20s", check=False)  # fmt: skip
        assert failed.returncode != 0
        assert any("Insufficient nvidia.com/gpu" in m for m in events(plane, ns, "FailedScheduling"))

    helm(plane, helm_name, "rollback", release, "2", "-n", ns, "--wait", "--timeout", "90s")
    status = json.loads(helm(plane, helm_name, "status", release, "-n", ns, "-o", "json").stdout)
    assert (status["info"]["status"], status["version"]) == ("deployed", 4)
    (back,) = objects(plane, "pods", ns, "app=qwen-small")
    assert revision_of(back["spec"]["containers"][0]) == "v2"

    helm(plane, helm_name, "test", release, "-n", ns, "--timeout", "60s")

    helm(plane, helm_name, "uninstall", release, "-n", ns, "--wait", "--timeout", "60s")
    left = plane.kubectl("get", "all,configmaps,secrets,pvc,httproutes.gateway.networking.k8s.io", "-n", ns,
                         "-l", f"app.kubernetes.io/instance={release}", "-o", "name", check=False)  # fmt: skip
    assert left.strip() == ""


@pytest.mark.parametrize("helm_name", ["helm3", "helm4"])
def test_install_upgrade_rollback_test_uninstall(cluster: ControlPlane, helm_name: str, tmp_path: Path) -> None:
    """Every engine, real and simulated, through the same life cycle at once (one namespace each: the scheduler
    and the controllers see them side by side, and the run costs one life cycle's waits, not six)."""
    cases = [(name, simulator) for name in engine_names() for simulator in (False, True)]
    with ThreadPoolExecutor(len(cases)) as pool:
        runs = {case: pool.submit(life_cycle, cluster, helm_name, *case, tmp_path) for case in cases}
    failures = []
    for (name, simulator), run in runs.items():
        if (error := run.exception()) is not None:
            failures.append(f"{name} ({'simulator' if simulator else 'real'}): {error}")
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def crds(cluster: ControlPlane) -> ControlPlane:
    files = sorted(crds_dir().glob("*.yaml"))
    if not files:
        missing(f"CRDs in {crds_dir()} (scripts/fetch-crds.sh)")
    # One CRD per kind: the newest Gateway API's HTTPRoute.
    for path in files:
        if "gateway-api-v1.2.1" not in path.name:
            cluster.kubectl("apply", "--server-side", "-f", str(path))
    for crd in ("httproutes.gateway.networking.k8s.io", "externalsecrets.external-secrets.io",
                "servicemonitors.monitoring.coreos.com", "scaledobjects.keda.sh"):  # fmt: skip
        cluster.kubectl("wait", "--for", "condition=Established", f"crd/{crd}", "--timeout", "60s")
    return cluster


@pytest.mark.parametrize("source", ["everything.yaml", "everything-else.yaml"])
def test_every_object_is_accepted_by_the_api_server(crds: ControlPlane, source: str, tmp_path: Path) -> None:
    """With the real CRDs installed, so their CEL rules run too; a dry run on the server admits every object."""
    values = values_file(tmp_path, source=FIXTURES / "values" / source)
    namespace = yaml.safe_load(values.read_text(encoding="utf-8")).get("namespace") or "everything"
    crds.kubectl("create", "namespace", namespace, check=False)
    result = helm(crds, "helm4", "install", "all", str(CHART), "-n", namespace, "-f", str(values), "--dry-run=server",
                  check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_pod_security_levels_are_as_documented(cluster: ControlPlane, tmp_path: Path) -> None:
    """The stock image from 3.1.1 needs uid 0: `baseline` admits it, `restricted` refuses it; the derived
    non-root image passes `restricted`."""
    for level in ("baseline", "restricted"):
        cluster.kubectl("create", "namespace", f"pss-{level}", check=False)
        cluster.kubectl(
            "label", "--overwrite", "namespace", f"pss-{level}", f"pod-security.kubernetes.io/enforce={level}"
        )
    stock, derived = values_file(tmp_path), tmp_path / "derived.yaml"
    derived.write_text("inference:\n  image:\n    tag: 3.3.7-nonroot\n    runsAsNonRoot: true\n", encoding="utf-8")
    common = [str(CHART), "--set", "helmTest.enabled=false", "-f", str(stock)]
    helm(cluster, "helm4", "install", "stock", *common, "-n", "pss-baseline", "--set", "serviceName=stock")
    helm(cluster, "helm4", "install", "stock", *common, "-n", "pss-restricted", "--set", "serviceName=stock")
    helm(cluster, "helm4", "install", "derived", *common, "-f", str(derived), "-n", "pss-restricted",
         "--set", "serviceName=derived")  # fmt: skip
    cluster.wait_for(lambda: bool(events(cluster, "pss-restricted", "FailedCreate")), "the restricted refusal")
    refusals = events(cluster, "pss-restricted", "FailedCreate")
    assert all("stock-" in m and 'violates PodSecurity "restricted:latest"' in m for m in refusals), refusals
    assert any("runAsUser=0" in m for m in refusals)
    cluster.wait_for(lambda: len(objects(cluster, "pods", "pss-baseline", "app=stock")) == 1, "the baseline pod")
    cluster.wait_for(lambda: len(objects(cluster, "pods", "pss-restricted", "app=derived")) == 1, "the derived pod")
    for namespace in ("pss-baseline", "pss-restricted"):
        for release in ("stock", "derived"):
            helm(cluster, "helm4", "uninstall", release, "-n", namespace, "--wait", check=False)


def test_a_missing_runtime_class_is_the_replica_sets_failed_create(cluster: ControlPlane, tmp_path: Path) -> None:
    values = values_file(tmp_path, "gpu:\n  runtimeClassName: nvidia-cdi\n")
    helm(cluster, "helm4", "install", "norc", str(CHART), "-n", "norc", "--create-namespace", "-f", str(values),
         "--set", "serviceName=norc")  # fmt: skip
    cluster.wait_for(lambda: bool(events(cluster, "norc", "FailedCreate")), "FailedCreate")
    assert any('RuntimeClass "nvidia-cdi" not found' in m for m in events(cluster, "norc", "FailedCreate"))
    helm(cluster, "helm4", "uninstall", "norc", "-n", "norc", "--wait")


def test_helm_test_runs_on_a_gpu_only_cluster(cluster: ControlPlane, tmp_path: Path) -> None:
    """With the CPU node cordoned, only tainted GPU nodes are left: the test pod tolerates the taint and
    takes no GPU (the workload holds the only free one of its node)."""
    values = values_file(tmp_path)
    helm(cluster, "helm4", "install", "gpuonly", str(CHART), "-n", "gpuonly", "--create-namespace", "-f", str(values),
         "--set", "serviceName=gpuonly", "--wait", "--timeout", "90s")  # fmt: skip
    cluster.kubectl("cordon", "cpu-1")
    try:
        helm(cluster, "helm4", "test", "gpuonly", "-n", "gpuonly", "--logs=false", "--timeout", "60s")
    finally:
        cluster.kubectl("uncordon", "cpu-1")
    helm(cluster, "helm4", "uninstall", "gpuonly", "-n", "gpuonly", "--wait")


def test_a_killed_run_leaves_nothing_listening(tmp_path: Path) -> None:
    """SIGKILL the process that started a control plane: every component goes with it (PR_SET_PDEATHSIG)."""
    if (lacking := missing_tools()) is not None:
        missing(lacking)
    starter = subprocess.Popen([sys.executable, str(Path(__file__).parent / "controlplane.py"), str(tmp_path / "cp")],
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert starter.stdout is not None
    line = starter.stdout.readline()
    assert line.startswith("export KUBECONFIG="), line
    port = int(re.search(r"127\.0\.0\.1:(\d+)", (tmp_path / "cp" / "admin.kubeconfig").read_text())[1])  # type: ignore[index]
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    starter.kill()
    starter.wait(timeout=10)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the API server still listens after its starter was killed")
    # Components finish shutting down after they stop listening (the API server drains): give them the time.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        leftovers = subprocess.run(["pgrep", "-f", str(tmp_path / "cp")], capture_output=True, text=True, check=False)
        if not leftovers.stdout.strip():
            break
        time.sleep(1)
    else:
        raise AssertionError(f"processes left behind: {leftovers.stdout.split()}")


def test_deploy_and_verify_end_to_end(cluster: ControlPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`workload deploy` follows a real install to Ready (the pod's log comes through the API server from
    kwok), and `workload verify` passes every check over a real `kubectl port-forward` to the Service,
    which kwok forwards to `workload simulate` on loopback."""
    namespace = "e2e"
    cluster.kubectl("create", "namespace", namespace, check=False)
    recorded_log = (RECORDED_LOGS / "cache-hit-ready.log").read_text(encoding="utf-8")
    cluster.serve_logs(namespace, tmp_path / "tgi.log", recorded_log.splitlines())
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig()))
    monkeypatch.setenv("WORKLOAD_HELM", str(helm_path("helm4")))
    with simulated(Settings(model_id="Qwen/Qwen2.5-0.5B-Instruct")) as tgi:
        cluster.forward_ports(namespace, int(urlsplit(tgi.url).port or 0))
        deployed = CliRunner().invoke(app, ["deploy", str(MINIMAL), "--namespace", namespace])
        assert deployed.exit_code == 0, deployed.output
        assert "ready after" in deployed.output
        verified = CliRunner().invoke(app, ["verify", "--release", "qwen-small", "-n", namespace, "-o", "json"])
        checks = json.loads(verified.stdout)
        assert [(c["name"], c["ok"]) for c in checks] == [
            ("rollout", True), ("model loaded", True), ("health", True), ("info", True), ("generate", True),
            ("generate_stream", True), ("chat_completion", True), ("metrics", True),
        ], checks  # fmt: skip
        assert verified.exit_code == 0
        assert "cold start" in checks[1]["detail"]  # from the scheduler's and kwok's condition times
        assert tgi.schema_errors() == []
    helm(cluster, "helm4", "uninstall", "qwen-small", "-n", namespace, "--wait")


@pytest.mark.parametrize(
    "case",
    [
        ("gpu:\n  count: 8\n", "failed while scheduling: no node has a free GPU", "lower gpu.count"),
        (
            "gpu:\n  runtimeClassName: nvidia-cdi\n",
            "failed while scheduling: the RuntimeClass the pod asks for does not exist",
            "gpu.runtimeClassName",
        ),
    ],
    ids=["no-free-gpu", "missing-runtime-class"],
)
def test_deploy_names_the_failure_the_controllers_report(
    cluster: ControlPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: tuple[str, str, str]
) -> None:
    """The scheduler's FailedScheduling and the ReplicaSet's FailedCreate, as real controllers write them."""
    extra, problem, fix = case
    namespace = f"fail-{len(extra)}"
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig()))
    monkeypatch.setenv("WORKLOAD_HELM", str(helm_path("helm4")))
    monkeypatch.setattr("workload.ops.deploy.UNSCHEDULABLE_GRACE_SECONDS", 0)  # no cluster autoscaler here
    monkeypatch.setattr("workload.ops.deploy._pause", lambda _seconds: time.sleep(0.5))
    values = values_file(tmp_path, extra)
    # Past the preflight (which would refuse these), to see what the watch makes of the controllers' events.
    result = CliRunner().invoke(app, ["deploy", str(values), "--namespace", namespace, "--skip-preflight"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert problem in lines, result.output
    assert any(line.strip().startswith("fix:") and fix in line for line in lines)
    helm(cluster, "helm4", "uninstall", "qwen-small", "-n", namespace, "--wait")


RECORDED_LOGS = RECORDINGS / "logs"
UNRECOGNISED_EXIT = ["2026-11-27T14:00:41.380044Z  INFO text_generation_launcher: Args { ... }",
                     "Error: ShardCannotStart"]  # fmt: skip


@pytest.mark.parametrize(
    "case",
    [
        (
            "scenario-crash-loop",
            None,
            (RECORDED_LOGS / "shard-failed-cuda-oom.log").read_text().splitlines(),
            "failed while loading shards: the model does not fit in GPU memory",
            "fix: use more GPUs",
        ),
        (
            "scenario-crash-loop",
            None,
            UNRECOGNISED_EXIT,
            "failed while starting TGI: the TGI container keeps exiting (exit code 1, 4 restarts)",
            "fix: read the last run's log: kubectl logs qwen-small-",
        ),
        (
            "scenario-probe-fails",
            (RECORDED_LOGS / "cache-hit-ready.log").read_text().splitlines(),
            None,
            "failed while warming up: TGI is serving, but its readiness probe keeps failing",
            "fix: /health runs a one-token generation",
        ),
    ],
    ids=["crash-loop-recognised", "crash-loop", "readiness-never-passes"],
)
def test_deploy_names_what_the_kubelet_reports(
    cluster: ControlPlane,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, list[str] | None, list[str] | None, str, str],
) -> None:
    """A crash loop and a probe that never passes, as kwok (playing the kubelet, see SCENARIOS in
    controlplane.py) reports them through the real API server: `deploy` reads the status, the events and
    the current or previous log (`kubectl logs --previous`, served by kwok) and names the failure."""
    namespace, log, previous, problem, fix = case
    cluster.kubectl("create", "namespace", namespace, check=False)
    cluster.serve_logs(namespace, tmp_path / "tgi.log", log or [], previous=previous)
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig()))
    monkeypatch.setenv("WORKLOAD_HELM", str(helm_path("helm4")))
    monkeypatch.setattr("workload.ops.deploy.PROBE_GRACE_SECONDS", 1)
    monkeypatch.setattr("workload.ops.deploy._pause", lambda _seconds: time.sleep(0.5))
    values = values_file(tmp_path, "healthCheck:\n  startupTimeoutSeconds: 60\n")  # broken, it fails in a minute
    result = CliRunner().invoke(app, ["deploy", str(values), "--namespace", namespace])
    assert result.exit_code == 1, result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert problem in lines, result.output
    assert any(line.startswith(fix) for line in lines), result.output
    helm(cluster, "helm4", "uninstall", "qwen-small", "-n", namespace, "--wait")


PREFLIGHT_CASES = [
    ("gpu:\n  runtimeClassName: nvidia-cdi\n", "RuntimeClass nvidia-cdi does not exist"),
    ("gpu:\n  count: 2\n",
     "no node has 2 allocatable nvidia.com/gpu (the most of the 2 nodes matching gpu.nodeSelector: 1)"),
    ("storage:\n  modelCache:\n    enabled: true\n    storageClass: fast-nvme\n",
     "StorageClass fast-nvme does not exist"),
    ("storage:\n  modelCache:\n    enabled: true\n", "the cluster has no default StorageClass for the model cache"),
    ("monitoring:\n  serviceMonitor:\n    enabled: true\n",
     "the cluster has no ServiceMonitor CRD (servicemonitors.monitoring.coreos.com), which "
     "monitoring.serviceMonitor.enabled needs"),
    ("restricted", "namespace pre-restricted enforces Pod Security 'restricted', which refuses a pod running as uid 0"),
]  # fmt: skip


def restore_crd(plane: ControlPlane, file: str, name: str) -> None:
    """Put back a CRD a test took away, for the tests after it (when set-up fetched it)."""
    if (crds_dir() / file).is_file():
        plane.kubectl("apply", "--server-side", "-f", str(crds_dir() / file))
        plane.kubectl("wait", "--for", "condition=Established", f"crd/{name}", "--timeout", "60s")


@pytest.mark.parametrize("case", PREFLIGHT_CASES, ids=["runtime-class", "gpus", "storage-class", "no-default-class",
                                                       "missing-crd", "pod-security"])  # fmt: skip
def test_preflight_names_what_would_stop_the_workload(
    cluster: ControlPlane,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str],
    request: pytest.FixtureRequest,
) -> None:
    """`workload deploy --check`, each case made real on the control plane; nothing is installed."""
    extra, blocker = case
    namespace = "pre-restricted" if extra == "restricted" else "pre-default"
    cluster.kubectl("create", "namespace", namespace, check=False)
    if extra == "restricted":
        cluster.kubectl("label", "--overwrite", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    if "serviceMonitor" in extra:  # the CRD may be installed by another test: take it away for this one
        cluster.kubectl("delete", "crd", "servicemonitors.monitoring.coreos.com", "--ignore-not-found", "--wait")
        request.addfinalizer(lambda: restore_crd(cluster, "prometheus-operator-v0.93.0-servicemonitors.yaml",
                                                 "servicemonitors.monitoring.coreos.com"))  # fmt: skip
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig()))
    monkeypatch.setenv("WORKLOAD_HELM", str(helm_path("helm4")))
    values = values_file(tmp_path, "" if extra == "restricted" else extra)
    checked = CliRunner().invoke(app, ["deploy", str(values), "--namespace", namespace, "--check"])
    assert checked.exit_code == 1, checked.output
    assert [line.split(": preflight: ", 1)[1].split("; fix: ")[0] for line in checked.output.splitlines()] == [blocker]
    refused = CliRunner().invoke(app, ["deploy", str(values), "--namespace", namespace])
    assert refused.exit_code == 1
    assert "not installed: fix the above, or pass --skip-preflight" in refused.output
    assert cluster.kubectl("get", "deployments", "-n", namespace, "-o", "name").strip() == ""


def test_preflight_passes_a_workload_the_cluster_can_run(
    cluster: ControlPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig()))
    monkeypatch.setenv("WORKLOAD_HELM", str(helm_path("helm4")))
    checked = CliRunner().invoke(app, ["deploy", str(values_file(tmp_path)), "--namespace", "pre-ok", "--check"])
    assert checked.exit_code == 0, checked.output
    assert checked.output.endswith("preflight: nothing stops qwen-small in namespace pre-ok\n")


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_installs_runs_and_uninstalls(crds: ControlPlane, example: str) -> None:
    """Each example as a team would install it: accepted, scheduled and Ready, then gone without a trace."""
    namespace = f"example-{example.removesuffix('.yaml').replace('.', '-')}"
    values = str(EXAMPLES / example)
    release = yaml.safe_load((EXAMPLES / example).read_text(encoding="utf-8"))["serviceName"]
    helm(crds, "helm4", "install", release, str(CHART), "-n", namespace, "--create-namespace", "-f", values,
         "--set", f"namespace={namespace}", "--wait", "--timeout", "90s")  # fmt: skip
    assert len(objects(crds, "pods", namespace, f"app={release}")) == 1
    helm(crds, "helm4", "uninstall", release, "-n", namespace, "--wait", "--timeout", "60s")
    assert crds.kubectl("get", "all,configmaps,pvc", "-n", namespace, "-l", f"app.kubernetes.io/instance={release}",
                        "-o", "name").strip() == ""  # fmt: skip


def test_uninstall_keeps_only_the_cache_marked_to_keep(cluster: ControlPlane, tmp_path: Path) -> None:
    values = values_file(tmp_path, "storage:\n  modelCache:\n    enabled: true\n    keepOnUninstall: true\n")
    helm(cluster, "helm4", "install", "keep", str(CHART), "-n", "keep", "--create-namespace", "-f", str(values),
         "--set", "serviceName=keep")  # fmt: skip
    helm(cluster, "helm4", "uninstall", "keep", "-n", "keep", "--wait", "--timeout", "60s")
    left = cluster.kubectl("get", "all,configmaps,secrets,pvc", "-n", "keep", "-l", "app.kubernetes.io/instance=keep",
                           "-o", "name").split()  # fmt: skip
    assert left == ["persistentvolumeclaim/keep-model-cache"]


# Fields a recording may hold with other values than a live cluster's: identities, times, placement and
# the scheduler's free-text message (its node counts; the diagnosis read from it is compared instead).
VOLATILE = {"uid", "resourceVersion", "creationTimestamp", "lastTransitionTime", "lastUpdateTime", "startTime",
            "startedAt", "finishedAt", "nodeName", "pod-template-hash", "message"}  # fmt: skip


def differences(recorded: Any, real: Any, path: str = "") -> list[str]:
    """Where the recording says something the control plane did not write (the recording may hold less)."""
    if isinstance(recorded, dict) and isinstance(real, dict):
        return [d for key, value in recorded.items() if key not in VOLATILE
                for d in (differences(value, real[key], f"{path}.{key}") if key in real
                          else [f"{path}.{key}: absent"])]  # fmt: skip
    if isinstance(recorded, list) and isinstance(real, list):
        key = next(
            (k for k in ("name", "type") if recorded and all(isinstance(i, dict) and k in i for i in recorded)), None
        )
        if key is None:
            return [f"{path}: {recorded!r} != {real!r}"] if recorded != real else []
        found = {item[key]: item for item in real if isinstance(item, dict)}
        return [d for item in recorded for d in (differences(item, found[item[key]], f"{path}[{item[key]}]")
                if item[key] in found else [f"{path}[{item[key]}]: absent"])]  # fmt: skip
    return [] if recorded == real else [f"{path}: {recorded!r} != {real!r}"]


@pytest.mark.newest_kubernetes_only  # the recordings are of the newest Kubernetes
def test_recordings_say_what_the_control_plane_writes(cluster: ControlPlane, tmp_path: Path) -> None:
    """The day-2 tests' recordings of objects a control plane writes (tests/fixtures/recordings: the
    Deployment with the deployment controller's status, its pod as the ReplicaSet controller and admission
    create it, the scheduler's Unschedulable status) hold nothing this one did not write."""
    namespace = "ml-inference"
    cluster.kubectl("create", "namespace", namespace, check=False)
    cluster.kubectl("apply", "-f", str(RECORDINGS / "secret-api-key.yaml"))
    helm(cluster, "helm4", "install", "qwen-small", str(CHART), "-n", namespace, "-f", str(MINIMAL), "--set",
         f"namespace={namespace},apiKey.existingSecret=qwen-small-api-key", "--wait", "--timeout", "90s")  # fmt: skip
    deployment = json.loads(cluster.kubectl("get", "deployment", "qwen-small", "-n", namespace, "-o", "json"))
    (live,) = objects(cluster, "pods", namespace, "app=qwen-small")
    assert differences(recording("deployment.yaml"), deployment) == []
    # The pod's and its ReplicaSet's names carry hashes: identities, like uids.
    live["metadata"]["name"] = recording("pod.yaml")["metadata"]["name"]
    live["metadata"]["ownerReferences"][0]["name"] = recording("pod.yaml")["metadata"]["ownerReferences"][0]["name"]
    assert differences(recording("pod.yaml"), live) == []
    helm(
        cluster, "helm4", "upgrade", "qwen-small", str(CHART), "-n", namespace, "--reuse-values", "--set", "gpu.count=8"
    )
    for _ in range(60):
        pending = [p for p in objects(cluster, "pods", namespace, "app=qwen-small") if p["status"].get("conditions")
                   and p["status"]["phase"] == "Pending"]  # fmt: skip
        if pending:
            break
        time.sleep(1)
    recorded = recorded_pod("unschedulable")
    assert differences(recorded["status"], pending[0]["status"]) == []
    real, constructed = pod_diagnosis(pending[0], [], TGI), pod_diagnosis(recorded, [], TGI)
    assert real is not None
    assert constructed is not None
    assert real.problem == constructed.problem
    helm(cluster, "helm4", "uninstall", "qwen-small", "-n", namespace, "--wait")


@pytest.mark.newest_kubernetes_only  # packaging does not depend on the Kubernetes version: once is enough
@pytest.mark.parametrize("helm_name", ["helm3", "helm4"])
def test_the_chart_is_packaged_signed_pushed_pulled_and_installed(
    cluster: ControlPlane, helm_name: str, tmp_path: Path
) -> None:
    """What a platform team does with the chart: `helm package --sign`, `helm verify`, `helm lint` of the
    archive, an install from the archive, a push to an OCI registry (a real one on loopback), a verified
    pull, and `helm install oci://`."""
    if shutil.which("gpg") is None:
        missing("gpg (makes the throwaway key the chart is signed with)")
    with (signing_key(tmp_path / "key") as keys,
          signing_key(tmp_path / "stranger", "Someone Else <else@example.invalid>") as stranger):  # fmt: skip
        publish_and_install(cluster, helm_name, tmp_path, keys, stranger)
    agents = ["pgrep", "-f", "gpg-agent --homedir /tmp/gpg-"]
    assert subprocess.run(agents, capture_output=True, text=True, check=False).stdout == "", "GnuPG agents left running"


def publish_and_install(
    cluster: ControlPlane, helm_name: str, tmp_path: Path, keys: Keyrings, stranger: Keyrings
) -> None:
    started = time.monotonic()
    dist = tmp_path / "dist"
    helm(cluster, helm_name, "package", str(CHART), "--sign", "--key", KEY_NAME, "--keyring", str(keys.secret),
         "--destination", str(dist))  # fmt: skip
    archive = dist / f"ml-inference-load-{__version__}.tgz"
    assert sorted(p.name for p in dist.iterdir()) == [archive.name, f"{archive.name}.prov"]
    assert KEY_NAME in helm(cluster, helm_name, "verify", str(archive), "--keyring", str(keys.public)).stdout
    helm(cluster, helm_name, "lint", str(archive), "-f", str(MINIMAL))
    # A verify that cannot fail is no proof: a changed archive, and another key, are refused.
    tampered = tmp_path / "tampered" / archive.name
    tampered.parent.mkdir()
    tampered.write_bytes(archive.read_bytes() + b"\0")
    shutil.copy(f"{archive}.prov", f"{tampered}.prov")
    assert helm(cluster, helm_name, "verify", str(tampered), "--keyring", str(keys.public), check=False).returncode
    assert helm(cluster, helm_name, "verify", str(archive), "--keyring", str(stranger.public), check=False).returncode

    namespace = f"package-{helm_name}"
    install = ["-n", namespace, "--create-namespace", "-f", str(MINIMAL), "--set", f"namespace={namespace}",
               "--wait", "--timeout", "90s"]  # fmt: skip
    helm(cluster, helm_name, "install", "from-archive", str(archive), *install, "--set", "serviceName=from-archive")
    registry = build(cluster.kubernetes)["registry"] / "registry"
    (tmp_path / "registry").mkdir()
    with oci_registry(registry, tmp_path / "registry") as host:
        pushed = helm(cluster, helm_name, "push", str(archive), f"oci://{host}/charts", "--plain-http")
        assert f"Pushed: {host}/charts/ml-inference-load:{__version__}" in pushed.stdout + pushed.stderr
        pulled = tmp_path / "pulled"
        pulled.mkdir()
        helm(cluster, helm_name, "pull", f"oci://{host}/charts/ml-inference-load", "--version", __version__,
             "--plain-http", "--verify", "--keyring", str(keys.public), "--destination", str(pulled))  # fmt: skip
        assert (pulled / archive.name).read_bytes() == archive.read_bytes()
        helm(cluster, helm_name, "install", "from-oci", f"oci://{host}/charts/ml-inference-load", "--version",
             __version__, "--plain-http", *install, "--set", "serviceName=from-oci")  # fmt: skip
    print(f"package, sign, verify, lint, install, push, pull, install with {helm_name}: "
          f"{time.monotonic() - started:.1f} s")  # fmt: skip
    assert {d["metadata"]["name"] for d in objects(cluster, "deployments", namespace)} == {"from-archive", "from-oci"}
    for release in ("from-archive", "from-oci"):
        helm(cluster, helm_name, "uninstall", release, "-n", namespace, "--wait")


def test_preflight_refuses_a_model_that_cannot_fit_the_nodes_gpus(
    cluster: ControlPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GPU memory the nodes report (GPU Feature Discovery's nvidia.com/gpu.memory: 81920 MiB here)
    against the model's metadata (--model-dir: config.json and an index, no weights)."""
    model = model_folder(tmp_path / "model", LLAMA_70B, LLAMA_70B_TOTAL_SIZE)
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig()))
    monkeypatch.setenv("WORKLOAD_HELM", str(helm_path("helm4")))
    args = ["deploy", str(MINIMAL), "--namespace", "pre-fit", "--check", "--model-dir", str(model)]
    checked = CliRunner().invoke(app, args)
    assert checked.exit_code == 1, checked.output
    assert ("preflight: Qwen/Qwen2.5-0.5B-Instruct does not fit 1 x 81920 MiB GPUs (nvidia.com/gpu.memory): TGI "
            "would find room for 0 tokens") in checked.output  # fmt: skip
    assert "fix: gpu.count: 2" in checked.output  # 70.5 GB of weights per GPU, ~31k tokens of KV cache
    model_folder(model, QWEN_05B, QWEN_05B_TOTAL_SIZE)  # the model the values name fits
    assert CliRunner().invoke(app, args).exit_code == 0


def test_two_replicas_roll_without_a_spare_gpu_and_keep_their_budget(cluster: ControlPlane, tmp_path: Path) -> None:
    """Two one-GPU nodes, two replicas: an update rolls one pod at a time with no third GPU; the API server
    refuses an eviction that would break the disruption budget. And the control: a surge strategy on the
    same cluster stalls with a pod no node can take."""
    ns = "replicas"
    values = values_file(tmp_path, "scaling:\n  replicas: 2\n")
    install = ["-n", ns, "--create-namespace", "-f", str(values), "--wait", "--timeout", "90s"]
    helm(cluster, "helm4", "install", "qwen-small", str(CHART), *install)
    pods = objects(cluster, "pods", ns, "app=qwen-small")
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["gpu-1", "gpu-2"], "spread over both GPU nodes"
    helm(cluster, "helm4", "upgrade", "qwen-small", str(CHART), *install, "--set", "model.revision=v2")
    rolled = objects(cluster, "pods", ns, "app=qwen-small")
    assert len(rolled) == 2
    assert {e["value"] for p in rolled for e in p["spec"]["containers"][0]["env"] if e["name"] == "REVISION"} == {"v2"}

    # The budget: with the GPU nodes cordoned, an evicted pod's replacement cannot start, so a second
    # eviction would leave no pod serving; the API server answers 429.
    cluster.wait_for(lambda: json.loads(cluster.kubectl("get", "pdb", "qwen-small", "-n", ns, "-o", "json"))["status"]
             .get("disruptionsAllowed") == 1, "the budget to allow one disruption")  # fmt: skip
    cluster.kubectl("cordon", "gpu-1", "gpu-2")
    try:
        first, second = (p["metadata"]["name"] for p in rolled)
        evict = '{"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "%s", "namespace": "%s"}}'
        cluster.kubectl("create", "--raw", f"/api/v1/namespaces/{ns}/pods/{first}/eviction", "-f", "-",
                        input_text=evict % (first, ns))  # fmt: skip
        refused = subprocess.run(
            [str(REPO_ROOT / ".tools" / "bin" / "kubectl"), "--kubeconfig", str(cluster.kubeconfig()), "create",
             "--raw", f"/api/v1/namespaces/{ns}/pods/{second}/eviction", "-f", "-"],
            input=evict % (second, ns), capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert refused.returncode != 0
        assert "would violate the pod's disruption budget" in refused.stderr, refused.stderr
    finally:
        cluster.kubectl("uncordon", "gpu-1", "gpu-2")

    # The control: a surge pod needs a third GPU, so this rollout stalls with the scheduler's reason.
    helm(cluster, "helm4", "upgrade", "qwen-small", str(CHART), *install, "--set", "model.revision=v3")
    cluster.kubectl("patch", "deployment", "qwen-small", "-n", ns, "--type", "merge", "-p",
                    '{"spec": {"strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},'
                    ' "template": {"metadata": {"annotations": {"surge": "1"}}}}}')  # fmt: skip
    cluster.wait_for(lambda: any("Insufficient nvidia.com/gpu" in m for m in events(cluster, ns, "FailedScheduling")),
             "the surge pod to be unschedulable")  # fmt: skip
    helm(cluster, "helm4", "uninstall", "qwen-small", "-n", ns, "--wait", "--timeout", "60s")


def test_autoscalers_are_accepted_and_a_shared_rwo_cache_is_refused(
    crds: ControlPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ScaledObject (against KEDA's CRD) and the HPA, as the API server admits them (server dry run);
    `workload deploy` refuses a ReadWriteOnce cache shared by two replicas before anything is installed."""
    monitored = "monitoring:\n  serviceMonitor:\n    enabled: true\n"
    for scaler in ("keda", "hpa"):
        extra = f"scaling:\n  autoscaling:\n    enabled: true\n    engine: {scaler}\n    maxReplicas: 3\n"
        values = values_file(tmp_path, monitored + extra)
        crds.kubectl("create", "namespace", "autoscaled", check=False)
        result = helm(crds, "helm4", "install", "scaled", str(CHART), "-n", "autoscaled", "-f", str(values),
                      "--dry-run=server")  # fmt: skip
        assert ("kind: ScaledObject" if scaler == "keda" else "kind: HorizontalPodAutoscaler") in result.stdout
        assert "kind: PodDisruptionBudget" in result.stdout
    monkeypatch.setenv("KUBECONFIG", str(crds.kubeconfig()))
    monkeypatch.setenv("WORKLOAD_HELM", str(helm_path("helm4")))
    shared = values_file(tmp_path, "scaling:\n  replicas: 2\nstorage:\n  modelCache:\n    enabled: true\n")
    refused = CliRunner().invoke(app, ["deploy", str(shared), "--namespace", "rwo"])
    assert refused.exit_code == 1
    assert "storage.modelCache.accessMode: ReadWriteOnce is mounted by one node at a time" in refused.output
    assert crds.kubectl("get", "all,pvc", "-n", "rwo", "-o", "name").strip() == ""


def test_verify_reads_the_hpa_the_real_controller_runs(
    crds: ControlPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real HPA controller with no custom metrics API (no prometheus-adapter here): verify's autoscaler
    check fails with the controller's own reason and says what to install."""
    monitored = "monitoring:\n  serviceMonitor:\n    enabled: true\n"
    values = values_file(tmp_path, monitored + "scaling:\n  autoscaling:\n    enabled: true\n    engine: hpa\n")
    helm(crds, "helm4", "install", "qwen-small", str(CHART), "-n", "hpa", "--create-namespace", "-f", str(values),
         "--wait", "--timeout", "90s")  # fmt: skip

    def scaling_inactive() -> bool:
        hpa = json.loads(crds.kubectl("get", "hpa", "qwen-small", "-n", "hpa", "-o", "json"))
        return any(c["type"] == "ScalingActive" and c["status"] == "False" for c in hpa["status"].get("conditions", []))

    crds.wait_for(scaling_inactive, "the HPA controller to report it cannot read its metric", timeout=90)
    monkeypatch.setenv("KUBECONFIG", str(crds.kubeconfig()))
    kube = Kubectl("hpa")
    deployment = find_deployment(kube, "qwen-small")
    assert deployment is not None
    check = check_autoscaler(kube, deployment)
    assert check is not None
    assert not check.ok
    assert check.detail.startswith("hpa/qwen-small reads no value: ")
    assert "tgi_active_requests" in check.detail  # the controller names the metric it could not get
    assert "prometheus-adapter" in check.hint
    helm(crds, "helm4", "uninstall", "qwen-small", "-n", "hpa", "--wait", "--timeout", "60s")
