"""Values contract of the ML_INFERENCE_LOAD workload: Hugging Face TGI on one or more GPUs.

Field descriptions are the documentation: they are copied into values.schema.json and the chart
README's values table by `workload generate`. Defaults here are the chart's values.yaml (a test keeps
them equal). Where this differs from the design document, decisions.md section 2 says why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from workload.models.common import (
    WHOLE,
    CpuQuantity,
    DnsLabel,
    DnsLabelOrEmpty,
    DnsSubdomain,
    DnsSubdomainOrEmpty,
    Environment,
    EnvironmentVariableObj,
    GatewayDuration,
    HostnameOrEmpty,
    LabelKey,
    LabelValue,
    MemoryQuantity,
    RefreshInterval,
    SecretKey,
    ValuesModel,
    explained,
)
from workload.problems import Problem
from workload.quantities import cpu_millicores, memory_bytes

WORKLOAD_TYPE = "ML_INFERENCE_LOAD"
CHART_NAME = "ml-inference-load"

ModelId = Annotated[
    str,
    StringConstraints(
        pattern=explained(
            r"^([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$",
            "a Hugging Face model id such as 'meta-llama/Llama-3.2-1B': an optional owner and '/', then a "
            "name of letters, digits, '-', '_' and '.'",
        ),
        max_length=96,
        min_length=1,
    ),
]
Revision = Annotated[
    str,
    StringConstraints(
        pattern=explained(
            r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$",
            "a branch, tag or commit of the model repository such as 'main' or a 40-character commit sha",
        ),
        max_length=255,
        min_length=1,
    ),
]
ImageRepository = Annotated[
    str,
    StringConstraints(
        pattern=explained(
            r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*$",
            "an image repository such as 'ghcr.io/huggingface/text-generation-inference' (lowercase, no tag)",
        ),
        max_length=255,
        min_length=1,
    ),
]
ImageTag = Annotated[
    str,
    StringConstraints(
        pattern=explained(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", "an image tag such as '3.3.7'"),
        max_length=128,
        min_length=1,
    ),
]
ImageDigest = Annotated[
    str,
    StringConstraints(
        pattern=explained(r"^(sha256:[a-f0-9]{64})?$", "empty, or an image digest 'sha256:' + 64 hex digits"),
        max_length=71,
        min_length=0,
    ),
]
VaultPath = Annotated[
    str,
    StringConstraints(
        pattern=explained(
            r"^(/*[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*)?$",
            "empty, or a Vault KV path such as 'secret/shared/huggingface/token': segments of letters, "
            "digits, '_', '-' and '.', separated by single '/', no trailing '/'",
        ),
        max_length=512,
        min_length=0,
    ),
]
VaultProperty = Annotated[
    str,
    StringConstraints(
        pattern=explained(r"^[A-Za-z0-9_.-]+$", "a key of the Vault secret: letters, digits, '_', '-', '.'"),
        max_length=253,
        min_length=1,
    ),
]
TolerationOperator = Literal["Exists", "Equal"]
TolerationEffect = Literal["", "NoSchedule", "PreferNoSchedule", "NoExecute"]


class Gateway(ValuesModel):
    """A Gateway API parentRef. The default is the Istio convention: Gateway `gateway` in `istio-ingress`."""

    name: DnsSubdomain = Field(default="gateway", description="Name of the Gateway.")
    namespace: DnsLabelOrEmpty = Field(
        default="istio-ingress",
        description="Namespace of the Gateway; empty means the workload's namespace. A cross-namespace "
        "Gateway must allow routes from this namespace (listener allowedRoutes).",
    )
    section_name: DnsSubdomainOrEmpty = Field(
        default="", description="Listener name on the Gateway to attach to; empty attaches to all listeners."
    )


class Ingress(ValuesModel):
    """Exposure through a Gateway API HTTPRoute attached to the cluster's (Istio) Gateway."""

    enabled: bool = Field(default=False, description="Create an HTTPRoute for the service. Needs `host`.")
    host: HostnameOrEmpty = Field(default="", description="Host name clients use, e.g. llm.example.com.")
    gateway: Gateway = Field(
        default_factory=Gateway,
        description="The Gateway the route attaches to (parentRef).",
    )
    request_timeout: GatewayDuration = Field(
        default="10m",
        description="HTTPRoute request timeout. Long enough for a long streamed generation (4096 tokens at "
        "~10 tokens/s is ~7 min); gateways that default to 15 s would cut streams off. '0s' disables it.",
    )


class Model(ValuesModel):
    """The Hugging Face model TGI serves."""

    id: ModelId = Field(description="Hugging Face model id (MODEL_ID), e.g. meta-llama/Llama-3.2-1B.")
    revision: Revision = Field(
        description="Model revision (REVISION): a branch, tag or commit. Pin a commit sha in production, as "
        "you would an image tag."
    )


class Image(ValuesModel):
    """The TGI container image."""

    repository: ImageRepository = Field(
        default="ghcr.io/huggingface/text-generation-inference", description="Image repository."
    )
    tag: ImageTag = Field(
        default="3.3.7",
        description="Image tag: a TGI release. 3.3.7 is the last TGI release (TGI is in maintenance mode).",
    )
    digest: ImageDigest = Field(
        default="",
        description="Optional image digest (sha256:...); when set it pins the image instead of the tag.",
    )
    pull_policy: Literal["IfNotPresent", "Always", "Never"] = Field(
        default="IfNotPresent", description="Image pull policy."
    )
    pull_secrets: list[DnsSubdomain] = Field(
        default_factory=list, description="Names of existing image pull Secrets (for a private mirror)."
    )


class Inference(ValuesModel):
    """The inference server (TGI) settings."""

    image: Image = Field(default_factory=Image, description="TGI container image.")
    max_input_length: Annotated[int, Field(ge=1, le=1_048_576), WHOLE] = Field(
        default=2048,
        description="Maximum input tokens per request (env MAX_INPUT_TOKENS). Must be less than maxTotalTokens.",
    )
    max_total_tokens: Annotated[int, Field(ge=2, le=1_048_576), WHOLE] = Field(
        default=4096, description="Maximum input + generated tokens per request (env MAX_TOTAL_TOKENS)."
    )
    port: Annotated[int, Field(ge=1024, le=65535), WHOLE] = Field(
        default=8080,
        description="Port TGI listens on inside the pod (env PORT; the image's own default is 80). "
        "Unprivileged ports only.",
    )
    shm_size: MemoryQuantity = Field(
        default="1Gi", description="Size of the memory-backed /dev/shm that NCCL uses between GPU shards."
    )
    termination_grace_period_seconds: Annotated[int, Field(ge=91, le=3600), WHOLE] = Field(
        default=120,
        description="Pod termination grace period. Above TGI's 90 s graceful drain so in-flight generations finish.",
    )


class Toleration(ValuesModel):
    """A pod toleration."""

    key: LabelKey = Field(description="Taint key.")
    operator: TolerationOperator = Field(default="Exists", description="Exists or Equal.")
    value: str = Field(default="", max_length=63, description="Taint value (with operator Equal).")
    effect: TolerationEffect = Field(default="", description="Taint effect; empty matches all effects.")


class Gpu(ValuesModel):
    """GPU scheduling."""

    count: Annotated[int, Field(ge=1, le=8), WHOLE] = Field(
        default=1, description="GPUs for the pod: the GPU resource limit and TGI's NUM_SHARD."
    )
    resource_name: LabelKey = Field(default="nvidia.com/gpu", description="Extended resource name of the GPU.")
    node_selector: dict[LabelKey, LabelValue | None] = Field(
        default_factory=lambda: dict[str, str | None]({"nvidia.com/gpu.present": "true"}),
        description="Node labels the pod requires. Merged with the default by Helm: set a key to null to remove it.",
    )
    runtime_class_name: DnsSubdomain | None = Field(
        default="nvidia",
        description="RuntimeClass of the NVIDIA container runtime. Set to null when the GPU Operator uses CDI "
        "and no 'nvidia' RuntimeClass exists.",
    )
    tolerations: list[Toleration] = Field(
        default_factory=lambda: [Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")],
        description="Tolerations for tainted GPU nodes.",
    )


class Vault(ValuesModel):
    """Where the Hugging Face token lives in Vault (read through External Secrets Operator)."""

    hf_token_path: VaultPath = Field(
        default="",
        description="Vault KV path of the Hugging Face token, inside the store's mount (e.g. "
        "'shared/huggingface/token'). Leading '/' are removed. Empty: no token from Vault.",
    )
    hf_token_property: VaultProperty = Field(default="value", description="Property of the Vault secret.")


class HfToken(ValuesModel):
    """An existing Kubernetes Secret holding the Hugging Face token, instead of Vault."""

    existing_secret: DnsSubdomainOrEmpty = Field(
        default="", description="Name of an existing Secret with the token. Empty: not used."
    )
    existing_secret_key: SecretKey = Field(default="token", description="Key of the token in that Secret.")


class SecretStore(ValuesModel):
    """The External Secrets Operator store that reads Vault."""

    name: DnsSubdomain = Field(default="vault-backend", description="Name of the (Cluster)SecretStore.")
    kind: Literal["ClusterSecretStore", "SecretStore"] = Field(
        default="ClusterSecretStore", description="Kind of the store."
    )
    refresh_interval: RefreshInterval = Field(default="1h", description="How often ESO re-reads the secret.")


# Requests and limits are two classes so that each field's default is the chart default at its path:
# Helm merges a user's partial `requests: {cpu: "1"}` with values.yaml, and the model must agree.
class Requests(ValuesModel):
    """Requested CPU and memory."""

    cpu: CpuQuantity = Field(default="2", description="CPU request, e.g. '2' or '500m'.")
    memory: MemoryQuantity = Field(default="8Gi", description="Memory request, e.g. '8Gi'.")


class Limits(ValuesModel):
    """CPU and memory limits."""

    cpu: CpuQuantity = Field(default="4", description="CPU limit (at least the request).")
    memory: MemoryQuantity = Field(default="16Gi", description="Memory limit (at least the request).")


class Resources(ValuesModel):
    """Container CPU and memory. The GPU limit comes from gpu.count."""

    requests: Requests = Field(default_factory=Requests, description="Requested CPU and memory.")
    limits: Limits = Field(default_factory=Limits, description="CPU and memory limits.")


class HealthCheck(ValuesModel):
    """Probes. TGI listens only once the model is loaded, so a startup probe carries the load budget."""

    startup_timeout_seconds: Annotated[int, Field(ge=60, le=86_400), WHOLE] = Field(
        default=1800,
        description="Load budget: how long TGI may take to download and load the model before the pod is "
        "restarted (startupProbe). Raise it for large models on slow links.",
    )
    initial_delay_seconds: Annotated[int, Field(ge=0, le=3600), WHOLE] = Field(
        default=0,
        description="Delay before the startup probe begins. Rarely needed: the load budget covers it.",
    )
    period_seconds: Annotated[int, Field(ge=1, le=300), WHOLE] = Field(
        default=3,
        description="Readiness probe period on /health. With the startup probe's 2 s period the pod is Ready "
        "within 5 s of TGI listening.",
    )
    timeout_seconds: Annotated[int, Field(ge=1, le=300), WHOLE] = Field(
        default=10, description="Probe timeout (/health may run a one-token forward pass)."
    )
    failure_threshold: Annotated[int, Field(ge=1, le=100), WHOLE] = Field(
        default=3, description="Failed readiness probes before the pod stops receiving traffic."
    )
    liveness_failure_threshold: Annotated[int, Field(ge=1, le=100), WHOLE] = Field(
        default=6,
        description="Failed liveness probes (every 10 s on /info, which never waits for the GPU) before the "
        "container is restarted; a busy but healthy server is never killed.",
    )


class BasicMonitoring(ValuesModel):
    """Prometheus scraping of TGI's /metrics."""

    enabled: bool = Field(default=True, description="Add prometheus.io scrape annotations for /metrics.")


class MlInferenceLoad(ValuesModel):
    """Values of the ML_INFERENCE_LOAD workload type."""

    workload_type: Literal["ML_INFERENCE_LOAD"] = Field(description="Workload type; always ML_INFERENCE_LOAD.")
    service_name: DnsLabel = Field(description="Name of the service; every Kubernetes object is named after it.")
    service_catalog: LabelValue = Field(description="Catalog system (team) that owns the service.")
    namespace: DnsLabel | None = Field(
        default=None, description="Namespace of every object; unset means the Helm release namespace."
    )
    environment: Environment = Field(description="Deployment environment: dev, staging or prod.")
    service_account: DnsSubdomainOrEmpty = Field(
        default="", description="Existing ServiceAccount to run as; empty uses the namespace default."
    )
    ingress: Ingress = Field(default_factory=Ingress, description="External access.")
    model: Model = Field(description="The model to serve.")
    inference: Inference = Field(default_factory=Inference, description="Inference server settings.")
    gpu: Gpu = Field(default_factory=Gpu, description="GPU scheduling.")
    vault: Vault = Field(default_factory=Vault, description="Hugging Face token from Vault.")
    hf_token: HfToken = Field(default_factory=HfToken, description="Hugging Face token from an existing Secret.")
    secret_store: SecretStore = Field(default_factory=SecretStore, description="External Secrets Operator store.")
    resources: Resources = Field(default_factory=Resources, description="CPU and memory.")
    health_check: HealthCheck = Field(default_factory=HealthCheck, description="Probes.")
    basic_monitoring: BasicMonitoring = Field(default_factory=BasicMonitoring, description="Prometheus scraping.")
    environment_variables: list[EnvironmentVariableObj] = Field(
        default_factory=list,
        description="Extra environment variables for TGI (e.g. MAX_BATCH_PREFILL_TOKENS). Variables the "
        "chart sets are refused.",
    )

    def problems(self) -> Iterator[Problem]:
        """Cross-field rules; the chart's templates/_validate.tpl fails with the same messages."""
        return _cross_field_problems(self)


# Variables the chart sets itself, and the values field a user should change instead.
MANAGED_ENV: dict[str, str] = {
    "MODEL_ID": "model.id",
    "REVISION": "model.revision",
    "MAX_INPUT_TOKENS": "inference.maxInputLength",
    "MAX_INPUT_LENGTH": "inference.maxInputLength",
    "MAX_TOTAL_TOKENS": "inference.maxTotalTokens",
    "PORT": "inference.port",
    "HOSTNAME": "nothing (the chart binds TGI to 0.0.0.0)",
    "HF_HOME": "nothing (the chart points it at the model cache volume)",
    "NUM_SHARD": "gpu.count",
    "HF_TOKEN": "vault.hfTokenPath or hfToken.existingSecret",
    "HUGGING_FACE_HUB_TOKEN": "vault.hfTokenPath or hfToken.existingSecret",
}
# Names that hold credentials by convention: their value must come from a Secret, never a literal.
SECRET_LIKE_ENV = r"(^|_)(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?)$"


def _cross_field_problems(v: MlInferenceLoad) -> Iterator[Problem]:
    inf = v.inference
    if inf.max_input_length >= inf.max_total_tokens:
        yield Problem(
            "inference.maxInputLength",
            f"must be less than inference.maxTotalTokens ({inf.max_input_length} >= {inf.max_total_tokens})",
        )
    if v.ingress.enabled and not v.ingress.host:
        yield Problem("ingress.host", "required when ingress.enabled is true")
    if v.vault.hf_token_path and v.hf_token.existing_secret:
        yield Problem(
            "hfToken.existingSecret",
            "cannot be combined with vault.hfTokenPath; choose one source for the token",
        )
    req, lim = v.resources.requests, v.resources.limits
    if cpu_millicores(req.cpu) > cpu_millicores(lim.cpu):
        yield Problem("resources.requests.cpu", f"must not exceed resources.limits.cpu ({req.cpu} > {lim.cpu})")
    if memory_bytes(req.memory) > memory_bytes(lim.memory):
        yield Problem(
            "resources.requests.memory",
            f"must not exceed resources.limits.memory ({req.memory} > {lim.memory})",
        )
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
