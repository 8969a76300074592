"""TGI's log lines: those that show its progress, and those that mean the start failed (first match wins).
Real ones are in tests/fixtures/recordings/logs/."""

from __future__ import annotations

import re

from workload.engines.base import LogFailure
from workload.engines.progress import LogState, Phase

_TABLE = [
    (r"GatedRepoError|Access to model \S+ is restricted|Cannot access gated repo",
     "the model is gated and the server has no token that may read it",
     "set vault.hfTokenPath (or hfToken.existingSecret) to a token of an account that accepted the model's "
     "license on huggingface.co"),
    (r"RepositoryNotFoundError|Repository Not Found",
     "the model repository does not exist, or is private",
     "check model.id; for a private model give a token (vault.hfTokenPath)"),
    (r"RevisionNotFoundError|Invalid rev id",
     "the model revision does not exist", "check model.revision (a branch, tag or commit of the repository)"),
    (r"LocalEntryNotFoundError|outgoing traffic has been disabled",
     "offline mode is on and the cache does not hold the model",
     "fill the model cache first, or set storage.modelCache.offline to false"),
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
LOG_FAILURES: tuple[LogFailure, ...] = tuple(
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
        state.max_batch_total_tokens = int(m[1])
    elif re.search(r"\bConnected$", line):
        state.phase = Phase.READY
