"""How the server is reached and watched: Gateway API route, network policy, Prometheus and Grafana."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from workload.models.common import (
    DnsSubdomain,
    DnsSubdomainOrEmpty,
    FreeText,
    GatewayDuration,
    HostnameOrEmpty,
    LabelKey,
    LabelValue,
    NamespaceOrEmpty,
    ValuesModel,
)
from workload.models.ml_inference_load.types import RoutePath, ScrapeDuration


class Gateway(ValuesModel):
    """A Gateway API parentRef. The default is the Istio convention: Gateway `gateway` in `istio-ingress`."""

    name: DnsSubdomain = Field(default="gateway", description="Name of the Gateway.")
    namespace: NamespaceOrEmpty = Field(
        default="istio-ingress",
        description="Namespace of the Gateway; empty means the workload's namespace. A cross-namespace "
        "Gateway must allow routes from this namespace (listener allowedRoutes).",
    )
    section_name: DnsSubdomainOrEmpty = Field(
        default="", description="Listener name on the Gateway to attach to; empty attaches to all listeners."
    )


class Ingress(ValuesModel):
    """Exposure through a Gateway API HTTPRoute attached to the cluster's (Istio) Gateway."""

    enabled: bool = Field(default=False, description="Create an HTTPRoute for the service. Needs `host`.")
    host: HostnameOrEmpty = Field(default="", description="Host name clients use, e.g. llm.example.com.")
    gateway: Gateway = Field(default_factory=Gateway, description="The Gateway the route attaches to (parentRef).")
    paths: Annotated[list[RoutePath], Field(min_length=1, max_length=64)] | None = Field(
        default=None,
        description="Exact paths the route exposes. Unset: the engine's inference and info routes (its `routes` "
        "in workload/engines/<name>/). /metrics is never exposed; Prometheus scrapes it inside the cluster.",
    )
    request_timeout: GatewayDuration = Field(
        default="10m",
        description="HTTPRoute request timeout. Long enough for a long streamed generation (4096 tokens at "
        "~7 tokens/s is ~10 min); gateways that default to 15 s would cut streams off. '0s' disables it.",
    )


class BasicMonitoring(ValuesModel):
    """Prometheus scraping of the engine's /metrics through pod annotations (for Prometheus without the operator)."""

    enabled: bool = Field(default=True, description="Add prometheus.io scrape annotations for /metrics.")


class ServiceMonitor(ValuesModel):
    """A Prometheus Operator ServiceMonitor for /metrics on the Service's `http` port."""

    enabled: bool = Field(default=False, description="Create a ServiceMonitor (needs the Prometheus Operator CRDs).")
    interval: ScrapeDuration = Field(default="30s", description="Scrape interval.")
    scrape_timeout: ScrapeDuration = Field(default="10s", description="Scrape timeout; at most the interval.")
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict,
        description="Extra labels, e.g. the `release` label your Prometheus selects ServiceMonitors by.",
    )


class GrafanaDashboard(ValuesModel):
    """A ConfigMap with a Grafana dashboard of the engine's key metrics (its own metric names), picked up by
    Grafana's dashboard sidecar."""

    enabled: bool = Field(default=False, description="Create the dashboard ConfigMap.")
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=lambda: {"grafana_dashboard": "1"},
        description="Labels the Grafana sidecar watches for.",
    )
    folder: FreeText = Field(default="", description="Grafana folder (grafana_folder annotation); empty: the default.")
    sizing: FreeText = Field(
        default="",
        description="What `workload size` planned for this workload (weights and KV cache per GPU, the KV capacity "
        "against maxTotalTokens), shown in the dashboard's description. `workload deploy` fills it in when the "
        "model's metadata is at hand; empty: not planned.",
    )


class Monitoring(ValuesModel):
    """Prometheus Operator and Grafana integration."""

    service_monitor: ServiceMonitor = Field(default_factory=ServiceMonitor, description="ServiceMonitor.")
    grafana_dashboard: GrafanaDashboard = Field(default_factory=GrafanaDashboard, description="Dashboard.")


class NetworkPolicy(ValuesModel):
    """A NetworkPolicy: traffic in only from the gateway and monitoring namespaces; out only DNS and HTTPS."""

    enabled: bool = Field(default=False, description="Create the NetworkPolicy.")
    monitoring_namespace: NamespaceOrEmpty = Field(
        default="monitoring", description="Namespace of Prometheus, allowed to scrape; empty: none."
    )
    extra_ingress_namespaces: list[DnsSubdomain] = Field(
        default_factory=list, description="More namespaces whose pods may call the service in-cluster."
    )
    istio_ambient: bool = Field(
        default=True,
        description="Also allow Istio ambient's HBONE tunnel (port 15008) and its kubelet-probe address "
        "(169.254.7.127, and fd16:9254:7127:1337:ffff:ffff:ffff:ffff on IPv6), without which a meshed pod gets "
        "no traffic and fails its probes.",
    )
