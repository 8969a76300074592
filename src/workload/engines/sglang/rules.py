"""SGLang's own rules and its drain: what SGLang 0.5.23 refuses or does that the contract must account for. The
chart's partial (templates/_engine_sglang.tpl) checks the same rules in the same order, with these messages.
Facts are cited in docs/reference/sglang.md."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from workload.problems import Problem

if TYPE_CHECKING:
    from workload.models.ml_inference_load.values import MlInferenceLoad

IMAGE_TAG = "v0.5.23"  # lmsysorg/sglang's tag for the release whose facts were verified
# SGLang drains with no time limit at SIGTERM (srt/managers/tokenizer_manager.py:3508-3560): only the grace
# period bounds it, so the drain the core checks against the grace period is what is left of it.
DEFAULT_DRAIN_SECONDS = 0
EXIT_SECONDS = 5  # the time SGLang takes to stop its schedulers after the drain (kill_process_tree)

VERSION_GATES: dict[str, str] = {}
MESSAGES: dict[str, str] = {
    "versionUnknown": "%s: needs SGLang >= %s; the image tag '%s' is not a version, so set inference.image.version",
    "versionTooOld": "%s: needs SGLang >= %s (the image is SGLang %s)",
}


def rules(_v: MlInferenceLoad) -> Iterator[Problem]:
    """SGLang has no cross-field rule of its own yet: its flags are checked by its own parser in the tests."""
    yield from ()


def drain_seconds(v: MlInferenceLoad) -> int:
    """SGLang drains until done; the grace period after the preStop pause and its exit is the bound."""
    inf = v.inference
    return max(1, inf.termination_grace_period_seconds - v.scaling.pre_stop_seconds - EXIT_SECONDS)
