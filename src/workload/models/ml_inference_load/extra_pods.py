"""Pods the chart runs besides the engine: the `helm test` check and the GPU-free engine simulator."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from workload.models.common import WHOLE, CpuQuantity, MemoryQuantity, ValuesModel
from workload.models.ml_inference_load.types import ImageDigest, ImageRepository, ImageTag


class PythonImage(ValuesModel):
    """A plain Python 3 image: the chart's scripts need only the standard library."""

    repository: ImageRepository = Field(
        default="docker.io/library/python",
        description="Official Python image: one small image that every private mirror already carries or can "
        "mirror; nothing is installed at run time, so the cluster needs no access to PyPI.",
    )
    tag: ImageTag = Field(default="3.13-alpine", description="Image tag.")
    digest: ImageDigest = Field(default="", description="Optional digest that pins the image.")
    pull_policy: Literal["IfNotPresent", "Always", "Never"] = Field(
        default="IfNotPresent", description="Image pull policy."
    )


class HelmTest(ValuesModel):
    """`helm test <release>`: a pod that calls /health, /info, /generate, /generate_stream and a chat completion."""

    enabled: bool = Field(default=True, description="Render the test pod (it runs only on `helm test`).")
    image: PythonImage = Field(default_factory=PythonImage, description="Test pod image.")
    cpu: CpuQuantity = Field(default="100m", description="CPU request and limit of the test pod.")
    memory: MemoryQuantity = Field(default="128Mi", description="Memory request and limit of the test pod.")


class Simulator(ValuesModel):
    """The engine's HTTP API without a GPU or a model (`workload simulate`), in place of the engine.

    The Deployment keeps its Service, route, secrets, API key, NetworkPolicy, probes and user, so a team
    proves its gateway, auth, secrets and clients before it spends a GPU.
    """

    enabled: bool = Field(
        default=False,
        description="Run the engine's simulator instead of the engine: a small CPU pod with no GPU request, "
        "answering the engine's API (routes, key scope, health, metrics) with deterministic text. Everything "
        "else about the release stays as it will be with the engine.",
    )
    image: PythonImage = Field(default_factory=PythonImage, description="Simulator image.")
    token_delay_ms: Annotated[int, Field(ge=0, le=60_000), WHOLE] = Field(
        default=20, description="Time each generated token takes, in ms (20 ms is about 50 tokens/s)."
    )
    cpu: CpuQuantity = Field(default="250m", description="CPU request and limit of the simulator.")
    memory: MemoryQuantity = Field(default="128Mi", description="Memory request and limit of the simulator.")
