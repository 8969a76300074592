"""Credentials: the Hugging Face token and the engine's API key, from Vault (via External Secrets) or a Secret."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from workload.models.common import DnsSubdomain, DnsSubdomainOrEmpty, RefreshInterval, SecretKey, ValuesModel
from workload.models.ml_inference_load.types import VaultPath, VaultProperty


class Vault(ValuesModel):
    """Where the Hugging Face token lives in Vault (read through External Secrets Operator)."""

    hf_token_path: VaultPath = Field(
        default="",
        description="Vault KV path of the Hugging Face token, inside the store's mount (e.g. "
        "'shared/huggingface/token'). Leading '/' are removed. Empty: no token from Vault.",
    )
    hf_token_property: VaultProperty = Field(default="value", description="Property of the Vault secret.")


class HfToken(ValuesModel):
    """An existing Kubernetes Secret holding the Hugging Face token, instead of Vault."""

    existing_secret: DnsSubdomainOrEmpty = Field(
        default="", description="Name of an existing Secret with the token. Empty: not used."
    )
    existing_secret_key: SecretKey = Field(default="token", description="Key of the token in that Secret.")


class ApiKey(ValuesModel):
    """The engine's API key: Bearer auth on the inference routes, from a Secret only, never a literal in the pod
    spec (docs/reference/engine-fields.md says how each engine receives it; TGI logs it at startup)."""

    vault_path: VaultPath = Field(
        default="", description="Vault KV path of the key (read through an ExternalSecret). Empty: not from Vault."
    )
    vault_property: VaultProperty = Field(default="value", description="Property of the Vault secret.")
    existing_secret: DnsSubdomainOrEmpty = Field(
        default="", description="Name of an existing Secret with the key. Empty: not used."
    )
    existing_secret_key: SecretKey = Field(default="api-key", description="Key of the API key in that Secret.")


class SecretStore(ValuesModel):
    """The External Secrets Operator store that reads Vault."""

    name: DnsSubdomain = Field(default="vault-backend", description="Name of the (Cluster)SecretStore.")
    kind: Literal["ClusterSecretStore", "SecretStore"] = Field(
        default="ClusterSecretStore", description="Kind of the store."
    )
    refresh_interval: RefreshInterval = Field(default="1h", description="How often ESO re-reads the secret.")
