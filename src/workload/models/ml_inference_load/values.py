"""The top-level values object of ML_INFERENCE_LOAD."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from workload.models.common import (
    DnsSubdomainOrEmpty,
    Environment,
    EnvironmentVariableObj,
    LabelValue,
    Namespace,
    ServiceName,
    ValuesModel,
)
from workload.models.ml_inference_load.exposure import BasicMonitoring, Ingress, Monitoring, NetworkPolicy
from workload.models.ml_inference_load.extra_pods import HelmTest, Simulator
from workload.models.ml_inference_load.rules import cross_field_problems
from workload.models.ml_inference_load.scaling import Scaling
from workload.models.ml_inference_load.secrets import ApiKey, HfToken, SecretStore, Vault
from workload.models.ml_inference_load.security import ContainerSecurityContext, PodSecurityContext
from workload.models.ml_inference_load.serving import Gpu, HealthCheck, Inference, Model, Resources, Storage
from workload.problems import Problem


class MlInferenceLoad(ValuesModel):
    """Values of the ML_INFERENCE_LOAD workload type."""

    workload_type: Literal["ML_INFERENCE_LOAD"] = Field(description="Workload type; always ML_INFERENCE_LOAD.")
    service_name: ServiceName = Field(
        description="Name of the service; every Kubernetes object is named after it, and so is the Helm release "
        "by default (hence at most 53 characters, Helm's limit for release names)."
    )
    service_catalog: LabelValue = Field(description="Catalog system (team) that owns the service.")
    namespace: Namespace | None = Field(
        default=None, description="Namespace of every object; unset means the Helm release namespace."
    )
    environment: Environment = Field(description="Deployment environment: dev, staging or prod.")
    service_account: DnsSubdomainOrEmpty = Field(
        default="", description="Existing ServiceAccount to run as; empty uses the namespace default."
    )
    ingress: Ingress = Field(default_factory=Ingress, description="External access.")
    model: Model = Field(description="The model to serve.")
    inference: Inference = Field(default_factory=Inference, description="Inference server settings.")
    gpu: Gpu = Field(default_factory=Gpu, description="GPU scheduling.")
    scaling: Scaling = Field(default_factory=Scaling, description="Replicas, autoscaling and availability.")
    storage: Storage = Field(default_factory=Storage, description="Model weight storage.")
    vault: Vault = Field(default_factory=Vault, description="Hugging Face token from Vault.")
    hf_token: HfToken = Field(default_factory=HfToken, description="Hugging Face token from an existing Secret.")
    api_key: ApiKey = Field(default_factory=ApiKey, description="Engine API key (Bearer auth); unset: no auth.")
    secret_store: SecretStore = Field(default_factory=SecretStore, description="External Secrets Operator store.")
    resources: Resources = Field(default_factory=Resources, description="CPU and memory.")
    health_check: HealthCheck = Field(default_factory=HealthCheck, description="Probes.")
    basic_monitoring: BasicMonitoring = Field(default_factory=BasicMonitoring, description="Prometheus scraping.")
    monitoring: Monitoring = Field(default_factory=Monitoring, description="ServiceMonitor and Grafana dashboard.")
    network_policy: NetworkPolicy = Field(default_factory=NetworkPolicy, description="NetworkPolicy.")
    pod_security_context: PodSecurityContext = Field(
        default_factory=PodSecurityContext, description="Pod security context (hardened by default)."
    )
    container_security_context: ContainerSecurityContext = Field(
        default_factory=ContainerSecurityContext, description="Container security context (hardened by default)."
    )
    helm_test: HelmTest = Field(default_factory=HelmTest, description="The chart's `helm test` pod.")
    simulator: Simulator = Field(
        default_factory=Simulator,
        description="The GPU-free engine simulator in place of the engine (proving a platform).",
    )
    automount_service_account_token: bool = Field(
        default=False, description="Mount a Kubernetes API token into the pod; no engine calls the API."
    )
    environment_variables: list[EnvironmentVariableObj] = Field(
        default_factory=list,
        description="Extra environment variables for the engine (e.g. PREFIX_CACHING for TGI). Variables the chart "
        "sets are refused.",
    )

    def problems(self) -> Iterator[Problem]:
        """Cross-field rules; the chart's templates/_validate.tpl fails with the same messages."""
        return cross_field_problems(self)
