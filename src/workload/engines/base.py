"""The engine seam: everything the platform must know about an inference engine, as data.

One engine is one package under workload/engines/ (its `ENGINE`, an `Engine`) and one template partial in
the chart (templates/_engine_<name>.tpl). The contract, the rules, the chart's core templates and ops ask
the engine for these facts; none of them names an engine. docs/architecture.md says how to add one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from workload.problems import Problem

if TYPE_CHECKING:  # annotations only: the workload type sits above the engines and calls them
    from workload.checks import Check
    from workload.engines.progress import LogState
    from workload.models.ml_inference_load.values import MlInferenceLoad
    from workload.sizing.metadata import ModelFacts
    from workload.sizing.plan import Plan


@dataclass(frozen=True)
class ImageFacts:
    """The engine's official image and the user it can run as (each fact cited in the engine's module)."""

    repository: str
    tag: str  # the pinned default: the release whose facts were verified
    root_only_since: str | None  # the first image version that starts only as uid 0; None: none does
    non_root_uid: int  # the uid the chart runs an image that can run as non-root with
    root_reason: str  # why such an image needs uid 0, with its citation (it goes into a refusal)
    non_root_recipe: str  # what builds an image that runs as non-root (a Dockerfile in this repository)


@dataclass(frozen=True)
class Probes:
    """HTTP paths of the three probes: startup carries the load budget, readiness is cheap, liveness never
    waits for the GPU (so a busy server is not restarted)."""

    startup: str
    readiness: str
    liveness: str
    # What to read when the readiness probe keeps failing after the log says the engine serves.
    readiness_failing: str = "read the pod log for the engine's error"
    # The longest the engine's own health check takes before it answers: the probes wait at least this long
    # (whatever healthCheck.timeoutSeconds says), so the kubelet hears the engine's verdict, not its own timeout.
    min_timeout_seconds: int = 0


@dataclass(frozen=True)
class Signals:
    """The engine's own metric names for autoscaling, the dashboard and `verify`."""

    active_requests: tuple[str, ...]  # gauges whose sum is the requests waiting plus running
    kv_pressure: tuple[str, ...]  # (used, capacity) gauges, or (share,) when the engine exports the ratio
    adapter_metric: str  # the per-pod metric prometheus-adapter serves the HPA (docs/autoscaling/)
    successes: str  # a counter of finished requests, for `verify`'s metrics check


@dataclass(frozen=True)
class LogFailure:
    """A log line that means the start failed: what it means and the values field that fixes it."""

    pattern: re.Pattern[str]
    problem: str
    fix: str


Rules = Callable[["MlInferenceLoad"], Iterator[Problem]]
FIELD = re.compile(r"^[a-z][A-Za-z]*(\.[a-z][A-Za-z]*)*$")  # a values path such as inference.maxInputLength
# The engine's start rule for GPU memory: (the model's metadata, the values, bytes of one GPU, its name) -> Plan.
MemoryRule = Callable[["ModelFacts", "MlInferenceLoad", int, str], "Plan"]


@dataclass(frozen=True)
class SimulatorRequest:
    """What `workload simulate` was asked for: the engine's HTTP API with no GPU and no model."""

    host: str
    port: int
    model_id: str
    api_key: str  # "" for none
    token_delay: float  # seconds per generated token
    max_concurrent_requests: int


class Verifier(Protocol):
    """What `workload verify` asks the engine (engines/<name>/verify.py, imported only by verify)."""

    request_checks: tuple[str, ...]  # the names run_request_checks returns, in order

    def model_id(self, container: Mapping[str, Any]) -> str:
        """The model the release's engine container is told to serve."""
        ...

    def run_request_checks(self, url: str, api_key: str, model_id: str) -> list[Check]:
        """The engine's own routes, in order: health, the model served (model_id if given), then requests."""
        ...

    def gateway_checks(self, url: str, api_key: str, host: str) -> list[Check]:
        """The few cheap checks that prove a route through the gateway (Host header `host`)."""
        ...

    def metric_total(self, url: str, api_key: str, name: str) -> float | None:
        """Sum of one metric's samples on the engine's /metrics, or None when absent or unreachable."""
        ...


@dataclass(frozen=True)
class Engine:
    """One inference engine behind the values contract."""

    name: str  # the value of inference.engine
    title: str  # what messages call it ("TGI")
    image: ImageFacts
    probes: Probes
    signals: Signals
    # The exact paths the HTTPRoute exposes when ingress.paths is unset: the inference and info routes (the
    # ones the API key guards, where it guards only some); /metrics and the rest stay inside the cluster.
    routes: tuple[str, ...]
    # Environment variables the chart sets for this engine, and the values field to change instead.
    managed_env: Mapping[str, str]
    # Flags the chart sets (every spelling the engine's parser takes), and the values field to change instead:
    # inference.extraArgs refuses them.
    managed_flags: Mapping[str, str]
    # What the engine's partial and rules use for an engine-specific field the values leave unset.
    field_defaults: Mapping[str, int]
    quantizations: tuple[str, ...]  # the values of model.quantization it takes, at the pinned version
    dtypes: tuple[str, ...]  # the values of model.dtype it takes
    api_key_env: str  # where the engine reads its API key from the Secret
    default_drain_seconds: int  # how long the engine drains in-flight requests after SIGTERM, by default
    # Options and the first engine version that has them (values path -> version).
    version_gates: Mapping[str, str]
    # The engine's refusals: message id -> "path: message" with printf verbs (%d, %s), as the chart's
    # partial uses them; written once here, generated into templates/_facts.tpl.
    messages: Mapping[str, str]
    rules: Rules  # the engine's own cross-field rules, in the order its partial checks them
    drain_seconds: Callable[[MlInferenceLoad], int]  # the drain the values ask for
    log_failures: tuple[LogFailure, ...]  # first match wins
    read_progress: Callable[[LogState, str], None]  # moves the phase and progress on by one log line
    dashboard: str  # charts/<chart>/dashboards/<file>
    # The simulator's and the helm-test's scripts, as paths under workload/engines/ (standard library only: the
    # chart's pods run copies of them, charts/<chart>/files/<path with _ for />, made by `workload generate`).
    simulator_script: str
    check_script: str
    docs_url: str  # the engine's documentation, linked from the catalog entry
    verifier: Callable[[], Verifier]  # imports the engine's verify module when asked (not at start-up)
    # Serves the simulator until SIGTERM or SIGINT (imports it when called); OSError when it cannot listen.
    simulate: Callable[[SimulatorRequest], None]
    memory_rule: MemoryRule | None  # for `workload size` (imports the rule when called); None: not sized

    def fields(self) -> frozenset[str]:
        """The values fields this engine receives (a field no engine lacks is the contract's own)."""
        return frozenset(f for f in (*self.managed_env.values(), *self.managed_flags.values()) if FIELD.match(f))

    def template_facts(self) -> dict[str, Any]:
        """What the chart's templates read about this engine (templates/_facts.tpl, facts.engine.<name>)."""
        return {
            "title": self.title,
            "image": {
                "repository": self.image.repository,
                "tag": self.image.tag,
                "rootOnlySince": self.image.root_only_since or "",
                "nonRootUid": self.image.non_root_uid,
                "rootReason": self.image.root_reason,
                "nonRootRecipe": self.image.non_root_recipe,
            },
            "probes": {"startup": self.probes.startup, "readiness": self.probes.readiness,
                       "liveness": self.probes.liveness, "minTimeoutSeconds": self.probes.min_timeout_seconds},
            "signals": {"activeRequests": list(self.signals.active_requests),
                        "kvPressure": list(self.signals.kv_pressure),
                        "adapterMetric": self.signals.adapter_metric},
            "routes": list(self.routes),
            "managedEnv": dict(self.managed_env),
            "managedFlags": dict(self.managed_flags),
            "fieldDefaults": dict(self.field_defaults),
            "fields": sorted(self.fields()),
            "quantizations": list(self.quantizations),
            "dtypes": list(self.dtypes),
            "apiKeyEnv": self.api_key_env,
            "defaultDrainSeconds": self.default_drain_seconds,
            "versionGates": dict(self.version_gates),
            "messages": dict(self.messages),
            "dashboard": self.dashboard,
            "simulatorScript": chart_file(self.simulator_script),
            "checkScript": chart_file(self.check_script),
        }  # fmt: skip


def chart_file(script: str) -> str:
    """The name of a script's copy in the chart's files/ ("<engine>/check.py" -> "<engine>_check.py")."""
    return script.replace("/", "_")


def problem(template: str, *args: object) -> Problem:
    """A Problem from a "path: message" template with printf verbs, worded as the chart's `fail` words it."""
    path, _, message = (template % args).partition(": ")
    return Problem(path, message)
