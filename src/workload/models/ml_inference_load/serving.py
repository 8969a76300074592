"""What runs: the model, the inference engine and its settings, GPUs, storage, resources and probes.

How each engine receives a field (an environment variable or a flag) is in docs/reference/engine-fields.md,
generated from the engines' facts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from workload.engines import DEFAULT_ENGINE, all_engines, engine_names
from workload.models.common import (
    WHOLE,
    CpuQuantity,
    DnsSubdomain,
    DnsSubdomainOrEmpty,
    LabelKey,
    LabelValue,
    LabelValueOrEmpty,
    MemoryQuantity,
    MemoryQuantityOrEmpty,
    ValuesModel,
)
from workload.models.ml_inference_load.types import (
    AbsolutePath,
    Dtype,
    ExtraArg,
    GpuTypeName,
    ImageDigest,
    ImageRepositoryOrEmpty,
    ImageTagOrEmpty,
    ModelId,
    Quantization,
    Revision,
    SemVer,
    TolerationEffect,
    TolerationOperator,
)

Tokens = Annotated[int, Field(ge=1, le=1_048_576), WHOLE]


class Model(ValuesModel):
    """The Hugging Face model the engine serves."""

    id: ModelId = Field(description="Hugging Face model id, e.g. meta-llama/Llama-3.2-1B.")
    revision: Revision = Field(
        description="Model revision: a branch, tag or commit. Pin a commit sha in production, as "
        "you would an image tag."
    )
    quantization: Quantization | None = Field(
        default=None,
        description="Quantization method, for running a larger model on fewer GPUs. "
        "compressed-tensors needs TGI >= 3.0.0; exl2 cannot be sharded over several GPUs.",
    )
    dtype: Dtype | None = Field(default=None, description="Weight dtype. Cannot be combined with quantization.")
    trust_remote_code: bool = Field(
        default=False,
        description="Run Python code from the model repository. Only for repositories "
        "you trust: the code runs inside the server with its token.",
    )


# What an empty repository and tag mean, per engine: "tgi: <repository>:<tag>, ...".
_OWN_IMAGES = ", ".join(f"{e.name}: {e.image.repository}:{e.image.tag}" for e in all_engines())

if TYPE_CHECKING:
    EngineName = str
else:  # the engines found under workload/engines/: adding one adds its name here
    EngineName = Literal[engine_names()]


class Image(ValuesModel):
    """The engine's container image."""

    repository: ImageRepositoryOrEmpty = Field(
        default="", description="Image repository. Empty: the engine's official image (" + _OWN_IMAGES + ")."
    )
    tag: ImageTagOrEmpty = Field(
        default="",
        description="Image tag: a release of the engine. Empty: the release whose facts the chart was checked "
        "against (the tags above).",
    )
    digest: ImageDigest = Field(
        default="", description="Optional image digest (sha256:...); when set it pins the image instead of the tag."
    )
    version: SemVer | None = Field(
        default=None,
        description="Engine version of the image when the tag is not one (latest, sha-..., a mirror's own tag). "
        "Options that need a newer engine are checked against it; unset means 'read it from the tag'.",
    )
    pull_policy: Literal["IfNotPresent", "Always", "Never"] = Field(
        default="IfNotPresent", description="Image pull policy."
    )
    pull_secrets: list[DnsSubdomain] = Field(
        default_factory=list, description="Names of existing image pull Secrets (for a private mirror)."
    )
    runs_as_non_root: bool = Field(
        default=False,
        description="The image is built to run as any non-root uid, like images/tgi-nonroot/Dockerfile: the pod "
        "then runs as uid 10001 and passes Pod Security 'restricted'. Stock TGI images from 3.1.1 on cannot "
        "(their Python is under /root, mode 0700: TGI issue 3082), so they run as uid 0.",
    )


class Inference(ValuesModel):
    """The inference engine and its settings. Unset settings keep the engine's own defaults."""

    engine: EngineName = Field(
        default=DEFAULT_ENGINE,
        description="Inference engine: tgi (Hugging Face Text Generation Inference, the default), vllm or sglang. "
        "Fields one engine lacks are refused with the others.",
    )
    image: Image = Field(default_factory=Image, description="The engine's container image.")
    max_input_length: Tokens | None = Field(
        default=None,
        description="Maximum input tokens per request (TGI). Must be less than maxTotalTokens. Unset: 2048.",
    )
    max_total_tokens: Annotated[int, Field(ge=2, le=1_048_576), WHOLE] = Field(
        default=4096, description="Maximum input + generated tokens per request (the context length)."
    )
    max_concurrent_requests: Annotated[int, Field(ge=1, le=100_000), WHOLE] | None = Field(
        default=None,
        description="Requests the engine runs at once: TGI answers 429 beyond it, vLLM (--max-num-seqs) and SGLang "
        "(--max-running-requests) queue.",
    )
    memory_fraction: Annotated[float, Field(ge=0.05, le=1.0)] | None = Field(
        default=None,
        description="Share of each GPU's memory the engine may take, as its own setting "
        "(docs/reference/engine-fields.md); lower it when something else shares the GPU. Unset: the engine's "
        "default (TGI 1.0, vLLM 0.92, SGLang computed from the GPU, counting weights and KV cache only).",
    )
    max_batch_prefill_tokens: Tokens | None = Field(
        default=None,
        description="Token budget of one prefill; at least maxInputLength.",
    )
    max_batch_total_tokens: Annotated[int, Field(ge=2, le=16_777_216), WHOLE] | None = Field(
        default=None,
        description="Tokens of all requests in a batch; at least maxTotalTokens and "
        "maxBatchPrefillTokens. Unset lets TGI size it from free GPU memory.",
    )
    cuda_graphs: list[Annotated[int, Field(ge=0, le=1024), WHOLE]] | None = Field(
        default=None,
        description="Batch sizes to capture CUDA graphs for, e.g. [1, 2, 4, 8]; [0] disables them.",
    )
    payload_limit: Annotated[int, Field(ge=1024, le=1_073_741_824), WHOLE] | None = Field(
        default=None, description="Largest request body in bytes (TGI >= 2.4.1)."
    )
    graceful_termination_timeout: Annotated[int, Field(ge=1, le=3600), WHOLE] | None = Field(
        default=None,
        description="Seconds the engine drains in-flight requests on shutdown (TGI >= 3.2.2, default 90; vLLM's "
        "--shutdown-timeout, unset: what fits the grace period). SGLang has no limit: the grace period bounds it.",
    )
    extra_args: list[ExtraArg] = Field(
        default_factory=list,
        description="More flags for the engine, for what the contract does not cover, e.g. "
        '["--enable-prefix-caching"]. Flags the chart sets are refused, naming the field to set instead.',
        max_length=64,
    )
    port: Annotated[int, Field(ge=1024, le=65535), WHOLE] = Field(
        default=8080,
        description="Port the engine listens on inside the pod. Unprivileged ports only.",
    )
    shm_size: MemoryQuantityOrEmpty = Field(
        default="",
        description="Size of the memory-backed /dev/shm that NCCL uses between GPU shards. Empty: 1Gi per GPU. "
        "It counts against resources.limits.memory.",
    )
    termination_grace_period_seconds: Annotated[int, Field(ge=1, le=7200), WHOLE] = Field(
        default=120,
        description="Pod termination grace period; must exceed the preStop pause plus the engine's drain (TGI: 90 s "
        "or gracefulTerminationTimeout) so in-flight generations finish.",
    )


class Toleration(ValuesModel):
    """A pod toleration."""

    key: LabelKey = Field(description="Taint key.")
    operator: TolerationOperator = Field(default="Exists", description="Exists or Equal.")
    value: LabelValueOrEmpty = Field(default="", description="Taint value (with operator Equal).")
    effect: TolerationEffect = Field(default="", description="Taint effect; empty matches all effects.")


class Gpu(ValuesModel):
    """GPU scheduling."""

    count: Annotated[int, Field(ge=1, le=8), WHOLE] = Field(
        default=1,
        description="GPUs for the pod: the GPU resource limit, and the engine shards the model over them (tensor "
        "parallel).",
    )
    type: GpuTypeName | None = Field(
        default=None,
        description="GPU type the workload runs on, e.g. A100-80GB: selects nodes by their nvidia.com/gpu.product "
        "label, and is the GPU `workload size` plans memory for. Unset: any GPU node.",
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


class ModelCache(ValuesModel):
    """A PersistentVolumeClaim for downloaded weights, so a restarted pod does not download them again."""

    enabled: bool = Field(
        default=False, description="Keep the Hugging Face cache on a PVC. Off: an emptyDir, lost with the pod."
    )
    size: MemoryQuantity = Field(default="50Gi", description="Size of the PVC the chart creates.")
    storage_class: DnsSubdomainOrEmpty = Field(
        default="", description="StorageClass of the PVC; empty uses the cluster's default class."
    )
    access_mode: Literal["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany"] = Field(
        default="ReadWriteOnce", description="Access mode of the PVC the chart creates."
    )
    existing_claim: DnsSubdomainOrEmpty = Field(
        default="", description="Use this existing PVC instead of creating one (size, class, mode are then unused)."
    )
    mount_path: AbsolutePath = Field(default="/data", description="Where the cache is mounted; HF_HOME points here.")
    keep_on_uninstall: bool = Field(
        default=False,
        description="Keep the chart's PVC when the release is uninstalled (helm.sh/resource-policy: keep), so a "
        "reinstall finds the weights.",
    )
    offline: bool = Field(
        default=False,
        description="Never contact the Hugging Face Hub (HF_HUB_OFFLINE=1), for air-gapped clusters whose "
        "cache is filled beforehand. Needs enabled.",
    )


class Storage(ValuesModel):
    """Storage for model weights."""

    model_cache: ModelCache = Field(default_factory=ModelCache, description="The model cache.")


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
    """Probes. The engine is healthy only once the model is loaded, so a startup probe carries the load budget."""

    startup_timeout_seconds: Annotated[int, Field(ge=60, le=86_400), WHOLE] = Field(
        default=1800,
        description="Load budget: how long the engine may take to download and load the model before the pod is "
        "restarted (startupProbe). Raise it for large models on slow links.",
    )
    initial_delay_seconds: Annotated[int, Field(ge=0, le=3600), WHOLE] = Field(
        default=0, description="Delay before the startup probe begins. Rarely needed: the load budget covers it."
    )
    period_seconds: Annotated[int, Field(ge=1, le=300), WHOLE] = Field(
        default=3,
        description="Readiness probe period. With the startup probe's 2 s period the pod is Ready within 5 s of "
        "the engine listening.",
    )
    timeout_seconds: Annotated[int, Field(ge=1, le=300), WHOLE] = Field(
        default=10, description="Probe timeout (a health check may run a one-token forward pass)."
    )
    failure_threshold: Annotated[int, Field(ge=1, le=100), WHOLE] = Field(
        default=3, description="Failed readiness probes before the pod stops receiving traffic."
    )
    liveness_failure_threshold: Annotated[int, Field(ge=1, le=100), WHOLE] = Field(
        default=6,
        description="Failed liveness probes (every 10 s, on a route that never waits for the GPU) before the "
        "container is restarted; a busy but healthy server is never killed.",
    )
