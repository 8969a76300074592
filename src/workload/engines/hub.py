"""Log lines of huggingface_hub, which every engine downloads its weights with: they mean the start failed,
whichever engine logs them (each engine's log.py puts them before its own)."""

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
]  # fmt: skip
HUB_FAILURES: tuple[LogFailure, ...] = tuple(
    LogFailure(re.compile(pattern), problem, fix) for pattern, problem, fix in _TABLE
)
