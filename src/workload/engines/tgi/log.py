"""TGI's log lines: those that show its progress, and those that mean the start failed (first match wins).
Real ones are in tests/fixtures/recordings/logs/."""

from __future__ import annotations

import re

from workload.engines.base import LogFailure
from workload.engines.hub import HUB_FAILURES
from workload.engines.progress import LogState, Phase

_TABLE = [
    (r"ArgumentValidation\(\"?(?P<detail>[^\n\"]*)",
     "TGI refused its settings", "change the inference settings named in the message"),
    (r"OutOfMemoryError|CUDA out of memory|CUDA error: out of memory",
     "the model does not fit in GPU memory",
     "use more GPUs (gpu.count), a quantization (model.quantization), or lower inference.maxBatchTotalTokens"),
    (r"No space left on device",
     "the model cache volume is full", "raise storage.modelCache.size (weights plus ~10%)"),
    (r"Shard (\d+) failed to start",
     "a model shard crashed while loading", "read the shard's error just above this line in the pod log"),
    (r"Webserver Crashed",
     "TGI's web server crashed", "read the error just above this line in the pod log"),
]  # fmt: skip
LOG_FAILURES: tuple[LogFailure, ...] = HUB_FAILURES + tuple(
    LogFailure(re.compile(pattern), problem, fix) for pattern, problem, fix in _TABLE
)


def read_progress(state: LogState, line: str) -> None:
    """Move `state` on by one of TGI's log lines (the launcher's and the router's)."""
    if m := re.search(r"Starting check and download process for (\S+)", line):
        state.phase, state.model = Phase.DOWNLOADING, m[1]
    elif "Files are already present on the host" in line:
        state.cache_hit = True
    elif m := re.search(r"Download file: (\S+)", line):
        state.current_file = m[1]
    elif m := re.search(r"Download: \[(\d+)/(\d+)\]", line):
        state.files_done, state.files_total = int(m[1]), int(m[2])
    elif "Successfully downloaded weights" in line:
        state.phase, state.current_file = Phase.LOADING, ""
    elif m := re.search(r"Starting shard rank=(\d+)", line):
        state.phase = Phase.LOADING
        state.shards_total = max(state.shards_total, int(m[1]) + 1)
    elif re.search(r"Shard ready in", line):
        state.shards_ready += 1
    elif "Warming up model" in line:
        state.phase = Phase.WARMING_UP
    elif m := re.search(r"Setting max batch total tokens to (\d+)", line):
        state.kv_cache_tokens = int(m[1])
    elif re.search(r"\bConnected$", line):
        state.phase = Phase.READY
