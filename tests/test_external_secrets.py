"""How `workload verify` and `workload deploy` read a failed ExternalSecret. The statuses and events are ESO
v0.16.2's own (externalsecret_controller.go: the Ready condition's "could not get secret data from
provider", the UpdateFailed event's `error processing spec.data[N] (key: K), err: E`; the Vault provider's
"Secret does not exist" and `cannot find secret data for key: "P"`, pkg/provider/vault/client_get.go);
tests/test_platform.py gets them from the real ESO and Vault."""

from __future__ import annotations

from typing import Any

import pytest

from workload.ops.external_secrets import failure

NOT_READY = {"type": "Ready", "status": "False", "reason": "SecretSyncedError",
             "message": "could not get secret data from provider"}  # fmt: skip


def external_secret(name: str, key: str, path: str, prop: str, ready: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"secretStoreRef": {"name": "vault-backend", "kind": "ClusterSecretStore"},
                     "data": [{"secretKey": key, "remoteRef": {"key": path, "property": prop}}]},
            "status": {"conditions": [ready]}}  # fmt: skip


def warning(message: str) -> dict[str, str]:
    return {"type": "Warning", "reason": "UpdateFailed", "message": message}


@pytest.mark.parametrize(("key", "path", "prop", "error", "expected"), [
    ("token", "shared/huggingface/token/value", "value", "Secret does not exist",
     "externalsecret/x is not Ready: path 'shared/huggingface/token/value' (vault.hfTokenPath), property 'value' "
     "(vault.hfTokenProperty): no secret at that path in ClusterSecretStore vault-backend"),
    ("api-key", "ml-team/qwen/api-key", "key", 'cannot find secret data for key: "key"',
     "externalsecret/x is not Ready: path 'ml-team/qwen/api-key' (apiKey.vaultPath), property 'key' "
     "(apiKey.vaultProperty): the secret at that path has no such property"),
    ("token", "a/b", "value", 'ClusterSecretStore "vault-backend" is not ready',
     "externalsecret/x is not Ready: path 'a/b' (vault.hfTokenPath), property 'value' (vault.hfTokenProperty): "
     'ClusterSecretStore "vault-backend" is not ready'),
], ids=["no-secret-at-path", "no-such-property", "store-not-ready"])  # fmt: skip
def test_a_failed_sync_names_the_path_the_property_and_their_values_fields(
    key: str, path: str, prop: str, error: str, expected: str
) -> None:
    es = external_secret("x", key, path, prop, NOT_READY)
    events = [warning(f"error processing spec.data[0] (key: {path}), err: {error}")]
    line = failure(es, events)
    assert line == expected
    assert "\n" not in line


def test_a_synced_external_secret_is_no_failure_and_an_unsynced_one_says_so() -> None:
    synced = external_secret("x", "token", "a/b", "value", {"type": "Ready", "status": "True"})
    assert failure(synced, [warning("error processing spec.data[0] (key: a/b), err: Secret does not exist")]) is None
    fresh = external_secret("x", "token", "a/b", "value", {})
    assert failure(fresh, []) == ("externalsecret/x is not Ready: path 'a/b' (vault.hfTokenPath), property 'value' "
                                  "(vault.hfTokenProperty): no status yet")  # fmt: skip
