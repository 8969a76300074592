"""The release's ExternalSecrets as External Secrets Operator reports them, in one line each.

ESO's Ready condition on a failed sync says only "could not get secret data from provider"
(externalsecret_controller.go, v0.16.2); the path and the cause are in its Warning event (reason
UpdateFailed): `error processing spec.data[N] (key: K), err: E`, where E is "Secret does not exist" (no
secret at the path) or `cannot find secret data for key: "P"` (the secret has no such property). This reads
both, and names the values field that sets the path.
"""

from __future__ import annotations

import re
from typing import Any

from workload.chart_facts import CHART_NAME
from workload.checks import Check
from workload.engines.progress import Cause, Diagnosis
from workload.errors import ClusterError
from workload.ops.kube import Kubectl
from workload.ops.phases import condition

FAILED = re.compile(r"error processing spec\.data\[(\d+)\] \(key: [^)]*\), err: (.*)")
# The values fields behind each secret the chart renders, by the Secret's key (_facts.tpl).
FIELDS = {
    "token": ("vault.hfTokenPath", "vault.hfTokenProperty"),
    "api-key": ("apiKey.vaultPath", "apiKey.vaultProperty"),
}


def failure(external_secret: dict[str, Any], events: list[dict[str, Any]]) -> str | None:
    """Why the ExternalSecret is not Ready, naming the path and property; None when it is Ready."""
    ready = condition(external_secret, "Ready")
    if ready.get("status") == "True":
        return None
    name = external_secret["metadata"]["name"]
    data = external_secret.get("spec", {}).get("data") or [{}]
    warnings = [e for e in events if e.get("type") == "Warning"]
    message = warnings[-1].get("message", "") if warnings else ""
    match = FAILED.search(message)
    item = data[int(match[1])] if match and int(match[1]) < len(data) else data[0]
    ref = item.get("remoteRef", {})
    path_field, property_field = FIELDS.get(item.get("secretKey", ""), ("the path", "the property"))
    where = f"path {ref.get('key', '?')!r} ({path_field}), property {ref.get('property', '?')!r} ({property_field})"
    store = external_secret.get("spec", {}).get("secretStoreRef", {})
    cause = match[2] if match else message or ready.get("message") or "no status yet"
    if "Secret does not exist" in cause:
        cause = f"no secret at that path in {store.get('kind', 'store')} {store.get('name', '?')}"
    elif "cannot find secret data for key" in cause:
        cause = "the secret at that path has no such property"
    return f"externalsecret/{name} is not Ready: {where}: {cause}"


def release_external_secrets(kube: Kubectl, release: str) -> list[tuple[str, str | None]]:
    """Each ExternalSecret of the release: its name, and why it is not Ready (None: it is). None at all
    without ESO's CRDs."""
    labels = {"app.kubernetes.io/instance": release, "app.kubernetes.io/name": CHART_NAME}
    try:
        found = kube.find("externalsecrets", labels)
    except ClusterError:  # ESO's CRDs are not installed: the chart renders no ExternalSecret for such a cluster
        return []
    return [(es["metadata"]["name"], failure(es, kube.events_for("ExternalSecret", es["metadata"]["name"])))
            for es in found]  # fmt: skip


def check_external_secrets(kube: Kubectl, release: str) -> list[Check]:
    """One `secrets` check per ExternalSecret of the release (none when the chart renders none)."""
    return [Check("secrets", True, f"externalsecret/{name}: synced") if problem is None
            else Check("secrets", False, problem, f"kubectl -n {kube.namespace} describe externalsecret {name}")
            for name, problem in release_external_secrets(kube, release)]  # fmt: skip


def secret_diagnosis(kube: Kubectl, release: str) -> Diagnosis | None:
    """Why the container's Secret is missing (`deploy` asks when the kubelet cannot configure the container):
    the first ExternalSecret of the release that is not Ready. Until ESO has tried, it says so, and deploy's
    grace lets ESO's answer replace it."""
    for _, problem in release_external_secrets(kube, release):
        if problem is not None:
            return Diagnosis(problem, "write the secret at that path and property in Vault, or correct the values "
                             "field named", cause=Cause.SECRET)  # fmt: skip
    return None
