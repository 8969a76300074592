"""Pod hardening, on by default (non-root, read-only root filesystem, no capabilities), each part switchable."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from workload.models.common import WHOLE, ValuesModel

Id = Annotated[int, Field(ge=0, le=2_147_483_647), WHOLE]


class PodSecurityContext(ValuesModel):
    """The pod's securityContext."""

    run_as_non_root: bool = Field(default=True, description="Refuse to start the container as root.")
    run_as_user: Id = Field(
        default=10001, description="User id (the TGI image defines no user; above 10000 to avoid host ids)."
    )
    run_as_group: Id = Field(default=10001, description="Group id.")
    fs_group: Id = Field(default=10001, description="Group that owns the mounted volumes (the model cache).")
    fs_group_change_policy: Literal["OnRootMismatch", "Always"] = Field(
        default="OnRootMismatch", description="Re-own a volume only when needed: a large cache takes long to chown."
    )
    seccomp_profile: Literal["RuntimeDefault", "Unconfined"] = Field(
        default="RuntimeDefault", description="Seccomp profile type."
    )


class ContainerSecurityContext(ValuesModel):
    """The TGI container's securityContext. TGI writes only to /tmp, /dev/shm and the cache, all volumes."""

    read_only_root_filesystem: bool = Field(default=True, description="Mount the image read-only.")
    allow_privilege_escalation: bool = Field(default=False, description="Allow setuid binaries to gain privileges.")
    drop_all_capabilities: bool = Field(default=True, description="Drop every Linux capability.")
