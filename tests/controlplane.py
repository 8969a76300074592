"""A real Kubernetes control plane on 127.0.0.1 for tests: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok (simulated nodes and pod lifecycle), built from Go modules by
scripts/cluster/build.sh and cached outside the repository.

Nodes: two GPU nodes (one `nvidia.com/gpu` each, the GPU Operator's labels and taint) and one CPU node,
and a RuntimeClass `nvidia`. Every process runs in its own session and is killed if the test process
dies (PR_SET_PDEATHSIG), so even a killed test run leaves nothing listening.

For a person: `scripts/cluster/start.sh` starts one and prints the KUBECONFIG to use.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# The oldest and the newest Kubernetes minor the project pins (scripts/cluster/build.sh builds both).
KUBERNETES_VERSIONS = ("1.35.4", "1.37.2")
# kwok's rule kinds and the files of their CRDs in its module.
KWOK_RULES = {"Logs": "logs", "ClusterLogs": "clusterlogs", "PortForward": "portforwards",
              "ClusterPortForward": "clusterportforwards"}  # fmt: skip
KWOK_STAGES = ("node/fast/node-initialize.yaml", "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
               "pod/fast/pod-ready.yaml", "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


GO_NEEDED = (1, 26)  # the go lines of k8s.io/kubernetes v1.37.2, sigs.k8s.io/kwok v0.8.0, distribution v3.1.2


def missing_tools() -> str | None:
    """What this machine lacks to build and run the control plane, or None."""
    for tool in ("go", "openssl", "setpriv"):
        if shutil.which(tool) is None:
            return f"{tool} (the cluster tests build and start a control plane; Go >= 1.26)"
    found = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=False).stdout.strip()
    numbers = tuple(int(n) for n in re.findall(r"\d+", found)[:2])
    if numbers < GO_NEEDED:
        return f"Go >= 1.26 (found {found or 'no version'}): the Kubernetes 1.37, kwok and registry modules need it"
    return None


def build(kubernetes: str) -> dict[str, Path]:
    """The binaries' folders (building what is not cached yet)."""
    result = subprocess.run([str(REPO / "scripts" / "cluster" / "build.sh"), kubernetes],
                            capture_output=True, text=True, check=True)  # fmt: skip
    folders = [Path(line) for line in result.stdout.splitlines() if line.strip()]
    return {"kubernetes": folders[0], "etcd": folders[1], "kwok": folders[2], "registry": folders[3]}


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(folder: Path) -> None:
    """A CA, the API server's serving certificate, client certificates and the service-account key pair."""
    folder.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=workload-test-ca", cwd=folder)  # fmt: skip
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n"
    )
    (folder / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    users = {"apiserver": ("/CN=kube-apiserver", "server.ext"), "admin": ("/O=system:masters/CN=admin", "client.ext"),
             "controller-manager": ("/CN=system:kube-controller-manager", "client.ext"),
             "scheduler": ("/CN=system:kube-scheduler", "client.ext"),
             "kwok": ("/O=system:masters/CN=kwok", "client.ext")}  # fmt: skip
    for name, (subject, extensions) in users.items():
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj",
                 subject, cwd=folder)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.crt", "-days", "2", "-extfile", extensions, cwd=folder)  # fmt: skip
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=folder)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=folder)


@dataclass
class ControlPlane:
    workdir: Path
    kubernetes: str = KUBERNETES_VERSIONS[0]
    port: int = field(default_factory=_free_port)
    # kwok's range for pod IPs (--cidr); tests/pods.py routes each pod's IP to a namespace of its own.
    pod_cidr: str | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def pki(self) -> Path:
        return self.workdir / "pki"

    def kubeconfig(self, user: str = "admin") -> Path:
        path = self.workdir / f"{user}.kubeconfig"
        if not path.exists():
            path.write_text(
                "apiVersion: v1\nkind: Config\n"
                f"clusters: [{{name: test, cluster: {{server: 'https://127.0.0.1:{self.port}', "
                f"certificate-authority: '{self.pki / 'ca.crt'}'}}}}]\n"
                f"users: [{{name: {user}, user: {{client-certificate: '{self.pki / (user + '.crt')}', "
                f"client-key: '{self.pki / (user + '.key')}'}}}}]\n"
                f"contexts: [{{name: test, context: {{cluster: test, user: {user}, namespace: default}}}}]\n"
                "current-context: test\n"
            )
        return path

    def _run(self, name: str, command: list[str]) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        # setpriv (util-linux) sets PR_SET_PDEATHSIG: the process is killed when the test process dies,
        # even by SIGKILL. A session of its own lets stop() end it and anything it started.
        watched = ["setpriv", "--pdeathsig", "KILL", *command]
        self.processes.append(subprocess.Popen(watched, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                               start_new_session=True))  # fmt: skip

    def start(self) -> ControlPlane:
        bins = build(self.kubernetes)
        make_pki(self.pki)
        etcd_client, etcd_peer = _free_port(), _free_port()
        self._run("etcd", [str(bins["etcd"] / "etcd"), "--data-dir", str(self.workdir / "etcd"), "--log-level", "error",
                           "--listen-client-urls", f"http://127.0.0.1:{etcd_client}",
                           "--advertise-client-urls", f"http://127.0.0.1:{etcd_client}",
                           "--listen-peer-urls", f"http://127.0.0.1:{etcd_peer}",
                           "--initial-advertise-peer-urls", f"http://127.0.0.1:{etcd_peer}",
                           "--initial-cluster", f"default=http://127.0.0.1:{etcd_peer}"])  # fmt: skip
        pki = self.pki
        kube = bins["kubernetes"]
        self._run("kube-apiserver", [
            str(kube / "kube-apiserver"), "--etcd-servers", f"http://127.0.0.1:{etcd_client}",
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(self.port),
            "--tls-cert-file", str(pki / "apiserver.crt"), "--tls-private-key-file", str(pki / "apiserver.key"),
            "--client-ca-file", str(pki / "ca.crt"), "--authorization-mode", "Node,RBAC",
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-account-key-file", str(pki / "sa.pub"),
            "--service-account-signing-key-file", str(pki / "sa.key"),
            "--service-cluster-ip-range", "10.96.0.0/16",
            # Loopback only: no endpoint for the `kubernetes` Service, and a front proxy of its own.
            "--endpoint-reconciler-type", "none",
            "--requestheader-client-ca-file", str(pki / "ca.crt"), "--requestheader-allowed-names", "admin",
            "--requestheader-username-headers", "X-Remote-User", "--requestheader-group-headers", "X-Remote-Group",
            "--requestheader-extra-headers-prefix", "X-Remote-Extra-",
            "--proxy-client-cert-file", str(pki / "admin.crt"), "--proxy-client-key-file", str(pki / "admin.key"),
            # The aggregator dials an APIService's endpoints (there is no kube-proxy for ClusterIPs).
            "--enable-aggregator-routing=true",
        ])  # fmt: skip
        self._wait_ready()
        for name, port in (("kube-controller-manager", _free_port()), ("kube-scheduler", _free_port())):
            user = name.removeprefix("kube-")
            config = str(self.kubeconfig(user))
            # The default controllers: the cloud ones stay idle without a cloud provider (and 1.37 no longer
            # knows their names, so a --controllers list that names them stops it from starting).
            extra = (["--use-service-account-credentials", "--service-account-private-key-file", str(pki / "sa.key"),
                      "--root-ca-file", str(pki / "ca.crt"), "--cluster-signing-cert-file", str(pki / "ca.crt"),
                      "--cluster-signing-key-file", str(pki / "ca.key"),
                      # The HPA reads its metrics every 2 s instead of 15 s: the scaling test stays short.
                      "--horizontal-pod-autoscaler-sync-period", "2s"]
                     if user == "controller-manager" else [])  # fmt: skip
            self._run(name, [str(kube / name), "--kubeconfig", config, "--authentication-kubeconfig", config,
                             "--authorization-kubeconfig", config, "--bind-address", "127.0.0.1",
                             "--secure-port", str(port), "--leader-elect=false", *extra])  # fmt: skip
        stages = self.workdir / "kwok-stages.yaml"
        stages.write_text(kwok_stages(bins["kwok"]))
        # kwok's Logs and PortForward rules as custom resources, installed before kwok watches them: `kubectl
        # logs` and `kubectl port-forward` then reach files and servers a test names, through the API server.
        crds = kwok_module(bins["kwok"]) / "kustomize" / "crd" / "bases"
        for plural in KWOK_RULES.values():
            self.kubectl("apply", "-f", str(crds / f"kwok.x-k8s.io_{plural}.yaml"))
        # The node port is where the API server dials the simulated kubelet (logs, port-forward); the server
        # address keeps kwok's server on loopback.
        kubelet_port = _free_port()
        self._run("kwok", [str(bins["kwok"] / "kwok"), "--kubeconfig", str(self.kubeconfig("kwok")), "--config",
                           str(stages), "--manage-all-nodes", "--node-ip", "127.0.0.1",
                           "--node-port", str(kubelet_port), "--server-address", f"127.0.0.1:{kubelet_port}",
                           # Node leases kwok renews: without them the node lifecycle controller marks the
                           # nodes Unknown after ~50 s, and kwok's re-initialised status loses the addresses
                           # the API server dials for logs and port-forward.
                           "--node-lease-duration-seconds", "40",
                           "--enable-crds", ",".join(KWOK_RULES),
                           *(["--cidr", self.pod_cidr] if self.pod_cidr else [])])  # fmt: skip
        self.kubectl("apply", "-f", "-", input_text=NODES)
        self.wait_for(lambda: self.kubectl("get", "nodes", "-o", "name").count("node/") == 3, "three Ready nodes")
        return self

    def serve_logs(self, namespace: str, path: Path, lines: list[str], previous: list[str] | None = None) -> None:
        """Every pod in the namespace 'logs' these lines, and `previous` for `kubectl logs --previous`
        (written in the CRI format kwok reads)."""
        stamp = "2026-11-27T11:00:00.000000000Z"
        path.write_text("".join(f"{stamp} stdout F {line}\n" for line in lines), encoding="utf-8")
        files = f"logsFile: '{path}'"
        if previous is not None:
            before = path.with_suffix(".previous.log")
            before.write_text("".join(f"{stamp} stdout F {line}\n" for line in previous), encoding="utf-8")
            files += f", previousLogsFile: '{before}'"
        self.kubectl("apply", "-f", "-", input_text=(
            "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterLogs\n"
            f"metadata: {{name: logs-{namespace}}}\n"
            f"spec: {{selector: {{matchNamespaces: [{namespace}]}}, logs: [{{{files}}}]}}\n"
        ))  # fmt: skip

    def forward_ports(self, namespace: str, port: int) -> None:
        """A port-forward to any pod in the namespace reaches 127.0.0.1:port (a server the test runs)."""
        self.kubectl("apply", "-f", "-", input_text=(
            "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterPortForward\n"
            f"metadata: {{name: forward-{namespace}}}\n"
            f"spec: {{selector: {{matchNamespaces: [{namespace}]}}, "
            f"forwards: [{{target: {{address: 127.0.0.1, port: {port}}}}}]}}\n"
        ))  # fmt: skip

    def _wait_ready(self, timeout: float = 60) -> None:
        context = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        context.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{self.port}/readyz", context=context, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"kube-apiserver not ready within {timeout:.0f} s; see {self.workdir}/kube-apiserver.log")

    def kubectl(self, *args: str, input_text: str | None = None, check: bool = True) -> str:
        kubectl = REPO / ".tools" / "bin" / "kubectl"
        result = subprocess.run([str(kubectl), "--kubeconfig", str(self.kubeconfig()), *args], input=input_text,
                                capture_output=True, text=True, check=False, timeout=60)  # fmt: skip
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def wait_for(self, condition: Any, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.5)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        self.processes.clear()


def kwok_module(kwok_bin: Path) -> Path:
    """kwok's Go module in the build cache (its stages and CRDs come from there, not from this repository)."""
    version = kwok_bin.parent.name.split("-")[1]
    return kwok_bin.parents[1] / "go" / "mod" / "sigs.k8s.io" / f"kwok@v{version}"


def kwok_stages(kwok_bin: Path) -> str:
    """kwok's own fast stages, read from its Go module in the build cache, plus one that completes helm's
    test pods (kwok completes only Job pods, and a test hook is a bare pod)."""
    root = kwok_module(kwok_bin) / "kustomize" / "stage"
    documents = [(root / stage).read_text(encoding="utf-8") for stage in KWOK_STAGES]
    complete = (root / "pod/fast/pod-complete.yaml").read_text(encoding="utf-8")
    documents.append(
        complete.replace("name: pod-complete", "name: helm-test-pod-complete")
        .replace("key: '.metadata.ownerReferences.[].kind'", "key: '.metadata.annotations[\"helm.sh/hook\"]'")
        .replace("- 'Job'", "- 'test'")
    )
    documents += [scenario_stage(namespace, event, status) for namespace, (event, status) in SCENARIOS.items()]
    return "\n---\n".join(documents)


# Pods in these namespaces do what a kubelet reports for a failing TGI container, instead of getting
# Ready: the status and the event the kubelet writes (pkg/kubelet: "Back-off restarting failed
# container", "Readiness probe failed: HTTP probe failed with statuscode: 503"). The controllers, the
# scheduler and the API server around them are real; kwok plays the kubelet.
SCENARIOS = {
    "scenario-crash-loop": (
        {"type": "Warning", "reason": "BackOff", "message": "Back-off restarting failed container inference in pod"},
        """ready: false
        restartCount: 4
        started: false
        state:
          waiting:
            reason: CrashLoopBackOff
            message: back-off 1m20s restarting failed container=inference
        lastState:
          terminated:
            exitCode: 1
            reason: Error
            startedAt: {{ $now | Quote }}
            finishedAt: {{ $now | Quote }}""",
    ),
    # The Secret a container's secretKeyRef names does not exist (pkg/kubelet/kuberuntime: ErrCreateContainerConfig
    # with the secret manager's NotFound): the pod's ExternalSecret has not produced it.
    "scenario-config-error": (
        {"type": "Warning", "reason": "Failed", "message": "Error: CreateContainerConfigError"},
        """ready: false
        restartCount: 0
        started: false
        state:
          waiting:
            reason: CreateContainerConfigError
            message: secret "{{ index $.metadata.labels "app" }}-hf-token" not found""",
    ),
    "scenario-probe-fails": (
        {"type": "Warning", "reason": "Unhealthy",
         "message": "Readiness probe failed: HTTP probe failed with statuscode: 503"},
        """ready: false
        restartCount: 0
        started: true
        state:
          running:
            startedAt: {{ $now | Quote }}""",
    ),
}  # fmt: skip


def scenario_stage(namespace: str, event: dict[str, str], container_status: str) -> str:
    """A kwok Stage that outweighs pod-ready (weight 0) for a Pending pod in `namespace`."""
    return f"""apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {{name: {namespace}}}
spec:
  resourceRef: {{apiGroup: v1, kind: Pod}}
  selector:
    matchExpressions:
    - {{key: '.metadata.namespace', operator: In, values: ['{namespace}']}}
    - {{key: '.metadata.deletionTimestamp', operator: DoesNotExist}}
    - {{key: '.status.phase', operator: In, values: ['Pending']}}
  weight: 1
  next:
    event: {json.dumps(event)}
    statusTemplate: |
      {{{{ $now := Now }}}}
      conditions:
      - {{type: Initialized, status: "True", lastTransitionTime: {{{{ $now | Quote }}}}}}
      - {{type: Ready, status: "False", reason: ContainersNotReady,
          lastTransitionTime: {{{{ $now | Quote }}}}}}
      - {{type: ContainersReady, status: "False", reason: ContainersNotReady,
          lastTransitionTime: {{{{ $now | Quote }}}}}}
      containerStatuses:
      {{{{ range .spec.containers }}}}
      - image: {{{{ .image | Quote }}}}
        name: {{{{ .name | Quote }}}}
        {container_status}
      {{{{ end }}}}
      hostIP: {{{{ NodeIPWith .spec.nodeName | Quote }}}}
      podIP: {{{{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" )
        ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}}}
      phase: Running
      startTime: {{{{ $now | Quote }}}}
"""


NODES = (
    """
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: nvidia}
handler: nvidia
"""
    + "".join(
        f"""---
apiVersion: v1
kind: Node
metadata:
  name: gpu-{i}
  annotations: {{node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}}
  labels:
    kubernetes.io/hostname: gpu-{i}
    nvidia.com/gpu.present: "true"
    nvidia.com/gpu.product: NVIDIA-A100-SXM4-80GB
    nvidia.com/gpu.memory: "81920"
    nvidia.com/gpu.count: "1"
spec:
  taints: [{{key: nvidia.com/gpu, value: present, effect: NoSchedule}}]
status:
  allocatable: {{cpu: "32", memory: 256Gi, pods: "110", nvidia.com/gpu: "1"}}
  capacity: {{cpu: "32", memory: 256Gi, pods: "110", nvidia.com/gpu: "1"}}
"""
        for i in (1, 2)
    )
    + """---
apiVersion: v1
kind: Node
metadata:
  name: cpu-1
  annotations: {node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/hostname: cpu-1}
status:
  allocatable: {cpu: "16", memory: 64Gi, pods: "110"}
  capacity: {cpu: "16", memory: 64Gi, pods: "110"}
"""
)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/workload-cluster")
    plane = ControlPlane(folder).start()
    print(f"export KUBECONFIG={plane.kubeconfig()}   # Ctrl-C stops the control plane", flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        plane.stop()
