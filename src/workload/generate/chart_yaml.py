"""The version fields of Chart.yaml, from the one version (workload.__version__) and the default image."""

from __future__ import annotations

import re

from workload import __version__
from workload.models.ml_inference_load.serving import Image


def default_tgi_version() -> str:
    """The TGI release of the chart's default image (its appVersion)."""
    return str(Image.model_fields["tag"].default)


def chart_yaml(current: str) -> str:
    """Chart.yaml with `version` = the package version and `appVersion` = the default TGI version; the rest
    (description, keywords, annotations) is written by hand."""
    tgi = default_tgi_version()
    text = re.sub(r"(?m)^version: .*$", f"version: {__version__}", current)
    text = re.sub(r"(?m)^appVersion: .*$", f'appVersion: "{tgi}"', text)
    return re.sub(r"(image: ghcr\.io/huggingface/text-generation-inference:)\S+", rf"\g<1>{tgi}", text)
