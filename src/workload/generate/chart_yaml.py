"""The version fields of Chart.yaml, from the one version (workload.__version__) and the default image."""

from __future__ import annotations

import re

from workload import __version__
from workload.engines import DEFAULT_ENGINE, engine


def chart_yaml(current: str) -> str:
    """Chart.yaml with `version` = the package version and `appVersion` = the default engine's version; the
    rest (description, keywords, annotations) is written by hand."""
    image = engine(DEFAULT_ENGINE).image
    text = re.sub(r"(?m)^version: .*$", f"version: {__version__}", current)
    text = re.sub(r"(?m)^appVersion: .*$", f'appVersion: "{image.tag}"', text)
    return re.sub(rf"(image: {re.escape(image.repository)}:)\S+", rf"\g<1>{image.tag}", text)
