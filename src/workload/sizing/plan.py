"""The verdict of an engine's memory start rule (Engine.memory_rule): what `workload size` prints, what
`workload deploy`'s preflight and `workload validate` refuse on, and what the dashboard's description says."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

GIB = 1 << 30


@dataclass
class Plan:
    """The verdict; to_json() has exactly the keys `workload size -o json` promises."""

    weights_bytes_per_gpu: int
    kv_bytes_per_token_per_gpu: int
    overhead_bytes_per_gpu: int
    kv_capacity_tokens: int
    max_total_tokens: int
    fits: bool
    headroom_bytes_per_gpu: int
    fixes: list[str] = field(default_factory=list)
    assumptions: list[dict[str, str]] = field(default_factory=list)
    # What the engine only warns about at start, in its own words (SGLang starts with a pool smaller than its
    # context length); a plan with warnings still fits.
    warnings: list[str] = field(default_factory=list)
    problem: str = ""  # why it cannot be sized or sharded, when it cannot

    def summary(self, gpus: str) -> str:
        """One line for the Grafana dashboard's description (monitoring.grafanaDashboard.sizing)."""
        verdict = "fits" if self.fits else "does not fit"
        return (f"weights {self.weights_bytes_per_gpu / GIB:.2f} GiB per GPU, KV cache "
                f"{self.kv_bytes_per_token_per_gpu} bytes per token per GPU, room for {self.kv_capacity_tokens} "
                f"tokens against maxTotalTokens {self.max_total_tokens} on {gpus} ({verdict}, headroom "
                f"{self.headroom_bytes_per_gpu / GIB:.2f} GiB per GPU)")  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("problem")
        return data
