"""SGLang's log lines: those that show its progress, and those that mean the start failed (first match wins).
Quoted from SGLang 0.5.23's source (docs/reference/sglang.md)."""

from __future__ import annotations

import re

from workload.engines.base import LogFailure
from workload.engines.hub import HUB_FAILURES
from workload.engines.progress import LogState, Phase

_TABLE = [
    (r"Loaded weights leave no GPU memory for the KV cache",
     "the weights leave no GPU memory for the KV cache under SGLang's --mem-fraction-static",
     "use more GPUs (gpu.count), a quantization (model.quantization), or raise inference.memoryFraction "
     "(SGLang's --mem-fraction-static)"),
    (r"Not enough memory\. Please try to increase --mem-fraction-static",
     "SGLang found no room for its KV cache",
     "use more GPUs (gpu.count), a quantization (model.quantization), or raise inference.memoryFraction "
     "(SGLang's --mem-fraction-static)"),
    (r"User-specified context_length \(\d+\) is greater than the derived context_length",
     "inference.maxTotalTokens is more than the model's context length (its config.json)",
     "lower inference.maxTotalTokens to the model's context length, which the line names"),
    (r"unrecognized arguments: (?P<detail>.*)",
     "SGLang refused its command line", "remove or fix the flag in inference.extraArgs"),
    (r"OutOfMemoryError|CUDA out of memory|CUDA error: out of memory",
     "the model does not fit in GPU memory",
     "use more GPUs (gpu.count), a quantization (model.quantization), or lower inference.maxTotalTokens"),
    (r"No space left on device",
     "the model cache volume is full", "raise storage.modelCache.size (weights plus ~10%)"),
]  # fmt: skip
LOG_FAILURES: tuple[LogFailure, ...] = HUB_FAILURES + tuple(
    LogFailure(re.compile(pattern), problem, fix) for pattern, problem, fix in _TABLE
)


def read_progress(state: LogState, line: str) -> None:
    """Move `state` on by one of SGLang's log lines (the server's, the scheduler's and the tokenizer's)."""
    if re.search(r"Load weight begin", line):
        state.phase = Phase.DOWNLOADING if state.phase is Phase.STARTING else state.phase
    elif re.search(r"Load weight end", line):
        state.phase = Phase.LOADING
    elif m := re.search(r"KV Cache is allocated\. dtype: \S+, #tokens: (\d+)|max_total_num_tokens=(\d+)", line):
        state.phase, state.kv_cache_tokens = Phase.WARMING_UP, int(m[1] or m[2])
    elif "The server is fired up and ready to roll!" in line:
        state.phase = Phase.READY
