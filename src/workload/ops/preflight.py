"""`workload deploy --check`: what will stop the workload from running on the current cluster, before
anything is installed, each with its fix. `workload deploy` runs it first and refuses to install while
anything blocks (unless told --skip-preflight)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workload.models.ml_inference_load import MlInferenceLoad
from workload.models.ml_inference_load.rules import engine_of, pod_user
from workload.ops.kube import Kubectl
from workload.sizing.gpus import GPU_TYPES, MIB
from workload.sizing.metadata import ModelFacts, from_cache, from_folder
from workload.sizing.workload import misfit


@dataclass(frozen=True)
class Blocker:
    """One reason the workload would not run here, and what to do about it."""

    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.problem}; fix: {self.fix}"


def _custom_resources(v: MlInferenceLoad) -> Iterator[tuple[str, str, str, str]]:
    """(API group, plural, kind, the field that turns it on) of each custom resource the values render."""
    if v.ingress.enabled:
        yield "gateway.networking.k8s.io", "httproutes", "HTTPRoute", "ingress.enabled"
    if v.vault.hf_token_path or v.api_key.vault_path:
        yield "external-secrets.io", "externalsecrets", "ExternalSecret", "vault.hfTokenPath or apiKey.vaultPath"
    if v.monitoring.service_monitor.enabled:
        yield "monitoring.coreos.com", "servicemonitors", "ServiceMonitor", "monitoring.serviceMonitor.enabled"


def serves(kube: Kubectl, group: str, plural: str) -> bool:
    """Whether the cluster serves a resource (kubectl exits 0 with empty output for a missing group)."""
    names = kube.run("api-resources", "--api-group", group, "--output", "name").split()
    return any(name.split(".")[0] == plural for name in names)


def _gpus(node: dict[str, Any], resource: str) -> int:
    value = str((node.get("status") or {}).get("allocatable", {}).get(resource, "0"))
    return int(value) if value.isdigit() else 0


def _gpu_memory_mib(node: dict[str, Any]) -> int | None:
    value = str((node["metadata"].get("labels") or {}).get("nvidia.com/gpu.memory", ""))
    return int(value) if value.isdigit() else None


def fit_blocker(v: MlInferenceLoad, nodes: list[dict[str, Any]], facts: ModelFacts) -> Blocker | None:
    """Whether the model fits the GPUs of the nodes it can land on: the smallest GPU memory that GPU
    Feature Discovery reports on them (nvidia.com/gpu.memory), else gpu.type's."""
    reported = [m for m in (_gpu_memory_mib(n) for n in nodes) if m is not None]
    if reported:
        memory, name = min(reported) * MIB, f"{min(reported)} MiB GPUs (nvidia.com/gpu.memory)"
    elif v.gpu.type is not None:
        memory, name = GPU_TYPES[v.gpu.type].memory_bytes, v.gpu.type
    else:
        return None
    result = misfit(v, facts, memory, name)
    if result is None:
        return None
    return Blocker(
        f"{v.model.id} does not fit {v.gpu.count} x {name}: {engine_of(v).title} would find room for "
        f"{result.kv_capacity_tokens} tokens of KV cache, fewer than inference.maxTotalTokens "
        f"{result.max_total_tokens}, and refuse to start",
        result.fixes[0] if result.fixes else "see `workload size`",
    )


def preflight(kube: Kubectl, v: MlInferenceLoad, namespace: str, facts: ModelFacts | None = None) -> list[Blocker]:
    """Every blocker found, in the order a pod meets them: admission, creation, scheduling, GPU memory (when
    the model's metadata is at hand), storage."""
    blockers: list[Blocker] = []
    for group, plural, kind, field in _custom_resources(v):
        if not serves(kube, group, plural):
            blockers.append(Blocker(f"the cluster has no {kind} CRD ({plural}.{group}), which {field} needs",
                                    f"install its CRDs, or turn {field.split(' or ')[0]} off"))  # fmt: skip
    ns = kube.get("namespace", namespace)
    level = ((ns or {}).get("metadata", {}).get("labels") or {}).get("pod-security.kubernetes.io/enforce")
    non_root, uid, _ = pod_user(v)
    if level == "restricted" and (not non_root or uid == 0):
        blockers.append(Blocker(
            f"namespace {namespace} enforces Pod Security 'restricted', which refuses a pod running as uid 0",
            f"use the derived image ({engine_of(v).image.non_root_recipe.removesuffix('/Dockerfile')}) with "
            "inference.image.runsAsNonRoot, or a 'baseline' namespace",
        ))  # fmt: skip
    if not v.simulator.enabled:
        gpu = v.gpu
        if gpu.runtime_class_name and kube.get("runtimeclass", gpu.runtime_class_name) is None:
            fix = "install the GPU Operator, or set gpu.runtimeClassName (null with CDI)"
            blockers.append(Blocker(f"RuntimeClass {gpu.runtime_class_name} does not exist", fix))
        selector = {k: val for k, val in gpu.node_selector.items() if val is not None}
        if gpu.type is not None:
            selector["nvidia.com/gpu.product"] = GPU_TYPES[gpu.type].product
        nodes = [n for n in kube.find("nodes") if selector.items() <= (n["metadata"].get("labels") or {}).items()]
        most = max((_gpus(n, gpu.resource_name) for n in nodes), default=0)
        if most < gpu.count:
            where = (f"of the {len(nodes)} nodes matching gpu.nodeSelector{' and gpu.type' if gpu.type else ''}"
                     if selector else "of the nodes")  # fmt: skip
            blockers.append(Blocker(
                f"no node has {gpu.count} allocatable {gpu.resource_name} (the most {where}: {most})",
                "lower gpu.count, add GPU nodes, or check the GPU Operator's device plugin",
            ))  # fmt: skip
        elif facts is not None:
            roomy = [n for n in nodes if _gpus(n, gpu.resource_name) >= gpu.count]
            if (blocker := fit_blocker(v, roomy, facts)) is not None:
                blockers.append(blocker)
    cache = v.storage.model_cache
    if cache.enabled and not cache.existing_claim:
        classes = kube.find("storageclasses")
        if cache.storage_class and not any(c["metadata"]["name"] == cache.storage_class for c in classes):
            blockers.append(Blocker(f"StorageClass {cache.storage_class} does not exist",
                                    "set storage.modelCache.storageClass to one of the cluster's classes"))  # fmt: skip
        default = "storageclass.kubernetes.io/is-default-class"
        if not cache.storage_class and not any(
            (c["metadata"].get("annotations") or {}).get(default) == "true" for c in classes
        ):
            fix = "set storage.modelCache.storageClass, or storage.modelCache.existingClaim"
            blockers.append(Blocker("the cluster has no default StorageClass for the model cache", fix))
    return blockers


def preflight_with_metadata(
    file: Path, v: MlInferenceLoad, kube: Kubectl, model_dir: Path | None, notice: Callable[[str], None]
) -> tuple[list[Blocker], ModelFacts | None]:
    """The preflight, with the model's metadata for the GPU memory check when it is at hand offline
    (--model-dir, else the Hugging Face cache; the Hub is not asked: `workload size` does that)."""
    facts = None
    if model_dir is not None:  # asked for: a folder that cannot be read is an error
        facts = from_folder(model_dir)
    elif not v.simulator.enabled:
        facts = from_cache(v.model.id, v.model.revision)
        if facts is None and v.gpu.type is not None:
            notice(f"{file}: preflight: GPU memory not checked: {v.model.id} is not in the Hugging Face cache; "
                   "give --model-dir, or run `workload size`")  # fmt: skip
    return preflight(kube, v, kube.namespace, facts), facts
