"""Each production option of issue 3, rendered with Helm 3 and Helm 4: what it adds to the manifests."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from typing import Any

import pytest
import yaml

from conftest import (
    CHART,
    EXAMPLES,
    FIXTURES,
    HelmFailed,
    Render,
    by_kind,
    container,
    env_of,
    helm_path,
    helm_template,
    kinds,
)
from workload.chart_facts import (
    API_KEY_SECRET_KEY,
    CHART_LABEL_KEYS,
    CHART_NAME,
    CONTAINER_NAME,
    HF_TOKEN_SECRET_KEY,
    PORT_NAME,
    SELECTOR_LABEL_KEYS,
    SERVICE_PORT,
)
from workload.engines.tgi.check import TgiClient, check_chat_completion
from workload.ops.phases import Phase, read_log

CHART_FILES = CHART / "files"

MINIMAL = (EXAMPLES / "minimal.yaml").read_text(encoding="utf-8")

# TGI's documented metrics (docs/source/reference/metrics.md) plus tgi_request_failure from its router and
# tgi_batch_max_total_tokens, the KV capacity set at warm-up (backends/v3/src/lib.rs:138, v3.3.7).
TGI_METRICS = {
    "tgi_batch_current_max_tokens", "tgi_batch_current_size", "tgi_batch_decode_duration",
    "tgi_batch_filter_duration", "tgi_batch_forward_duration", "tgi_batch_inference_count",
    "tgi_batch_inference_duration", "tgi_batch_inference_success", "tgi_batch_next_size", "tgi_queue_size",
    "tgi_request_count", "tgi_request_duration", "tgi_request_generated_tokens", "tgi_request_inference_duration",
    "tgi_request_input_length", "tgi_request_max_new_tokens", "tgi_request_mean_time_per_token_duration",
    "tgi_request_queue_duration", "tgi_request_skipped_tokens", "tgi_request_success",
    "tgi_request_validation_duration", "tgi_request_failure", "tgi_batch_max_total_tokens",
}  # fmt: skip


def values(extra: str) -> str:
    """The minimal example plus more YAML (later keys of the same name are not used: give whole sections)."""
    return MINIMAL + extra


def pod_spec(docs: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = by_kind(docs, "Deployment")["spec"]["template"]["spec"]
    return spec


class TestModelCache:
    def test_off_by_default_the_cache_is_an_emptydir(self, render: Render) -> None:
        docs = render(MINIMAL)
        assert "PersistentVolumeClaim" not in kinds(docs)
        volumes = {v["name"]: v for v in pod_spec(docs)["volumes"]}
        assert volumes["model-cache"] == {"name": "model-cache", "emptyDir": {}}
        assert env_of(docs)["HF_HOME"] == "/data"
        assert "HF_HUB_OFFLINE" not in env_of(docs)

    def test_enabled_creates_and_mounts_a_claim(self, render: Render) -> None:
        docs = render(values("storage:\n  modelCache:\n    enabled: true\n    size: 120Gi\n    storageClass: nfs\n"))
        claim = by_kind(docs, "PersistentVolumeClaim")
        assert claim["metadata"]["name"] == "qwen-small-model-cache"
        assert claim["spec"] == {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "nfs",
            "resources": {"requests": {"storage": "120Gi"}},
        }  # fmt: skip
        assert "annotations" not in claim["metadata"], "kept only when asked"
        volumes = {v["name"]: v for v in pod_spec(docs)["volumes"]}
        assert volumes["model-cache"]["persistentVolumeClaim"] == {"claimName": "qwen-small-model-cache"}

    def test_default_storage_class_is_left_to_the_cluster(self, render: Render) -> None:
        claim = by_kind(render(values("storage:\n  modelCache:\n    enabled: true\n")), "PersistentVolumeClaim")
        assert "storageClassName" not in claim["spec"]

    def test_keep_on_uninstall(self, render: Render) -> None:
        docs = render(values("storage:\n  modelCache:\n    enabled: true\n    keepOnUninstall: true\n"))
        annotations = by_kind(docs, "PersistentVolumeClaim")["metadata"]["annotations"]
        assert annotations == {"helm.sh/resource-policy": "keep"}

    def test_existing_claim_is_used_not_created(self, render: Render) -> None:
        docs = render(values("storage:\n  modelCache:\n    enabled: true\n    existingClaim: shared-weights\n"))
        assert "PersistentVolumeClaim" not in kinds(docs)
        volumes = {v["name"]: v for v in pod_spec(docs)["volumes"]}
        assert volumes["model-cache"]["persistentVolumeClaim"] == {"claimName": "shared-weights"}

    def test_offline_mode_and_mount_path(self, render: Render) -> None:
        docs = render(values("storage:\n  modelCache:\n    enabled: true\n    offline: true\n    mountPath: /models\n"))
        env = env_of(docs)
        assert env["HF_HUB_OFFLINE"] == "1"
        assert env["HF_HOME"] == "/models"
        mounts = {m["name"]: m["mountPath"] for m in container(docs)["volumeMounts"]}
        assert mounts["model-cache"] == "/models"


class TestMultiGpu:
    def test_count_sets_shards_limit_and_shared_memory(self, render: Render) -> None:
        docs = render(values("gpu:\n  count: 4\nresources:\n  limits:\n    memory: 64Gi\n"))
        assert env_of(docs)["NUM_SHARD"] == "4"
        assert container(docs)["resources"]["limits"]["nvidia.com/gpu"] == 4
        volumes = {v["name"]: v for v in pod_spec(docs)["volumes"]}
        assert volumes["shm"]["emptyDir"]["sizeLimit"] == "4Gi"

    def test_shared_memory_size_is_configurable(self, render: Render) -> None:
        docs = render(values("inference:\n  shmSize: 512Mi\n"))
        volumes = {v["name"]: v for v in pod_spec(docs)["volumes"]}
        assert volumes["shm"]["emptyDir"]["sizeLimit"] == "512Mi"


class TestEngineSettings:
    def test_unset_settings_keep_tgi_defaults(self, render: Render) -> None:
        env = env_of(render(MINIMAL))
        for name in ("QUANTIZE", "DTYPE", "TRUST_REMOTE_CODE", "MAX_CONCURRENT_REQUESTS", "MAX_BATCH_PREFILL_TOKENS",
                     "MAX_BATCH_TOTAL_TOKENS", "CUDA_GRAPHS", "PAYLOAD_LIMIT", "GRACEFUL_TERMINATION_TIMEOUT",
                     "API_KEY"):  # fmt: skip
            assert name not in env

    def test_settings_become_tgi_variables(self, render: Render) -> None:
        env = env_of(render(values(
            "inference:\n  maxConcurrentRequests: 256\n  maxBatchPrefillTokens: 4096\n  maxBatchTotalTokens: 1000000\n"
            "  cudaGraphs: [0]\n  payloadLimit: 2000000\n  gracefulTerminationTimeout: 60\n"
        )))  # fmt: skip
        assert env["MAX_CONCURRENT_REQUESTS"] == "256"
        assert env["MAX_BATCH_PREFILL_TOKENS"] == "4096"
        assert env["MAX_BATCH_TOTAL_TOKENS"] == "1000000", "large numbers are not printed as 1e+06"
        assert env["CUDA_GRAPHS"] == "0"
        assert env["PAYLOAD_LIMIT"] == "2000000"
        assert env["GRACEFUL_TERMINATION_TIMEOUT"] == "60"

    @pytest.mark.parametrize("method", ["awq", "gptq", "bitsandbytes-nf4", "fp8", "compressed-tensors"])
    def test_quantization(self, render: Render, method: str) -> None:
        doc = yaml.safe_load(MINIMAL)
        doc["model"]["quantization"] = method
        assert env_of(render(yaml.safe_dump(doc)))["QUANTIZE"] == method

    def test_dtype_and_remote_code(self, render: Render) -> None:
        doc = yaml.safe_load(MINIMAL)
        doc["model"].update(dtype="float16", trustRemoteCode=True)
        env = env_of(render(yaml.safe_dump(doc)))
        assert env["DTYPE"] == "float16"
        assert env["TRUST_REMOTE_CODE"] == "true"

    def test_grace_period_follows_a_longer_drain(self, render: Render) -> None:
        docs = render(values("inference:\n  gracefulTerminationTimeout: 300\n  terminationGracePeriodSeconds: 330\n"))
        assert pod_spec(docs)["terminationGracePeriodSeconds"] == 330

    @pytest.mark.parametrize(
        ("image", "accepted"),
        [
            ({"tag": "2.4.1"}, True),
            ({"tag": "2.4.0"}, False),
            ({"tag": "3.3.7-rocm"}, True),
            ({"tag": "latest"}, False),
            ({"tag": "latest", "version": "3.3.7"}, True),
            ({"tag": "2.4.0", "digest": "sha256:" + "ab" * 32}, False),
        ],
        ids=["exact", "older", "suffixed", "not-a-version", "declared", "digest-keeps-the-tag-version"],
    )
    def test_version_gated_option_follows_the_image(
        self, render: Render, image: dict[str, str], accepted: bool
    ) -> None:
        doc = yaml.safe_load(MINIMAL)
        doc["inference"] = {"payloadLimit": 2000000, "image": image}
        text = yaml.safe_dump(doc)
        if accepted:
            assert env_of(render(text))["PAYLOAD_LIMIT"] == "2000000"
        else:
            with pytest.raises(HelmFailed, match=re.escape("inference.payloadLimit: needs TGI >= 2.4.1")):
                render(text)


class TestMonitoring:
    def test_scrape_annotations_by_default(self, render: Render) -> None:
        annotations = by_kind(render(MINIMAL), "Deployment")["spec"]["template"]["metadata"]["annotations"]
        assert annotations == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "8080",
            "prometheus.io/path": "/metrics",
        }

    def test_service_monitor_scrapes_the_named_port(self, render: Render) -> None:
        docs = render(values(
            "monitoring:\n  serviceMonitor:\n    enabled: true\n    labels:\n      release: prometheus\n"
        ))  # fmt: skip
        monitor, service = by_kind(docs, "ServiceMonitor"), by_kind(docs, "Service")
        assert monitor["metadata"]["name"] == "qwen-small-monitor"
        assert monitor["metadata"]["labels"]["release"] == "prometheus"
        endpoint = monitor["spec"]["endpoints"][0]
        assert endpoint == {"port": "http", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}
        assert endpoint["port"] in [p["name"] for p in service["spec"]["ports"]]
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert selector.items() <= service["metadata"]["labels"].items()
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["test-ns"]}

    def test_grafana_dashboard_configmap(self, render: Render) -> None:
        docs = render(values("monitoring:\n  grafanaDashboard:\n    enabled: true\n    folder: LLM\n"))
        config_map = by_kind(docs, "ConfigMap")
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert config_map["metadata"]["annotations"] == {"grafana_folder": "LLM"}
        ((name, text),) = config_map["data"].items()
        assert name == "tgi-qwen-small.json"
        dashboard = json.loads(text)
        assert "__SERVICE__" not in text
        assert "__NAMESPACE__" not in text
        assert dashboard["title"] == "TGI: qwen-small (test-ns)"
        expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
        used = {m for e in expressions for m in TGI_METRICS if m in e}
        assert {
            "tgi_queue_size",
            "tgi_request_duration",
            "tgi_request_generated_tokens",
            "tgi_batch_current_size",
            "tgi_batch_current_max_tokens",  # KV pressure, as the autoscaler reads it
            "tgi_batch_max_total_tokens",
        } <= used
        titles = {p["title"] for p in dashboard["panels"]}
        assert {"Replicas", "Active requests per pod", "KV pressure"} <= titles
        for expression in expressions:
            for metric in re.findall(r"\btgi_[a-z_]+", expression):
                base = re.sub(r"_(bucket|sum)$", "", metric)
                assert metric in TGI_METRICS or base in TGI_METRICS, metric


class TestAccessControl:
    def test_api_key_from_vault(self, render: Render) -> None:
        docs = render(values("apiKey:\n  vaultPath: /secret/ml/tgi-key\n"))
        assert env_of(docs)["API_KEY"] == {"secretKeyRef": {"name": "qwen-small-api-key", "key": "api-key"}}
        secret = by_kind(docs, "ExternalSecret")
        assert secret["metadata"]["name"] == "qwen-small-api-key"
        assert secret["spec"]["data"] == [
            {"secretKey": "api-key", "remoteRef": {"key": "secret/ml/tgi-key", "property": "value"}}
        ]

    def test_api_key_from_an_existing_secret(self, render: Render) -> None:
        docs = render(values("apiKey:\n  existingSecret: tgi-auth\n"))
        assert env_of(docs)["API_KEY"] == {"secretKeyRef": {"name": "tgi-auth", "key": "api-key"}}
        assert "ExternalSecret" not in kinds(docs)

    def test_route_exposes_only_inference_and_info_endpoints(self, render: Render) -> None:
        docs = render(values("ingress:\n  enabled: true\n  host: llm.example.com\n"))
        matches = by_kind(docs, "HTTPRoute")["spec"]["rules"][0]["matches"]
        paths = [m["path"]["value"] for m in matches]
        assert {m["path"]["type"] for m in matches} == {"Exact"}
        assert {"/", "/generate", "/generate_stream", "/v1/chat/completions", "/info"} <= set(paths)
        assert "/metrics" not in paths
        # `/` is TGI's compat route, matched exactly: no prefix match can reach /metrics or /docs.
        assert all(m["path"] == {"type": "Exact", "value": "/"} for m in matches if m["path"]["value"] == "/")

    def test_network_policy(self, render: Render) -> None:
        docs = render(values(
            "ingress:\n  enabled: true\n  host: llm.example.com\nnetworkPolicy:\n  enabled: true\n"
        ))  # fmt: skip
        policies = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "NetworkPolicy"}
        spec = policies["qwen-small"]
        assert spec["podSelector"]["matchLabels"] == by_kind(docs, "Deployment")["spec"]["selector"]["matchLabels"]
        assert spec["policyTypes"] == ["Ingress", "Egress"]
        test_pod, callers, probes = spec["ingress"]
        assert test_pod["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "helm-test"
        namespaces = [s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for s in callers["from"]]
        assert namespaces == ["istio-ingress", "monitoring"]
        assert {p["port"] for p in callers["ports"]} == {8080, 15008}
        assert probes["from"] == [  # IPv4 and IPv6 (dual-stack) probe SNAT addresses of istio-cni
            {"ipBlock": {"cidr": "169.254.7.127/32"}},
            {"ipBlock": {"cidr": "fd16:9254:7127:1337:ffff:ffff:ffff:ffff/128"}},
        ]
        test_policy = policies["qwen-small-helm-test"]
        assert test_policy["ingress"] == []
        assert {p["port"] for rule in test_policy["egress"] for p in rule["ports"]} == {8080, 15008, 53}
        egress_ports = {(p["port"], p["protocol"]) for rule in spec["egress"] for p in rule["ports"]}
        assert egress_ports == {(53, "UDP"), (53, "TCP"), (443, "TCP")}

    def test_network_policy_without_callers_denies_ingress(self, render: Render) -> None:
        docs = render(values(
            "networkPolicy:\n  enabled: true\n  monitoringNamespace: ''\n  istioAmbient: false\n"
            "helmTest:\n  enabled: false\n"
        ))  # fmt: skip
        assert by_kind(docs, "NetworkPolicy")["spec"]["ingress"] == []


class TestHardening:
    def test_hardened_by_default(self, render: Render) -> None:
        """Stock TGI 3.3.7 starts only as uid 0 (TGI issue 3082); everything else stays hardened."""
        docs = render(MINIMAL)
        pod = pod_spec(docs)
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"] == {
            "runAsNonRoot": False, "runAsUser": 0, "runAsGroup": 0, "fsGroup": 10001,
            "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"},
        }  # fmt: skip
        assert container(docs)["securityContext"] == {
            "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
        }  # fmt: skip
        env = env_of(docs)
        assert env["HOME"] == "/tmp", "caches that follow HOME need a writable place"
        writable = {m["mountPath"] for m in container(docs)["volumeMounts"]}
        assert {"/tmp", "/dev/shm", env["HF_HOME"]} <= writable

    @pytest.mark.parametrize(
        ("image", "user"),
        [
            ("image:\n    tag: 2.4.0\n", (True, 10001, 10001)),
            ("image:\n    tag: 3.1.0\n", (True, 10001, 10001)),
            ("image:\n    tag: 3.1.1\n", (False, 0, 0)),
            ("image:\n    tag: latest\n", (False, 0, 0)),
            ("image:\n    tag: latest\n    version: 3.0.2\n", (True, 10001, 10001)),
            ("image:\n    tag: 3.3.7-nonroot\n    runsAsNonRoot: true\n", (True, 10001, 10001)),
        ],
        ids=["2.4.0", "3.1.0", "3.1.1", "latest", "latest-declared-3.0.2", "derived-image"],
    )
    def test_user_follows_the_image(self, render: Render, image: str, user: tuple[bool, int, int]) -> None:
        context = pod_spec(render(values(f"inference:\n  {image}")))["securityContext"]
        assert (context["runAsNonRoot"], context["runAsUser"], context["runAsGroup"]) == user

    def test_explicit_user_is_kept(self, render: Render) -> None:
        docs = render(values(
            "inference:\n  image:\n    tag: 3.3.7-nonroot\n    runsAsNonRoot: true\n"
            "podSecurityContext:\n  runAsUser: 1000700000\n  fsGroup: 1000700000\n"
        ))  # fmt: skip
        context = pod_spec(docs)["securityContext"]
        assert (context["runAsNonRoot"], context["runAsUser"], context["runAsGroup"]) == (True, 1000700000, 10001)
        test_pod = by_kind(docs, "Pod", test_hook=True)["spec"]["securityContext"]
        assert test_pod["runAsUser"] == 1000700000

    def test_refusal_names_the_issue_and_both_ways_out(self, render: Render) -> None:
        with pytest.raises(HelmFailed) as failed:
            render(values("podSecurityContext:\n  runAsNonRoot: true\n"))
        assert (
            "podSecurityContext.runAsNonRoot: must not be true: TGI 3.3.7 runs only as uid 0 (TGI >= 3.1.1 keeps "
            "its Python under /root: TGI issue 3082); leave runAsNonRoot and runAsUser unset, or build "
            "images/tgi-nonroot/Dockerfile and set inference.image.runsAsNonRoot: true"
        ) in failed.value.stderr

    def test_test_pod_never_runs_as_root(self, render: Render) -> None:
        test_pod = by_kind(render(MINIMAL), "Pod", test_hook=True)["spec"]["securityContext"]
        assert (test_pod["runAsNonRoot"], test_pod["runAsUser"], test_pod["runAsGroup"]) == (True, 10001, 10001)

    def test_each_part_can_be_turned_off(self, render: Render) -> None:
        docs = render(values(
            "containerSecurityContext:\n  readOnlyRootFilesystem: false\n  allowPrivilegeEscalation: true\n"
            "  dropAllCapabilities: false\nautomountServiceAccountToken: true\n"
        ))  # fmt: skip
        assert container(docs)["securityContext"] == {"readOnlyRootFilesystem": False, "allowPrivilegeEscalation": True}
        assert pod_spec(docs)["automountServiceAccountToken"] is True


class TestHelmTest:
    def test_test_pod_calls_the_service_and_is_not_behind_it(self, render: Render) -> None:
        docs = render(values("apiKey:\n  existingSecret: tgi-auth\n"))
        pod = by_kind(docs, "Pod", test_hook=True)
        config_map = by_kind(docs, "ConfigMap", test_hook=True)
        assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
        selector = by_kind(docs, "Service")["spec"]["selector"]
        assert not selector.items() <= pod["metadata"]["labels"].items(), "the Service must not route to the test"
        (test,) = pod["spec"]["containers"]
        env = {e["name"]: e.get("value", e.get("valueFrom")) for e in test["env"]}
        assert env["TGI_URL"] == "http://qwen-small.test-ns.svc:80"
        assert env["MODEL_ID"] == "Qwen/Qwen2.5-0.5B-Instruct"
        assert env["API_KEY"] == {"secretKeyRef": {"name": "tgi-auth", "key": "api-key"}}
        assert test["image"] == "docker.io/library/python:3.13-alpine"
        assert test["command"] == ["python3", "-I", "/scripts/tgi_check.py"]
        assert config_map["data"]["tgi_check.py"].startswith("# GENERATED")
        assert test["securityContext"]["readOnlyRootFilesystem"] is True

    def test_can_be_turned_off(self, render: Render) -> None:
        docs = render(values("helmTest:\n  enabled: false\n"))
        assert not [d for d in docs if d["kind"] in ("Pod", "ConfigMap")]


class TestSimulator:
    """simulator.enabled: the release as it will run, with `workload simulate` in place of TGI."""

    SIM = "simulator:\n  enabled: true\n  tokenDelayMs: 5\n"

    def test_pod_runs_the_simulator_without_a_gpu(self, render: Render) -> None:
        real, simulated = render(MINIMAL), render(values(self.SIM))
        pod, tgi = pod_spec(simulated), container(simulated)
        assert tgi["image"] == "docker.io/library/python:3.13-alpine"
        assert tgi["command"] == [
            "python3", "-I", "-B", "/simulator/tgi_simulator.py", "--from-env", "--host", "0.0.0.0", "--port", "8080",
        ]  # fmt: skip
        assert tgi["resources"] == {"requests": {"cpu": "250m", "memory": "128Mi"},
                                    "limits": {"cpu": "250m", "memory": "128Mi"}}  # fmt: skip
        assert not {"runtimeClassName", "nodeSelector", "tolerations"} & pod.keys()
        script = by_kind(simulated, "ConfigMap")["data"]["tgi_simulator.py"]
        assert script == (CHART_FILES / "tgi_simulator.py").read_text(encoding="utf-8").rstrip("\n")
        # Everything else is the release as it will be with TGI: environment, user, probes, Service.
        assert {k: v for k, v in env_of(simulated).items() if not k.startswith("SIMULATOR_")} == env_of(real)
        assert env_of(simulated)["SIMULATOR_TOKEN_DELAY_MS"] == "5"
        assert pod["securityContext"] == pod_spec(real)["securityContext"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert tgi[probe] == container(real)[probe]
        assert by_kind(simulated, "Service") == by_kind(real, "Service")

    def test_the_rendered_pod_command_serves_tgis_api(self, render: Render) -> None:
        """Run the pod's own command and environment (secrets filled in) and call it as a client would."""
        tgi = container(render(values(self.SIM + "apiKey:\n  existingSecret: tgi-auth\n")))
        env = {e["name"]: e.get("value", "sk-from-secret") for e in tgi["env"]}
        port = free_port()
        command = [sys.executable if word == "python3" else word for word in tgi["command"]]
        command[command.index("/simulator/tgi_simulator.py")] = str(CHART_FILES / "tgi_simulator.py")
        command[command.index("0.0.0.0")] = "127.0.0.1"  # tests listen on loopback only
        command[-1] = str(port)
        process = subprocess.Popen(command, env={**env, "PATH": os.environ["PATH"]}, stdout=subprocess.PIPE)
        try:
            assert process.stdout is not None
            log = [process.stdout.readline().decode() for _ in range(8)]
            client = TgiClient(f"http://127.0.0.1:{port}", "sk-from-secret")
            info = json.loads(client.call("GET", "/info")[1])
            unauthorised = TgiClient(f"http://127.0.0.1:{port}").call("POST", "/generate", {"inputs": "a"})[0]
            chat = check_chat_completion(client)
        finally:
            process.terminate()
            process.wait(timeout=10)
        assert read_log(log).phase is Phase.READY, log
        assert info["model_id"] == "Qwen/Qwen2.5-0.5B-Instruct"
        assert (info["max_input_tokens"], info["max_total_tokens"]) == (2048, 4096)
        assert unauthorised == 401
        assert chat.ok, chat


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestLabels:
    def test_extra_labels_are_merged_not_appended(self, render: Render) -> None:
        """Extra labels join the chart's as one mapping: each key once (the rules refuse the chart's keys)."""
        text = helm_raw(values(
            "monitoring:\n  serviceMonitor:\n    enabled: true\n    labels: {release: prom, team: ml}\n"
            "  grafanaDashboard:\n    enabled: true\n"
        ))  # fmt: skip
        for block in re.findall(r"\n  labels:\n((?:    .*\n)+)", text):
            keys = [line.split(":")[0].strip() for line in block.splitlines()]
            assert len(keys) == len(set(keys)), keys
        docs = render(values(
            "monitoring:\n  serviceMonitor:\n    enabled: true\n    labels: {release: prom, team: ml}\n"
        ))  # fmt: skip
        labels = by_kind(docs, "ServiceMonitor")["metadata"]["labels"]
        assert (labels["release"], labels["team"], labels["app"]) == ("prom", "ml", "qwen-small")

    def test_the_chart_facts_name_every_label_the_chart_sets(self, render: Render) -> None:
        labels = by_kind(render(MINIMAL), "Deployment")["metadata"]["labels"]
        assert sorted(labels) == sorted(CHART_LABEL_KEYS)
        selector = by_kind(render(MINIMAL), "Service")["spec"]["selector"]
        assert sorted(selector) == sorted(SELECTOR_LABEL_KEYS)


def helm_raw(values_text: str) -> str:
    return helm_template(helm_path("helm4"), values_text)


def test_the_chart_renders_the_facts_the_tools_read(render: Render) -> None:
    """chart_facts.py is where deploy, verify and the tests read names from; the chart must agree."""
    docs = render((FIXTURES / "values" / "everything.yaml").read_text(encoding="utf-8"))
    assert container(docs)["name"] == CONTAINER_NAME
    (port,) = by_kind(docs, "Service")["spec"]["ports"]
    assert (port["name"], port["port"], port["targetPort"]) == (PORT_NAME, SERVICE_PORT, PORT_NAME)
    secret_keys = {
        d["metadata"]["name"]: d["spec"]["data"][0]["secretKey"] for d in docs if d["kind"] == "ExternalSecret"
    }
    assert secret_keys == {"everything-hf-token": HF_TOKEN_SECRET_KEY, "everything-api-key": API_KEY_SECRET_KEY}
    assert by_kind(docs, "Deployment")["metadata"]["labels"]["app.kubernetes.io/name"] == CHART_NAME


def test_the_helm_test_pod_runs_on_a_cluster_of_tainted_gpu_nodes(render: Render) -> None:
    """It tolerates the workload's GPU taints and requests no GPU, so a GPU-only cluster can run it."""
    docs = render(values(
        "gpu:\n  tolerations:\n    - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}\n"
        "    - {key: dedicated, operator: Equal, value: ml, effect: NoExecute}\n"
    ))  # fmt: skip
    test_pod = by_kind(docs, "Pod", test_hook=True)["spec"]
    assert test_pod["tolerations"] == pod_spec(docs)["tolerations"]
    assert test_pod["tolerations"][1] == {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoExecute"}
    (check,) = test_pod["containers"]
    assert not [r for r in {**check["resources"]["limits"], **check["resources"]["requests"]} if "gpu" in r]
    assert "nodeSelector" not in test_pod
