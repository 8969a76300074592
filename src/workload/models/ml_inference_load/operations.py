"""Day-2 settings: the chart's own `helm test`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from workload.models.common import CpuQuantity, MemoryQuantity, ValuesModel
from workload.models.ml_inference_load.types import ImageDigest, ImageRepository, ImageTag


class HelmTestImage(ValuesModel):
    """Image of the test pod: any Python 3 image; the script needs only the standard library."""

    repository: ImageRepository = Field(
        default="docker.io/library/python",
        description="Official Python image: one small image that every private mirror already carries or can "
        "mirror; the test installs nothing, so the cluster needs no access to PyPI.",
    )
    tag: ImageTag = Field(default="3.13-alpine", description="Image tag.")
    digest: ImageDigest = Field(default="", description="Optional digest that pins the image.")
    pull_policy: Literal["IfNotPresent", "Always", "Never"] = Field(
        default="IfNotPresent", description="Image pull policy."
    )


class HelmTest(ValuesModel):
    """`helm test <release>`: a pod that calls /health, /info, /generate and /generate_stream."""

    enabled: bool = Field(default=True, description="Render the test pod (it runs only on `helm test`).")
    image: HelmTestImage = Field(default_factory=HelmTestImage, description="Test pod image.")
    cpu: CpuQuantity = Field(default="100m", description="CPU request and limit of the test pod.")
    memory: MemoryQuantity = Field(default="128Mi", description="Memory request and limit of the test pod.")
