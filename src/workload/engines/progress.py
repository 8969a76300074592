"""Where an engine's pod is on its way to serving, as read from its log: the phases a person recognises, and
what a failure looks like. Each engine reads its own log lines into a LogState (Engine.read_progress)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Phase(Enum):
    """The phases a person recognises, in order."""

    SCHEDULING = "scheduling"
    PULLING_IMAGE = "pulling the image"
    STARTING = "starting {engine}"
    DOWNLOADING = "downloading weights"
    LOADING = "loading shards"
    WARMING_UP = "warming up"
    READY = "ready"

    def text(self, engine_title: str) -> str:
        """What a person reads: the phase, with the engine's name where it has one ("starting TGI")."""
        return self.value.format(engine=engine_title)


class Cause(Enum):
    """Kinds of failure that may still resolve themselves, so `deploy` waits before calling them fatal."""

    UNSCHEDULABLE = "unschedulable"  # a cluster autoscaler may still add a node
    IMAGE_PULL = "image pull"  # a first pull error may be transient; BackOff is not
    PROBE = "probe"  # a readiness probe may fail a few times just after warm-up
    SECRET = "secret"  # ESO retries: someone may be writing the secret into Vault right now
    OTHER = "other"


@dataclass(frozen=True)
class Diagnosis:
    """A failure: what went wrong, the fix, and the line or message that shows it."""

    problem: str
    fix: str
    evidence: str = ""
    cause: Cause = Cause.OTHER


@dataclass
class LogState:
    """What the engine's log says so far (its reader fills the fields its log has)."""

    phase: Phase = Phase.STARTING
    model: str = ""
    cache_hit: bool = False
    files_done: int = 0
    files_total: int = 0
    current_file: str = ""
    shards_total: int = 0
    shards_ready: int = 0
    kv_cache_tokens: int | None = None  # what the engine says its KV cache holds (TGI: max batch total tokens)
    diagnosis: Diagnosis | None = None
    seen: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> bool:
        """The weights were downloaded, or found in the cache."""
        return self.phase in (Phase.LOADING, Phase.WARMING_UP, Phase.READY) or self.cache_hit

    def detail(self) -> str:
        if self.phase is Phase.DOWNLOADING:
            progress = f" {self.files_done}/{self.files_total} files" if self.files_total else ""
            current = f", now {self.current_file}" if self.current_file else ""
            return f"{self.model}{progress}{current}"
        if self.phase is Phase.LOADING and self.shards_total:
            return f"{self.shards_ready}/{self.shards_total} shards ready"
        if self.phase is Phase.READY and self.kv_cache_tokens:
            return f"KV cache of {self.kv_cache_tokens:,} tokens"
        return "weights found in the cache" if self.cache_hit and self.phase is Phase.LOADING else ""
