"""The chart against the platform's own controllers, on the real control plane: the Prometheus Operator turns
the chart's ServiceMonitor into Prometheus' configuration, Prometheus scrapes the simulator pods, and every
PromQL the chart renders (the ScaledObject's triggers, the Grafana dashboard's panels) is evaluated by the
real Prometheus against those series, for every engine, on Helm 3 and Helm 4.

Pods are local processes (tests/pods.py): kwok makes them Running with an IP from its --cidr, and each runs
its container's command in a network namespace holding that IP; the real vLLM's pod runs its image's entry
point from vLLM's CPU wheel (tests/real_vllm.py). The controllers are built from their Go modules
(scripts/cluster/controllers.sh, cached outside the repository).
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import openai
import pytest
import text_generation
import yaml
from typer.testing import CliRunner

from conftest import CHART, EXAMPLES, helm_path, missing
from controlplane import KUBERNETES_VERSIONS, ControlPlane, missing_tools
from platform_controllers import DIRECT, Keda, Prometheus, PrometheusAdapter, Secrets, controllers
from pods import Kubelet, missing_network_tools
from real_vllm import START_BUDGET_SECONDS, entrypoint, write_tiny_model
from test_cluster import helm
from workload.cli import app
from workload.engines import engine, engine_names
from workload.ops.kube import Kubectl
from workload.ops.verify import check_autoscaler

POD_CIDR = "10.244.0.0/16"  # kwok's pod IPs; each is routed to its pod's network namespace
SCRAPE = "2s"  # the ServiceMonitor's interval here (30 s by default)
# What Grafana puts for $__rate_interval with its data source's default scrape interval (15 s): 4 x 15 s.
RATE_INTERVAL = "1m"
TOKEN_DELAY_MS = 50


@dataclass
class Platform:
    plane: ControlPlane
    kubelet: Kubelet
    prometheus: Prometheus
    keda: Keda
    adapter: PrometheusAdapter
    secrets: Secrets


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """One control plane (the newest Kubernetes) with pod networking, the Prometheus Operator, Prometheus and
    KEDA."""
    for lacking in (missing_tools(), missing_network_tools()):
        if lacking is not None:
            missing(lacking)
    workdir = tmp_path_factory.mktemp("platform")
    built = controllers()  # all of them
    plane = ControlPlane(workdir / "plane", kubernetes=KUBERNETES_VERSIONS[-1], pod_cidr=POD_CIDR).start()
    kubelet = Kubelet(f"https://127.0.0.1:{plane.port}", plane.pki, workdir / "pods")
    try:
        prometheus = Prometheus(plane, workdir / "prometheus", built["prometheus-operator"], built["prometheus"])
        kubelet.start()
        keda = Keda(plane, workdir / "keda", built["keda"])
        adapter = PrometheusAdapter(plane, workdir / "prometheus-adapter", built["prometheus-adapter"], prometheus.url)
        secrets = Secrets(plane, workdir / "secrets", built["external-secrets"], built["vault"])
        prometheus.start()
        yield Platform(plane, kubelet, prometheus, keda.start(), adapter.start(), secrets.start())
    finally:
        kubelet.stop()
        plane.stop()


def named_values(folder: Path, name: str, extra: str) -> Path:
    """The least a team writes (examples/minimal.yaml) as release `name`, with `extra` after it."""
    path = folder / f"{name}.yaml"
    minimal = (EXAMPLES / "minimal.yaml").read_text(encoding="utf-8")
    path.write_text(minimal.replace("serviceName: qwen-small", f"serviceName: {name}") + extra, encoding="utf-8")
    return path


def values_for(engine: str, folder: Path, name: str, autoscaling: str = "    engine: keda\n", extra: str = "",
               *, inference: str = "", simulator: bool = True) -> Path:  # fmt: skip
    """With the simulator (unless not `simulator`), monitoring, the dashboard and autoscaling on (KEDA unless
    `autoscaling` says); `inference` adds lines under `inference:`."""
    simulated = f"simulator:\n  enabled: true\n  tokenDelayMs: {TOKEN_DELAY_MS}\n" if simulator else ""
    return named_values(folder, name, f"inference:\n  engine: {engine}\n{inference}{simulated}"
        f"monitoring:\n  serviceMonitor:\n    enabled: true\n    interval: {SCRAPE}\n    scrapeTimeout: {SCRAPE}\n"
        "  grafanaDashboard:\n    enabled: true\n"
        f"scaling:\n  autoscaling:\n    enabled: true\n{autoscaling}{extra}")  # fmt: skip


def manifest(plane: ControlPlane, helm_name: str, release: str, namespace: str) -> list[dict[str, Any]]:
    out = helm(plane, helm_name, "get", "manifest", release, "-n", namespace).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def rendered_queries(docs: list[dict[str, Any]], namespace: str, service: str) -> dict[str, str]:
    """Every PromQL the release renders, by where it is: the ScaledObject's triggers and the dashboard's panel
    targets, with the dashboard's variables filled in as Grafana does for this release."""
    queries: dict[str, str] = {}
    for doc in docs:
        if doc["kind"] == "ScaledObject":
            for trigger in doc["spec"]["triggers"]:
                queries[f"trigger {trigger['name']}"] = trigger["metadata"]["query"]
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"].endswith("-grafana-dashboard"):
            (text,) = doc["data"].values()
            for panel in json.loads(text)["panels"]:
                for i, target in enumerate(panel.get("targets", [])):
                    expr = target["expr"].replace("$namespace", namespace).replace("$service", service)
                    queries[f"panel {panel['title']!r} #{i}"] = expr.replace("$__rate_interval", RATE_INTERVAL)
    assert queries, "the release renders no PromQL"
    assert not [q for q in queries.values() if "$" in q], "a dashboard variable is left unfilled"
    return queries


MODEL, PROMPT = "Qwen/Qwen2.5-0.5B-Instruct", "Kubernetes is"
NO_EOS = {"ignore_eos": True}  # vLLM's and SGLang's: the real vLLM's tiny model (random weights) ends answers early


class Load:
    """Requests through the engine's real client (text-generation for TGI, openai for vLLM and SGLang)."""

    def __init__(self, engine: str, url: str) -> None:
        self.engine, self.url = engine, url

    def _openai(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key="unused", max_retries=0, timeout=120)

    def request(self, tokens: int) -> None:
        if self.engine == "tgi":
            text_generation.Client(self.url, timeout=120).generate(PROMPT, max_new_tokens=tokens)
        else:
            self._openai().completions.create(model=MODEL, prompt=PROMPT, max_tokens=tokens, extra_body=NO_EOS)

    def hold(self, tokens: int, release: threading.Event) -> bool:
        """A streamed request of up to `tokens`, in flight until `release` is set (then the client hangs up,
        and the engine aborts it); whether it was still in flight then."""
        if self.engine == "tgi":
            tgi = text_generation.Client(self.url, timeout=120).generate_stream(PROMPT, max_new_tokens=tokens)
            with closing(tgi):
                return any(release.is_set() for _ in tgi)
        stream = self._openai().completions.create(model=MODEL, prompt=PROMPT, max_tokens=tokens, stream=True,
                                                   extra_body=NO_EOS)  # fmt: skip
        with stream:
            return any(release.is_set() for _ in stream)


def scrape(url: str) -> dict[str, float]:
    """The pod's own /metrics: each unlabelled-by-us series (name{labels}) and its value."""
    with DIRECT.open(url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    series: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            series[key] = float(value)
    return series


def gauge(series: dict[str, float], name: str) -> float:
    return sum(v for k, v in series.items() if re.fullmatch(rf"{re.escape(name)}(\{{.*\}})?", k))


def direct_value(query: str, value_of: Callable[[str], float]) -> float | None:
    """What a gauge-only trigger or panel query evaluates to on one pod's own numbers (sum, avg, count and
    the division of the chart's queries), or None for a query over counters or histograms."""
    if "rate(" in query or "histogram_quantile" in query:
        return None
    values = {name: value_of(name) for name in re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", query)}
    python = re.sub(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{[^}]*\}", lambda m: f"v[{m[1]!r}]", query)
    python = python.replace("sum(", "(").replace("avg(", "(").replace("count(", "_one(")
    result: float = eval(python, {"v": values, "_one": lambda _: 1.0})  # the chart's own arithmetic, one pod
    return result


@dataclass(frozen=True)
class Release:
    """One release of a PromQL case: its values, how many short requests it finishes, then how many streams
    it holds in flight, of up to how many tokens (more than the checks take: they are released after them)."""

    values: Path
    finished: int
    in_flight: int
    long_tokens: int = 2000  # 100 s at 50 ms a token


def assert_own_numbers(queries: dict[str, str], results: dict[str, list[tuple[dict[str, str], float]]],
                       expected: dict[str, float | None], in_flight: int) -> None:  # fmt: skip
    """Each query returned something, and what the first release's load and pod make it (check_promql)."""
    empty = [f"{where}: {queries[where]}" for where, result in results.items() if not result]
    assert not empty, "queries that return nothing:\n" + "\n".join(empty)
    for where, result in results.items():
        query = queries[where]
        values = [value for _, value in result]
        if (value := expected[where]) is not None:
            assert values == pytest.approx([value] * len(values), abs=1e-9), f"{where}: {query}"
        elif "histogram_quantile" in query:
            assert all(math.isfinite(v) and v > 0 for v in values), f"{where}: {query} = {values}"
        elif re.search(r"(request_count|num_requests_total|request_success)", query):
            # rate() over the last minute: the first release's 6 finished requests (9 with the ones in flight,
            # for TGI's count at arrival), extrapolated to the window's edges; with the second's it would be 18+.
            assert 5 / 60 <= sum(values) <= 12 / 60, f"{where}: {query} = {values} (the second release's leaked in?)"
        else:
            assert all(math.isfinite(v) and v >= 0 for v in values), f"{where}: {query} = {values}"
    active = results["trigger active-requests"]
    assert [value for _, value in active] == [in_flight], "the trigger counts another release's pods"


def check_promql(platform: Platform, helm_name: str, ns: str, engine_name: str, releases: dict[str, Release], *,
                 start_timeout: float = 60, while_held: Callable[[], None] = lambda: None) -> None:  # fmt: skip
    """Releases `releases` (the first one is checked) in namespace `ns`, under load; every query of the first
    must return a result, a gauge query the chart's arithmetic over the first pod's own series at the same
    instant (the other releases' pods would move it), a rate the first's finished requests, a quantile a
    number. `while_held` runs after the queries, while the long requests are still in flight."""
    plane, prometheus = platform.plane, platform.prometheus
    plane.kubectl("create", "namespace", ns)
    platform.kubelet.namespaces.add(ns)
    for release, spec in releases.items():
        helm(plane, helm_name, "install", release, str(CHART), "-n", ns, "-f", str(spec.values), "--wait",
             "--timeout", "90s")  # fmt: skip
    running = platform.kubelet.wait_running(ns, len(releases), timeout=start_timeout)
    pods = {p.name.rsplit("-", 2)[0]: p for p in running}
    assert set(pods) == set(releases), pods
    prometheus.sync(*(f"{ns}/{release}-monitor" for release in releases))
    for release in releases:
        prometheus.wait_scraped(ns, release, pods=1)

    first = next(iter(releases))
    loads = {release: Load(engine_name, f"http://{pods[release].ip}:8080") for release in releases}
    hang_up = threading.Event()  # once set, the held streams end: after the checks, or on a failure before
    with ThreadPoolExecutor(max_workers=8) as pool:
        try:
            for release in releases:
                # One first, then the rest after a scrape: an engine that creates a histogram's series at its
                # first observation (TGI) starts it at 1, and rate() sees only what comes after.
                loads[release].request(4)
            time.sleep(2 * 2)
            for release, spec in releases.items():
                list(pool.map(loads[release].request, [4] * (spec.finished - 1)))
            held = [pool.submit(loads[r].hold, spec.long_tokens, hang_up) for r, spec in releases.items()
                    for _ in range(spec.in_flight)]  # fmt: skip
            signals = engine(engine_name).signals.active_requests  # the engine's waiting + running gauges

            def in_flight() -> bool:
                return all(sum(gauge(scrape(loads[r].url), s) for s in signals) == spec.in_flight
                           for r, spec in releases.items())  # fmt: skip

            plane.wait_for(in_flight, "the long requests to be in flight", timeout=30)
            time.sleep(3 * 2)  # three scrapes of the steady state
            at = time.time()
            queries = rendered_queries(manifest(plane, helm_name, first, ns), ns, first)
            results = {where: prometheus.query(query, at) for where, query in queries.items()}

            @cache
            def own(name: str) -> float:  # the first pod's own series of `name`, as Prometheus holds them at `at`
                selector = f'namespace="{ns}",pod="{pods[first].name}"'
                return sum(value for _, value in prometheus.query(f"{name}{{{selector}}}", at))

            expected = {where: direct_value(query, own) for where, query in queries.items()}
            while_held()
            assert not any(f.done() for f in held), "a long request finished before the checks ended"
        finally:
            hang_up.set()
        assert all(future.result() for future in held), "a long request ended before it was released"

    assert_own_numbers(queries, results, expected, releases[first].in_flight)
    for release in releases:
        helm(plane, helm_name, "uninstall", release, "-n", ns, "--wait", "--timeout", "60s")
    platform.kubelet.namespaces.discard(ns)


@pytest.mark.parametrize("helm_name", ["helm3", "helm4"])
@pytest.mark.parametrize("engine_name", engine_names())
def test_every_promql_the_chart_renders_returns_the_releases_own_numbers(
    platform: Platform, tmp_path: Path, engine_name: str, helm_name: str
) -> None:
    """Two simulator releases in one namespace under load: 3 long requests in flight on the first, 1 on the
    second, after 6 and 12 short ones. Every query of the first release returns a result; a gauge query is
    the first pod's own (3 active requests, not 4); a rate sees the first release's 6 requests, not 18; a
    latency quantile is a number, not NaN."""
    releases = {"first": Release(values_for(engine_name, tmp_path, "first"), finished=6, in_flight=3),
                "second": Release(values_for(engine_name, tmp_path, "second"), finished=12, in_flight=1)}  # fmt: skip
    check_promql(platform, helm_name, f"promql-{engine_name}-{helm_name}", engine_name, releases)


REAL_VLLM_CONTEXT = 32768  # inference.maxTotalTokens: room for streams that outlast the checks (tiny_model.py)


def test_the_real_vllm_gives_prometheus_and_keda_its_own_numbers(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real vLLM (the CPU wheel serving a tiny model) as a pod: the test kubelet runs the image's entry
    point, `vllm serve`, with the pod's rendered args and environment (tests/real_vllm.py's substitutions), next
    to a vLLM simulator release in its namespace. Prometheus scrapes it through the chart's ServiceMonitor;
    every PromQL of its release returns its own numbers, checked as the simulators' are; KEDA's HPA reads its 3
    active requests from Prometheus, and at a target of 4 keeps ceil(3/4) = 1 replica (one real vLLM is what
    this machine holds; the simulators show the scaling)."""
    monkeypatch.setenv("KUBECONFIG", str(platform.plane.kubeconfig()))
    platform.kubelet.entrypoints[engine("vllm").image.repository] = entrypoint(write_tiny_model(tmp_path / "model"))
    ns, helm_name = "promql-real-vllm", "helm4"
    real = values_for("vllm", tmp_path, "first", (
        f"    engine: keda\n    maxReplicas: 2\n    targetActiveRequests: 4\n    pollingIntervalSeconds: 5\n"
        f"    prometheusAddress: {platform.prometheus.url}\n"), inference=f"  maxTotalTokens: {REAL_VLLM_CONTEXT}\n",
        simulator=False)  # fmt: skip
    releases = {
        "first": Release(real, finished=6, in_flight=3, long_tokens=REAL_VLLM_CONTEXT - 100),
        "second": Release(values_for("vllm", tmp_path, "second"), finished=12, in_flight=1),
    }
    hpa = {"read": "no HPA"}  # what verify's autoscaler check last said

    def hpa_reads_the_real_vllm() -> None:
        def read() -> bool:
            check = check_autoscaler(Kubectl(ns), deployment(platform.plane, ns, "first"))
            hpa["read"] = check.detail if check else "no HPA"
            # s0: the active-requests trigger (s1, the KV cache's, reads the real cache's use)
            return check is not None and check.ok and re.search(r"reads s0-prometheus = 3[,;]", hpa["read"]) is not None

        try:
            platform.plane.wait_for(read, "KEDA's HPA to read the real vLLM's 3 active requests", timeout=30)
        except AssertionError as error:
            raise AssertionError(f"{error}; it read: {hpa['read']}") from None
        assert "1 replicas (1-2)" in hpa["read"], hpa["read"]
        assert replicas(platform.plane, ns, "first") == 1

    check_promql(platform, helm_name, ns, "vllm", releases, start_timeout=START_BUDGET_SECONDS,
                 while_held=hpa_reads_the_real_vllm)  # fmt: skip


def deployment(plane: ControlPlane, ns: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(plane.kubectl("get", "deployment", name, "-n", ns, "-o", "json"))
    return found


def replicas(plane: ControlPlane, ns: str, name: str) -> int:
    return int(deployment(plane, ns, name)["spec"]["replicas"])


def scale_on_requests(platform: Platform, tmp_path: Path, engine_name: str, helm_name: str, scaler: str) -> list[str]:
    """One engine's release scaled on its own active requests by `scaler` (keda: KEDA's HPA on the trigger;
    hpa: the chart's HPA on prometheus-adapter's Pods metric); returns what went wrong (nothing: [])."""
    plane = platform.plane
    ns, name = f"{scaler}-{engine_name}", "scaled"
    target, most, window = 2, 3, 60  # active requests per pod; maxReplicas; the startup budget = scale-in window
    (folder := tmp_path / ns).mkdir()
    values = values_for(engine_name, folder, name, (
        f"    engine: {scaler}\n    maxReplicas: {most}\n    targetActiveRequests: {target}\n"
        f"    pollingIntervalSeconds: 5\n    prometheusAddress: {platform.prometheus.url}\n"),
        f"healthCheck:\n  startupTimeoutSeconds: {window}\n")  # fmt: skip
    plane.kubectl("create", "namespace", ns)
    platform.kubelet.namespaces.add(ns)
    helm(plane, helm_name, "install", name, str(CHART), "-n", ns, "-f", str(values), "--wait", "--timeout", "90s")
    (first,) = platform.kubelet.wait_running(ns, 1)
    platform.prometheus.sync(f"{ns}/{name}-monitor")
    platform.prometheus.wait_scraped(ns, name, pods=1)
    load = Load(engine_name, f"http://{first.ip}:8080")  # every request to the first pod: the sum is what we hold
    seen: list[int] = []

    def watch(expected: int, what: str, timeout: float) -> None:
        def reached() -> bool:
            seen.append(replicas(plane, ns, name))
            return seen[-1] == expected

        plane.wait_for(reached, f"{ns}: {what}", timeout=timeout)

    tokens = 900  # 45 s at 50 ms a token
    with ThreadPoolExecutor(max_workers=12) as pool:
        held = [pool.submit(load.request, tokens) for _ in range(3)]
        # 3 active requests over a target of 2 per pod: ceil(3 / 2) = 2 replicas.
        watch(2, "the HPA to scale out to ceil(3 / 2) = 2", timeout=60)
        reading = check_autoscaler(Kubectl(ns), deployment(plane, ns, name))
        held += [pool.submit(load.request, tokens) for _ in range(6)]
        # 9 over 2 per pod would be 5: held at maxReplicas.
        watch(most, f"the HPA to scale out to maxReplicas ({most})", timeout=60)
        during = []
        while not all(f.done() for f in held):  # no scale-in while requests are in flight
            during.append(replicas(plane, ns, name))
            time.sleep(0.5)
        for future in held:
            future.result()
    done = time.monotonic()
    watch(most - 1, "the first scale-in", timeout=window + 60)
    first_step = time.monotonic() - done
    watch(1, "scale-in to minReplicas (one pod a minute)", timeout=90)
    helm(plane, helm_name, "uninstall", name, "-n", ns, "--wait", "--timeout", "60s")
    platform.kubelet.namespaces.discard(ns)
    metric = "s0-prometheus" if scaler == "keda" else engine(engine_name).signals.adapter_metric
    problems = []
    if reading is None or not reading.ok or f"reads {metric} = " not in reading.detail:
        problems.append(f"verify's autoscaler check: {reading}")
    if max(seen) > most or min(seen) < 1:
        problems.append(f"replicas left [1, {most}]: {sorted(set(seen))}")
    if set(during) != {most}:
        problems.append(f"replicas while requests were in flight: {sorted(set(during))}, not {most}")
    if first_step < window - 5:
        problems.append(f"scaled in {first_step:.0f} s after the requests ended, inside the {window} s window")
    return problems


def test_every_engine_scales_on_its_own_requests_with_keda_and_with_prometheus_adapter(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chart's autoscaler, unchanged but for the Prometheus address, against the real controllers: KEDA's
    operator reads the ScaledObject's trigger from Prometheus and owns the HPA, its metrics server answers
    the HPA controller through the aggregation layer; or the chart's HPA reads prometheus-adapter's Pods
    metric (docs/autoscaling/prometheus-adapter-rules.yaml). Per engine and scaler, side by side (TGI on
    Helm 3, vLLM and SGLang on Helm 4): 3 requests in flight at a target of 2 per pod make 2 replicas
    (ceil(3/2)), and `workload verify` reads the metric; 9 make maxReplicas 3, not 5; none goes while requests
    are in flight; after they end, the first pod goes no sooner than the 60 s window, then down to
    minReplicas one pod a minute."""
    monkeypatch.setenv("KUBECONFIG", str(platform.plane.kubeconfig()))
    cases = [
        (name, "helm3" if name == "tgi" else "helm4", scaler) for name in engine_names() for scaler in ("keda", "hpa")
    ]
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        futures = {f"{scaler}/{name}": pool.submit(scale_on_requests, platform, tmp_path, name, helm_name, scaler)
                   for name, helm_name, scaler in cases}  # fmt: skip
    problems = {case: future.result() for case, future in futures.items()}
    assert problems == {case: [] for case in futures}


def secret_values(tmp_path: Path, name: str, hf_path: str, api_property: str = "value") -> Path:
    return named_values(tmp_path, name, f"simulator:\n  enabled: true\nvault:\n  hfTokenPath: {hf_path}\n"
                        f"apiKey:\n  vaultPath: ml-team/{name}/api-key\n  vaultProperty: {api_property}\n")  # fmt: skip


def secret_data(plane: ControlPlane, ns: str, name: str) -> dict[str, str]:
    data = json.loads(plane.kubectl("get", "secret", name, "-n", ns, "-o", "json")).get("data", {})
    return {key: base64.b64decode(value).decode() for key, value in data.items()}


def ready(plane: ControlPlane, ns: str, external_secret: str) -> str:
    return plane.kubectl("get", "externalsecret", external_secret, "-n", ns, "-o",
                         "jsonpath={.status.conditions[?(@.type=='Ready')].status}", check=False)  # fmt: skip


def test_the_pod_gets_its_token_and_key_from_vault_through_the_charts_external_secrets(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Vault (KV v2) holds the token and the API key; the chart's ExternalSecrets, unchanged, make the Secrets
    the Deployment reads, with the values written into Vault; the pod runs with them, so the engine's key
    guards it. A path with one segment too many and a property that is not there leave their ExternalSecret
    not Ready, and `workload verify` names the path and property, in one line each."""
    plane, secrets = platform.plane, platform.secrets
    ns = "vaulted"
    plane.kubectl("create", "namespace", ns)
    platform.kubelet.namespaces.add(ns)
    secrets.write("shared/huggingface/token", {"value": "hf_from_vault"})
    for name in ("good", "wrong"):
        secrets.write(f"ml-team/{name}/api-key", {"value": f"sk-{name}-from-vault"})
    helm(plane, "helm4", "install", "good", str(CHART), "-n", ns, "-f",
         str(secret_values(tmp_path, "good", "shared/huggingface/token")), "--wait", "--timeout", "90s")  # fmt: skip
    synced = ("good-hf-token", "good-api-key")
    plane.wait_for(lambda: [ready(plane, ns, n) for n in synced] == ["True", "True"], f"{synced} Ready", timeout=60)
    assert secret_data(plane, ns, "good-hf-token") == {"token": "hf_from_vault"}
    assert secret_data(plane, ns, "good-api-key") == {"api-key": "sk-good-from-vault"}
    (container,) = deployment(plane, ns, "good")["spec"]["template"]["spec"]["containers"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert refs == {"HF_TOKEN": {"name": "good-hf-token", "key": "token"},
                    "API_KEY": {"name": "good-api-key", "key": "api-key"}}  # fmt: skip
    (pod,) = platform.kubelet.wait_running(ns, 1)
    url = f"http://{pod.ip}:8080"
    answer = text_generation.Client(url, headers={"Authorization": "Bearer sk-good-from-vault"}).generate("Hi")
    assert answer.generated_text
    # No key: TGI's empty 401 body, which text-generation 0.7.0 fails to read as JSON (tests/test_clients.py).
    with pytest.raises(ValueError, match="Expecting value"):
        text_generation.Client(url).generate("Hi")

    # One segment too many (the design document's own path had one), and a property the secret lacks.
    helm(plane, "helm4", "install", "wrong", str(CHART), "-n", ns, "-f",
         str(secret_values(tmp_path, "wrong", "shared/huggingface/token/value", api_property="key")))  # fmt: skip
    failing = ("wrong-hf-token", "wrong-api-key")
    plane.wait_for(lambda: [ready(plane, ns, n) for n in failing] == ["False", "False"], f"{failing} to fail",
                   timeout=60)  # fmt: skip
    monkeypatch.setenv("KUBECONFIG", str(plane.kubeconfig()))
    result = CliRunner().invoke(app, ["verify", "--release", "wrong", "--namespace", ns])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "externalsecret/" in line]
    assert any("externalsecret/wrong-hf-token is not Ready: path 'shared/huggingface/token/value' "
               "(vault.hfTokenPath), property 'value' (vault.hfTokenProperty): no secret at that path in "
               "ClusterSecretStore vault-backend" in line for line in lines), result.output  # fmt: skip
    assert any("externalsecret/wrong-api-key is not Ready: path 'ml-team/wrong/api-key' (apiKey.vaultPath), "
               "property 'key' (apiKey.vaultProperty): the secret at that path has no such property" in line
               for line in lines), result.output  # fmt: skip
    assert "wrong" not in " ".join(platform.kubelet.pods), "a pod started without its Secret"
    for release in ("good", "wrong"):
        helm(plane, "helm4", "uninstall", release, "-n", ns, "--wait", "--timeout", "60s")
    platform.kubelet.namespaces.discard(ns)


def test_deploy_names_the_vault_path_that_keeps_the_pod_from_starting(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`workload deploy` of a release whose token path is wrong: the kubelet cannot create the container
    without the Secret (kwok plays that in scenario-config-error), and deploy says why, in one line, from
    the ExternalSecret the real ESO failed to sync."""
    ns = "scenario-config-error"
    platform.secrets.write("ml-team/stuck/api-key", {"value": "sk-stuck"})  # only the token's path is wrong
    monkeypatch.setenv("KUBECONFIG", str(platform.plane.kubeconfig()))
    monkeypatch.setenv("WORKLOAD_HELM", str(helm_path("helm3")))
    values = secret_values(tmp_path, "stuck", "shared/huggingface/tokens")
    result = CliRunner().invoke(app, ["deploy", str(values), "--namespace", ns])
    assert result.exit_code == 1, result.output
    assert "failed while starting TGI: externalsecret/stuck-hf-token is not Ready" in result.output
    assert ("externalsecret/stuck-hf-token is not Ready: path 'shared/huggingface/tokens' (vault.hfTokenPath), "
            "property 'value' (vault.hfTokenProperty): no secret at that path in ClusterSecretStore vault-backend"
            in result.output), result.output  # fmt: skip
    helm(platform.plane, "helm3", "uninstall", "stuck", "-n", ns, "--wait", "--timeout", "60s")
