"""Pod hardening, on by default (no capabilities, read-only root filesystem, seccomp), each part switchable.

Which user the pod runs as follows the image: stock TGI images from 3.1.1 on keep their Python under
/root (mode 0700) and start only as uid 0 (TGI issue 3082; docs/reference/tgi-image.md); vLLM's and SGLang's
images have no USER (docs/reference/vllm.md, sglang.md). Everything else about the hardening is the same.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from workload.models.common import WHOLE, ValuesModel

Id = Annotated[int, Field(ge=0, le=2_147_483_647), WHOLE]


class PodSecurityContext(ValuesModel):
    """The pod's securityContext. runAsNonRoot, runAsUser and runAsGroup left unset follow the image."""

    run_as_non_root: bool | None = Field(
        default=None,
        description="Refuse to start the container as root. Unset: true exactly when the pod runs as a "
        "non-zero uid. Stock TGI images from 3.1.1 on, vLLM's and SGLang's images refuse true (they run as root).",
    )
    run_as_user: Id | None = Field(
        default=None,
        description="User id. Unset: 0 for the stock images that need root (TGI from 3.1.1 on, vLLM, SGLang, and "
        "TGI tags that are not a version), 10001 for TGI up to 3.1.0 or an image with inference.image.runsAsNonRoot.",
    )
    run_as_group: Id | None = Field(
        default=None, description="Group id. Unset: 0 when the pod runs as uid 0, else 10001."
    )
    fs_group: Id = Field(default=10001, description="Group that owns the mounted volumes (the model cache).")
    fs_group_change_policy: Literal["OnRootMismatch", "Always"] = Field(
        default="OnRootMismatch", description="Re-own a volume only when needed: a large cache takes long to chown."
    )
    seccomp_profile: Literal["RuntimeDefault", "Unconfined"] = Field(
        default="RuntimeDefault", description="Seccomp profile type."
    )


class ContainerSecurityContext(ValuesModel):
    """The engine container's securityContext. The engine writes only to /tmp, /dev/shm and the cache, all volumes."""

    read_only_root_filesystem: bool = Field(default=True, description="Mount the image read-only.")
    allow_privilege_escalation: bool = Field(default=False, description="Allow setuid binaries to gain privileges.")
    drop_all_capabilities: bool = Field(default=True, description="Drop every Linux capability.")
