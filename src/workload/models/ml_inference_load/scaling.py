"""How many pods serve the model, and how they come and go: replicas, autoscaling on the engine's own
signals, a disruption budget, spreading over nodes, and the pause that lets gateways stop sending before the
engine drains. Each engine's signals are its `Signals` (workload/engines/<name>/__init__.py, cited there).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from workload.models.common import WHOLE, LabelKey, ValuesModel, text

HttpUrl = Annotated[str, text(r"^https?://[^\s/?#]+(/[^\s]*)?$", "an http:// or https:// URL", max_length=2048)]
Replicas = Annotated[int, Field(ge=1, le=100), WHOLE]


class Autoscaling(ValuesModel):
    """Autoscaling on active requests per pod (queue + running batch), and with KEDA also on KV pressure.
    Off by default: how many GPUs a workload may take is a platform decision."""

    enabled: bool = Field(default=False, description="Scale between minReplicas and maxReplicas.")
    engine: Literal["keda", "hpa"] = Field(
        default="keda",
        description="keda: a KEDA ScaledObject with Prometheus triggers (active requests per pod and KV "
        "pressure). hpa: an autoscaling/v2 HorizontalPodAutoscaler on the engine's active-requests Pods metric, "
        "served by prometheus-adapter with the rule in docs/autoscaling/prometheus-adapter-rules.yaml.",
    )
    min_replicas: Annotated[int, Field(ge=0, le=100), WHOLE] = Field(
        default=1,
        description="Fewest pods. 0 is refused: nothing in front of the Service holds a request during a cold "
        "start, so the first request would fail.",
    )
    max_replicas: Replicas = Field(default=2, description="Most pods (each takes gpu.count GPUs).")
    target_active_requests: Annotated[int, Field(ge=1, le=10_000), WHOLE] = Field(
        default=8,
        description="Active requests (waiting + running) per pod to aim for. Choose it with a load test "
        "against one pod at your latency goal (README, Autoscaling).",
    )
    target_kv_pressure: Annotated[float, Field(ge=0.05, le=1.0)] = Field(
        default=0.85,
        description="KEDA only: scale out when the running batch reserves this share of the KV cache "
        "(the engine's KV-cache usage), averaged over the pods.",
    )
    prometheus_address: HttpUrl = Field(
        default="http://prometheus-operated.monitoring.svc:9090",
        description="KEDA only: the Prometheus that scrapes the ServiceMonitor (serverAddress of the triggers).",
    )
    polling_interval_seconds: Annotated[int, Field(ge=5, le=600), WHOLE] = Field(
        default=15, description="KEDA only: how often the triggers are read."
    )


class DisruptionBudget(ValuesModel):
    """A PodDisruptionBudget, rendered when there can be more than one pod: a node drain then takes at most
    maxUnavailable pods at a time. (With one pod a budget would block every drain.)"""

    enabled: bool = Field(default=True, description="Render the budget when there can be more than one pod.")
    max_unavailable: Replicas = Field(default=1, description="Pods a voluntary disruption may take at once.")


class TopologySpread(ValuesModel):
    """Spread the pods over nodes, so one node's loss takes one pod (rendered with more than one pod)."""

    enabled: bool = Field(default=True, description="Render topologySpreadConstraints with more than one pod.")
    topology_key: LabelKey = Field(default="kubernetes.io/hostname", description="Node label to spread over.")
    when_unsatisfiable: Literal["ScheduleAnyway", "DoNotSchedule"] = Field(
        default="ScheduleAnyway",
        description="ScheduleAnyway (soft: pods may share a node when no other has a free GPU) or DoNotSchedule.",
    )


class Scaling(ValuesModel):
    """Replicas and availability."""

    replicas: Replicas = Field(
        default=1,
        description="Pods when autoscaling is off. More than one rolls updates one pod at a time without a "
        "spare GPU (maxSurge 0, maxUnavailable 1); one keeps Recreate.",
    )
    autoscaling: Autoscaling = Field(default_factory=Autoscaling, description="Autoscaling.")
    disruption_budget: DisruptionBudget = Field(default_factory=DisruptionBudget, description="Disruption budget.")
    topology_spread: TopologySpread = Field(default_factory=TopologySpread, description="Spread over nodes.")
    pre_stop_seconds: Annotated[int, Field(ge=0, le=300), WHOLE] = Field(
        default=10,
        description="Pause before the engine gets SIGTERM, longer than it takes the endpoint's removal to reach "
        "the gateways and ztunnel: at SIGTERM TGI stops accepting connections and vLLM answers new requests "
        "with 500 while /health stays 200, so the pause keeps traffic away. 0: none.",
    )

    @property
    def max_pods(self) -> int:
        return self.autoscaling.max_replicas if self.autoscaling.enabled else self.replicas
