"""vLLM's own rules and its drain: what vLLM 0.32.0 refuses or does that the contract must account for. The
chart's partial (templates/_engine_vllm.tpl) checks the same rules in the same order, with these messages.
Facts are cited in docs/reference/vllm.md."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from workload.problems import Problem

if TYPE_CHECKING:
    from workload.models.ml_inference_load.values import MlInferenceLoad

IMAGE_TAG = "v0.32.0"  # vllm/vllm-openai's tag for the release whose facts were verified
# --shutdown-timeout's default: 0 aborts every request in flight at SIGTERM (engine/arg_utils.py:1901-1906;
# measured: 8 of 8 streams cut at about 108 of 480 tokens). The chart always renders a drain instead.
DEFAULT_DRAIN_SECONDS = 0
EXIT_SECONDS = 5  # after the drain, the time vLLM takes to stop its engine core and exit (measured: < 3 s)

VERSION_GATES: dict[str, str] = {}
MESSAGES: dict[str, str] = {
    "versionUnknown": "%s: needs vLLM >= %s; the image tag '%s' is not a version, so set inference.image.version",
    "versionTooOld": "%s: needs vLLM >= %s (the image is vLLM %s)",
}


def rules(_v: MlInferenceLoad) -> Iterator[Problem]:
    """vLLM has no cross-field rule of its own yet: its flags are checked by its own parser in the tests."""
    yield from ()


def drain_seconds(v: MlInferenceLoad) -> int:
    """--shutdown-timeout: inference.gracefulTerminationTimeout, else what fits in the grace period after the
    preStop pause and the exit (so requests in flight finish instead of being cut)."""
    inf = v.inference
    if inf.graceful_termination_timeout is not None:
        return inf.graceful_termination_timeout
    return max(1, inf.termination_grace_period_seconds - v.scaling.pre_stop_seconds - EXIT_SECONDS)
