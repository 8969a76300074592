"""Constrained string types of the ML_INFERENCE_LOAD values; each pattern carries its plain-words meaning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from workload.engines import all_engines
from workload.models.common import text

ModelId = Annotated[
    str,
    text(
        r"^([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$",
        "a Hugging Face model id such as 'meta-llama/Llama-3.2-1B': an optional owner and '/', then a "
        "name of letters, digits, '-', '_' and '.'",
        max_length=96,
        min_length=1,
    ),
]
Revision = Annotated[
    str,
    text(
        r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$",
        "a branch, tag or commit of the model repository such as 'main' or a 40-character commit sha",
        max_length=255,
        min_length=1,
    ),
]
ImageRepository = Annotated[
    str,
    text(
        r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*$",
        "an image repository such as 'registry.example.com:5000/team/server' (lowercase, no tag)",
        max_length=255,
        min_length=1,
    ),
]
ImageTag = Annotated[
    str, text(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", "an image tag such as '3.3.7'", max_length=128, min_length=1)
]
ImageTagOrEmpty = Annotated[
    str, text(r"^([A-Za-z0-9_][A-Za-z0-9_.-]*)?$", "empty, or an image tag such as '3.3.7'", max_length=128)
]
ImageRepositoryOrEmpty = Annotated[
    str,
    text(
        r"^([a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*)?$",
        "empty, or an image repository such as 'registry.example.com:5000/team/server' (lowercase, no tag)",
        max_length=255,
    ),
]
ImageDigest = Annotated[
    str, text(r"^(sha256:[a-f0-9]{64})?$", "empty, or an image digest 'sha256:' + 64 hex digits", max_length=71)
]
VaultPath = Annotated[
    str,
    text(
        r"^(/*[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*)?$",
        "empty, or a Vault KV path inside the store's mount such as 'shared/huggingface/token': segments of "
        "letters, "
        "digits, '_', '-' and '.', separated by single '/', no trailing '/'",
        max_length=512,
    ),
]
VaultProperty = Annotated[
    str,
    text(
        r"^[A-Za-z0-9_.-]+$", "a key of the Vault secret: letters, digits, '_', '-', '.'", max_length=253, min_length=1
    ),
]
TolerationOperator = Literal["Exists", "Equal"]
TolerationEffect = Literal["", "NoSchedule", "PreferNoSchedule", "NoExecute"]

AbsolutePath = Annotated[
    str,
    text(r"^(/[A-Za-z0-9._-]+)+$", "an absolute path such as '/data' (no trailing '/')", max_length=255, min_length=2),
]
SemVer = Annotated[
    str, text(r"^[0-9]+\.[0-9]+\.[0-9]+$", "an engine version such as '3.3.7'", max_length=32, min_length=5)
]
RoutePath = Annotated[
    str, text(r"^/[A-Za-z0-9._~/-]*$", "an URL path such as '/generate'", max_length=1024, min_length=1)
]
# Prometheus durations as the ServiceMonitor CRD takes them, one unit for simple comparison.
ScrapeDuration = Annotated[
    str,
    text(
        r"^[0-9]{1,6}(ms|s|m|h)$", "a duration with one unit such as '30s', '1m' or '500ms'", max_length=8, min_length=2
    ),
]
if TYPE_CHECKING:
    Quantization = str
    Dtype = str
else:  # every engine's, in engine order (each engine refuses the ones it lacks: rules.py)
    Quantization = Literal[tuple(dict.fromkeys(q for e in all_engines() for q in e.quantizations))]
    Dtype = Literal[tuple(dict.fromkeys(d for e in all_engines() for d in e.dtypes))]
# The keys of src/workload/sizing/gpus.py GPU_TYPES (tests/test_sizing.py keeps them equal).
GpuTypeName = Literal[
    "T4", "A10", "A10G", "L4", "RTX-4090", "A100-40GB", "L40S", "RTX-A6000", "H100-80GB", "A100-80GB", "H100-NVL",
    "H200",
]  # fmt: skip
# One command-line argument for the engine: printable, one line (the container's args carry it verbatim).
ExtraArg = Annotated[
    str,
    text(
        "^[^\\x00-\\x1F\\x7F-\\x9F\ufffe\uffff]+$",
        "a command-line argument: text without control characters or line breaks",
        max_length=4096,
        min_length=1,
    ),
]
