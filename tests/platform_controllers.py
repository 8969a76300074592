"""The platform's own controllers against the test control plane (tests/controlplane.py), for
tests/test_platform.py: the Prometheus Operator and Prometheus, the KEDA operator and its metrics API server,
the External Secrets Operator and a Vault dev server, each built from its Go module by
scripts/cluster/controllers.sh and cached outside the repository. Their CRDs come from the same modules.

They run on the host, as processes of the test, with the admin's client certificate. Pods are processes too
(tests/pods.py): each in a network namespace holding its pod IP, which the host routes to, so Prometheus
scrapes `podIP:port` as discovered from the EndpointSlices, as it would in a cluster.
"""

from __future__ import annotations

import base64
import gzip
import json
import socket
import subprocess
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from controlplane import REPO, ControlPlane, _free_port, _openssl

CONTROLLERS = REPO / "scripts" / "cluster" / "controllers.sh"
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # pod IPs and loopback: never a proxy


@dataclass(frozen=True)
class Controller:
    bin: Path  # the folder of its binaries
    module: Path  # its Go module's source (CRDs, stages)


def controllers(*names: str) -> dict[str, Controller]:
    """The controllers' binaries and module sources (building what is not cached yet: minutes, cold)."""
    result = subprocess.run([str(CONTROLLERS), *names], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/cluster/controllers.sh {' '.join(names)}:\n{result.stderr[-3000:]}")
    found = {}
    for line in result.stdout.splitlines():
        name, bin_folder, module = line.split()
        found[name] = Controller(Path(bin_folder), Path(module))
    return found


def wait_established(plane: ControlPlane, *crds: str) -> None:
    """Until the API server serves these CRDs. (`kubectl wait --for condition=Established` fails instead of
    waiting when it asks before the CRD has any status.)"""

    def established(crd: str) -> bool:
        jsonpath = "jsonpath={.status.conditions[?(@.type=='Established')].status}"
        return plane.kubectl("get", "crd", crd, "-o", jsonpath, check=False) == "True"

    plane.wait_for(lambda: all(established(crd) for crd in crds), f"the CRDs {', '.join(crds)}")


def http_json(url: str, timeout: float = 10) -> Any:
    with DIRECT.open(url, timeout=timeout) as response:
        return json.load(response)


@dataclass
class Prometheus:
    """The Prometheus Operator turns the ServiceMonitors into a Prometheus configuration (the Secret
    `prometheus-<name>` it writes for its config reloader); Prometheus runs that configuration. The one
    substitution: the operator's configuration discovers in-cluster (a service account token on a pod), so
    each kubernetes_sd_config gets the admin's kubeconfig instead; what the config reloader would do (expand
    the pod's variables, reload) is `sync()`."""

    plane: ControlPlane
    workdir: Path
    operator: Controller
    prometheus: Controller
    scrape_interval: str = "2s"
    port: int = field(default_factory=_free_port)
    name: str = "platform"
    namespace: str = "monitoring"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Prometheus:
        crds = self.operator.module / "example" / "prometheus-operator-crd"
        for crd in sorted(crds.glob("*.yaml")):
            self.plane.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(crd))
        wait_established(self.plane, "prometheuses.monitoring.coreos.com", "servicemonitors.monitoring.coreos.com")
        pki = self.plane.pki
        self.plane._run("prometheus-operator", [
            str(self.operator.bin / "prometheus-operator"), f"--apiserver=https://127.0.0.1:{self.plane.port}",
            f"--cert-file={pki / 'admin.crt'}", f"--key-file={pki / 'admin.key'}", f"--ca-file={pki / 'ca.crt'}",
            f"--web.listen-address=127.0.0.1:{_free_port()}", "--log-level=warn",
            f"--prometheus-instance-namespaces={self.namespace}",
        ])  # fmt: skip
        version = self.prometheus.module.name.split("@v0.")[1]  # 316.0 -> 3.16.0
        self.plane.kubectl("apply", "-f", "-", input_text=f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {self.namespace}}}
---
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {{name: {self.name}, namespace: {self.namespace}}}
spec:
  version: v3.{version[1:]}
  serviceDiscoveryRole: EndpointSlice
  scrapeInterval: {self.scrape_interval}
  evaluationInterval: {self.scrape_interval}
  serviceMonitorSelector: {{}}
  serviceMonitorNamespaceSelector: {{}}
""")  # fmt: skip
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        self.plane.wait_for(lambda: self._config() is not None, "the operator's Prometheus configuration", timeout=90)
        self._write(self._config() or {})
        self.plane._run("prometheus", [
            str(self.prometheus.bin / "prometheus"), f"--config.file={self.config_file}",
            f"--storage.tsdb.path={self.workdir / 'tsdb'}", f"--web.listen-address=127.0.0.1:{self.port}",
            "--web.enable-lifecycle", "--log.level=warn",
        ])  # fmt: skip
        self.plane.wait_for(self._ready, "Prometheus to be ready")
        return self

    @property
    def config_file(self) -> Path:
        return self.workdir / "prometheus.yaml"

    def _ready(self) -> bool:
        try:
            with DIRECT.open(f"{self.url}/-/ready", timeout=5) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def _config(self) -> dict[str, Any] | None:
        out = self.plane.kubectl("get", "secret", f"prometheus-{self.name}", "-n", self.namespace, "-o",
                                 "jsonpath={.data.prometheus\\.yaml\\.gz}", check=False)  # fmt: skip
        if not out.strip():
            return None
        config: dict[str, Any] = yaml.safe_load(gzip.decompress(base64.b64decode(out)))
        return config

    def _write(self, config: dict[str, Any]) -> None:
        for job in config.get("scrape_configs") or []:
            for sd in job.get("kubernetes_sd_configs", []):
                sd["kubeconfig_file"] = str(self.plane.kubeconfig())
        # The config reloader writes the file with $(VAR) expanded from its pod's environment
        # (--config-envsubst-file, pkg/operator/config_reloader.go): the shard and the pod's name.
        text = yaml.safe_dump(config).replace("$(SHARD)", "0").replace("$(POD_NAME)", f"prometheus-{self.name}-0")
        self.config_file.write_text(text, encoding="utf-8")

    def jobs(self) -> list[str]:
        return [job["job_name"] for job in (self._config() or {}).get("scrape_configs") or []]

    def sync(self, *monitors: str) -> None:
        """Wait for the operator to put these ServiceMonitors' jobs (`namespace/name`) into the configuration,
        then load it, as the config reloader would."""
        self.plane.wait_for(lambda: all(any(j.startswith(f"serviceMonitor/{m}/") for j in self.jobs())
                                        for m in monitors), f"the operator to configure {monitors}")  # fmt: skip
        self._write(self._config() or {})
        with DIRECT.open(urllib.request.Request(f"{self.url}/-/reload", data=b""), timeout=30) as response:
            assert response.status == 200

    def query(self, expr: str, at: float | None = None) -> list[tuple[dict[str, str], float]]:
        """An instant query: each series' labels and value."""
        params = {"query": expr} | ({"time": f"{at:.3f}"} if at is not None else {})
        body = http_json(f"{self.url}/api/v1/query?{urllib.parse.urlencode(params)}")
        assert body["status"] == "success", body
        assert body["data"]["resultType"] == "vector", f"{expr}: {body['data']['resultType']}"
        return [(item["metric"], float(item["value"][1])) for item in body["data"]["result"]]

    def wait_scraped(self, namespace: str, service: str, pods: int, timeout: float = 60) -> None:
        """Until `pods` targets of the service are up, each scraped at least twice."""

        def scraped() -> bool:
            up = self.query(f'count_over_time(up{{namespace="{namespace}",service="{service}"}}[1m]) >= 2')
            healthy = self.query(f'up{{namespace="{namespace}",service="{service}"}} == 1')
            return len(up) == pods and len(healthy) == pods

        self.plane.wait_for(scraped, f"{pods} scraped targets of {namespace}/{service}", timeout=timeout)


def host_address() -> str:
    """This machine's address on its default route (no packet is sent): where the API server's aggregator
    reaches an extension API server running here (an endpoint may not be loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))
        address = str(probe.getsockname()[0])
    if address.startswith("127."):
        raise RuntimeError("this machine has no non-loopback address for the aggregator to reach KEDA's adapter on")
    return address


def key_pair(plane: ControlPlane, folder: Path, name: str, sans: list[str]) -> Path:
    """tls.crt and tls.key for both ends (serverAuth and clientAuth), signed by the control plane's CA, and
    that CA as ca.crt: the files KEDA's processes read from their --cert-dir (pkg/metricsservice/utils/tls.go)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ext.cnf").write_text(f"extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName={','.join(sans)}\n")
    pki = plane.pki
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tls.key", "-out", "tls.csr", "-subj", f"/CN={name}",
             cwd=folder)  # fmt: skip
    _openssl("x509", "-req", "-in", "tls.csr", "-CA", str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key"),
             "-CAcreateserial", "-out", "tls.crt", "-days", "2", "-extfile", "ext.cnf", cwd=folder)  # fmt: skip
    (folder / "ca.crt").write_bytes((pki / "ca.crt").read_bytes())
    return folder


def extension_server_flags(plane: ControlPlane, address: str, port: int, certs: Path) -> list[str]:
    """The flags of a custom-metrics-apiserver based server (KEDA's adapter, prometheus-adapter) outside the
    cluster: every client config from the admin's kubeconfig (each defaults to in-cluster), serving on this
    host's address, and trusting the aggregator's front-proxy certificate (CN admin) with the CA's files
    instead of reading kube-system/extension-apiserver-authentication."""
    kubeconfig, ca = plane.kubeconfig(), plane.pki / "ca.crt"
    return [*(f"--{flag}={kubeconfig}" for flag in ("lister-kubeconfig", "authentication-kubeconfig",
                                                    "authorization-kubeconfig")),
            f"--bind-address={address}", f"--secure-port={port}", f"--cert-dir={certs}",
            f"--tls-cert-file={certs / 'tls.crt'}", f"--tls-private-key-file={certs / 'tls.key'}",
            f"--client-ca-file={ca}", f"--requestheader-client-ca-file={ca}", "--requestheader-allowed-names=admin",
            "--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-"]  # fmt: skip


def register_api(plane: ControlPlane, group: str, namespace: str, service: str, *, address: str, port: int) -> None:
    """The APIService v1beta1.<group>, served at address:port on this host. The aggregator finds it through the
    Service's EndpointSlices (k8s.io/apiserver pkg/util/proxy/endpointslice.go): a Service without a selector
    and a slice of its own; it verifies the serving certificate as <service>.<namespace>.svc with the CA."""
    bundle = base64.b64encode((plane.pki / "ca.crt").read_bytes()).decode()
    plane.kubectl("apply", "-f", "-", input_text=f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {namespace}}}
---
apiVersion: v1
kind: Service
metadata: {{name: {service}, namespace: {namespace}}}
spec: {{ports: [{{name: https, port: 443, targetPort: {port}, protocol: TCP}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {service}-host
  namespace: {namespace}
  labels: {{kubernetes.io/service-name: {service}}}
addressType: IPv4
ports: [{{name: https, port: {port}, protocol: TCP}}]
endpoints: [{{addresses: ["{address}"], conditions: {{ready: true}}}}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {{name: v1beta1.{group}}}
spec:
  service: {{name: {service}, namespace: {namespace}, port: 443}}
  group: {group}
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  caBundle: {bundle}
""")  # fmt: skip
    plane.wait_for(lambda: "True" in plane.kubectl("get", "apiservice", f"v1beta1.{group}", "-o",
                                                   "jsonpath={.status.conditions[?(@.type=='Available')].status}"),
                   f"the {group} API to be available", timeout=90)  # fmt: skip


@dataclass
class Keda:
    """The KEDA operator (runs the ScaledObject's scalers and owns its HPA) and its metrics API server
    (external.metrics.k8s.io, which the HPA controller reads through the API server's aggregation layer).
    They share one key pair for their gRPC link, as KEDA's own certificate manager makes it
    (pkg/certificates/certificate_manager.go)."""

    plane: ControlPlane
    workdir: Path
    keda: Controller

    def start(self) -> Keda:
        crds = self.keda.module / "config" / "crd" / "bases"
        self.plane.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(crds))
        wait_established(self.plane, "scaledobjects.keda.sh")
        address = host_address()
        certs = key_pair(
            self.plane,
            self.workdir / "certs",
            "keda",
            ["DNS:keda-operator.keda.svc", "DNS:keda-metrics-apiserver.keda.svc", "IP:127.0.0.1", f"IP:{address}"],
        )
        kubeconfig = str(self.plane.kubeconfig())
        grpc, adapter = _free_port(), _free_port()
        # WATCH_NAMESPACE empty: every namespace; the cluster-object namespace replaces the service account's.
        env = ["env", f"KUBECONFIG={kubeconfig}", "WATCH_NAMESPACE=", "POD_NAMESPACE=keda",
               "KEDA_CLUSTER_OBJECT_NAMESPACE=keda"]  # fmt: skip
        self.plane.kubectl("create", "namespace", "keda")
        self.plane._run("keda-operator", [*env, str(self.keda.bin / "keda"), f"--kubeconfig={kubeconfig}",
            "--leader-elect=false", "--enable-cert-rotation=false", f"--cert-dir={certs}",
            f"--metrics-bind-address=127.0.0.1:{_free_port()}", f"--health-probe-bind-address=127.0.0.1:{_free_port()}",
            f"--metrics-service-bind-address=127.0.0.1:{grpc}", "--zap-log-level=info"])  # fmt: skip
        self.plane._run("keda-adapter", [*env, str(self.keda.bin / "keda-adapter"), f"--kubeconfig={kubeconfig}",
            *extension_server_flags(self.plane, address, adapter, certs), f"--metrics-service-address=127.0.0.1:{grpc}",
            f"--port={_free_port()}", "--zap-log-level=info"])  # fmt: skip
        register_api(
            self.plane, "external.metrics.k8s.io", "keda", "keda-metrics-apiserver", address=address, port=adapter
        )
        return self


@dataclass
class PrometheusAdapter:
    """prometheus-adapter serving the custom metrics API (custom.metrics.k8s.io) from the real Prometheus,
    with the rules in docs/autoscaling/prometheus-adapter-rules.yaml: what `scaling.autoscaling.engine: hpa`
    needs. That file is written for the prometheus-adapter Helm chart (rules.custom); the adapter's own
    --config takes the same rules as its top-level `rules` (the chart's templates/configmap.yaml does that)."""

    plane: ControlPlane
    workdir: Path
    adapter: Controller
    prometheus_url: str

    def start(self) -> PrometheusAdapter:
        rules = yaml.safe_load((REPO / "docs" / "autoscaling" / "prometheus-adapter-rules.yaml").read_text())
        config = self.workdir / "config.yaml"
        self.workdir.mkdir(parents=True, exist_ok=True)
        config.write_text(yaml.safe_dump({"rules": rules["rules"]["custom"]}), encoding="utf-8")
        address, port = host_address(), _free_port()
        certs = key_pair(self.plane, self.workdir / "certs", "prometheus-adapter",
                         ["DNS:prometheus-adapter.monitoring.svc", f"IP:{address}"])  # fmt: skip
        self.plane._run("prometheus-adapter", [str(self.adapter.bin / "prometheus-adapter"),
            *extension_server_flags(self.plane, address, port, certs), f"--prometheus-url={self.prometheus_url}",
            f"--config={config}", "--metrics-relist-interval=5s", "--v=1"])  # fmt: skip
        register_api(
            self.plane, "custom.metrics.k8s.io", "monitoring", "prometheus-adapter", address=address, port=port
        )
        return self


@dataclass
class Secrets:
    """A Vault dev server (KV v2 mounted at secret/) and the External Secrets Operator's controller, with the
    platform's ClusterSecretStore for that Vault (token auth), as a platform team would set it up."""

    plane: ControlPlane
    workdir: Path
    eso: Controller
    vault: Controller
    port: int = field(default_factory=_free_port)
    store: str = "vault-backend"  # the chart's default secretStore.name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Secrets:
        # ESO's CRDs, one bundle (v0.16.2 serves and stores external-secrets.io/v1); too large for client-side apply.
        self.plane.kubectl("apply", "--server-side", "--force-conflicts", "-f",
                           str(self.eso.module / "deploy" / "crds" / "bundle.yaml"))  # fmt: skip
        wait_established(self.plane, "externalsecrets.external-secrets.io", "clustersecretstores.external-secrets.io")
        self.plane._run("vault", [str(self.vault.bin / "vault"), "server", "-dev", "-dev-root-token-id=root",
                                  f"-dev-listen-address=127.0.0.1:{self.port}"])  # fmt: skip
        self.plane.wait_for(self._vault_ready, "Vault's dev server")
        # KUBECONFIG: ESO's command line has no --kubeconfig (controller-runtime's flag is not on its flag set).
        self.plane._run("external-secrets", ["env", f"KUBECONFIG={self.plane.kubeconfig()}",
            str(self.eso.bin / "external-secrets"), f"--metrics-addr=127.0.0.1:{_free_port()}",
            "--enable-leader-election=false", "--concurrent=2", "--store-requeue-interval=10s"])  # fmt: skip
        self.plane.kubectl("apply", "-f", "-", input_text=f"""
apiVersion: v1
kind: Namespace
metadata: {{name: external-secrets}}
---
apiVersion: v1
kind: Secret
metadata: {{name: vault-token, namespace: external-secrets}}
stringData: {{token: root}}
---
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {{name: {self.store}}}
spec:
  provider:
    vault:
      server: {self.url}
      path: secret
      version: v2
      auth:
        tokenSecretRef: {{name: vault-token, key: token, namespace: external-secrets}}
""")  # fmt: skip
        self.plane.wait_for(lambda: "True" in self.plane.kubectl(
            "get", "clustersecretstore", self.store, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
            check=False), "the ClusterSecretStore to be Ready", timeout=90)  # fmt: skip
        return self

    def _vault_ready(self) -> bool:
        try:
            return bool(http_json(f"{self.url}/v1/sys/health").get("initialized"))
        except OSError:
            return False

    def write(self, path: str, data: dict[str, str]) -> None:
        """`vault kv put secret/<path> ...`, over Vault's HTTP API."""
        request = urllib.request.Request(f"{self.url}/v1/secret/data/{path}", data=json.dumps({"data": data}).encode(),
                                         headers={"X-Vault-Token": "root"}, method="POST")  # fmt: skip
        with DIRECT.open(request, timeout=10) as response:
            assert response.status == 200
