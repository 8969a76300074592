"""TGI's own cross-field rules: limits TGI enforces itself, some only after the whole model has loaded (so a
bad value would cost a full download before the pod crash-loops). The chart's partial
(templates/_engine_tgi.tpl) checks the same rules in the same order, with these messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from workload.engines.base import problem
from workload.engines.versions import as_tuple, image_version
from workload.problems import Problem

if TYPE_CHECKING:
    from workload.models.ml_inference_load.values import MlInferenceLoad

IMAGE_TAG = "3.3.7"  # the last TGI release (maintenance mode since 2025-12-11)
DEFAULT_DRAIN_SECONDS = 90
# The chart's value for TGI's own fields when the values leave them unset (TGI's own MAX_INPUT_TOKENS default
# follows the model; the chart has always set 2048).
FIELD_DEFAULTS: dict[str, int] = {"inference.maxInputLength": 2048}


def input_tokens(v: MlInferenceLoad) -> int:
    """inference.maxInputLength, else the chart's default for TGI."""
    return (
        v.inference.max_input_length or FIELD_DEFAULTS["inference.maxInputLength"]
    )  # the launcher's --graceful-termination-timeout default


# Options and the first TGI version that has them (values path -> version).
VERSION_GATES: dict[str, str] = {
    "model.quantization": "3.0.0",  # compressed-tensors
    "inference.payloadLimit": "2.4.1",
    "inference.gracefulTerminationTimeout": "3.2.2",
    "apiKey": "2.3.0",
}

MESSAGES: dict[str, str] = {
    "inputBelowTotal": "inference.maxInputLength: must be less than inference.maxTotalTokens (%d >= %d)",
    "prefillBelowInput": "inference.maxBatchPrefillTokens: must be at least inference.maxInputLength (%d < %d); "
    "TGI finds this only after loading the model",
    "batchBelowTotal": "inference.maxBatchTotalTokens: must be at least inference.maxTotalTokens (%d < %d)",
    "prefillAboveBatch": "inference.maxBatchPrefillTokens: must not exceed inference.maxBatchTotalTokens (%d > %d)",
    "dtypeWithQuantization": "model.dtype: cannot be combined with model.quantization; TGI refuses both",
    "exl2Sharded": "model.quantization: exl2 models cannot be sharded; set gpu.count to 1",
    "versionUnknown": "%s: needs TGI >= %s; the image tag '%s' is not a version, so set inference.image.version",
    "versionTooOld": "%s: needs TGI >= %s (the image is TGI %s)",
}


def _needs(v: MlInferenceLoad, path: str, need: str) -> Problem | None:
    tag = v.inference.image.tag or IMAGE_TAG  # empty: the engine's own (rules.py engine_image)
    have = image_version(v.inference.image, IMAGE_TAG)
    if have is None:
        return problem(MESSAGES["versionUnknown"], path, need, tag)
    if as_tuple(have) < as_tuple(need):
        return problem(MESSAGES["versionTooOld"], path, need, have)
    return None


def _version_gates(v: MlInferenceLoad) -> Iterator[Problem]:
    used = {
        "model.quantization": v.model.quantization == "compressed-tensors",
        "inference.payloadLimit": v.inference.payload_limit is not None,
        "inference.gracefulTerminationTimeout": v.inference.graceful_termination_timeout is not None,
        "apiKey": bool(v.api_key.vault_path or v.api_key.existing_secret),
    }
    for path, need in VERSION_GATES.items():
        if used[path] and (found := _needs(v, path, need)):
            yield found


def rules(v: MlInferenceLoad) -> Iterator[Problem]:
    inf, max_input = v.inference, input_tokens(v)
    if max_input >= inf.max_total_tokens:
        yield problem(MESSAGES["inputBelowTotal"], max_input, inf.max_total_tokens)
    prefill, batch = inf.max_batch_prefill_tokens, inf.max_batch_total_tokens
    if prefill is not None and prefill < max_input:
        yield problem(MESSAGES["prefillBelowInput"], prefill, max_input)
    if batch is not None and batch < inf.max_total_tokens:
        yield problem(MESSAGES["batchBelowTotal"], batch, inf.max_total_tokens)
    if prefill is not None and batch is not None and prefill > batch:
        yield problem(MESSAGES["prefillAboveBatch"], prefill, batch)
    if v.model.dtype is not None and v.model.quantization is not None:
        yield problem(MESSAGES["dtypeWithQuantization"])
    if v.model.quantization == "exl2" and v.gpu.count > 1:
        yield problem(MESSAGES["exl2Sharded"])
    yield from _version_gates(v)


def drain_seconds(v: MlInferenceLoad) -> int:
    """TGI drains for --graceful-termination-timeout (GRACEFUL_TERMINATION_TIMEOUT) seconds, 90 by default."""
    return v.inference.graceful_termination_timeout or DEFAULT_DRAIN_SECONDS
