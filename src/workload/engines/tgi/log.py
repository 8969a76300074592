"""TGI log lines that mean the start failed (tests/fixtures/recordings/logs/ has real ones). First match wins."""

from __future__ import annotations

import re

from workload.engines.base import LogFailure

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
