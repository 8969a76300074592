"""The workloadSchema union: every workload type, keyed by its `workloadType` discriminator.

A new workload type is one package under workload/models/ (its values model and rules), one entry here,
and one chart (docs/architecture.md, "A new workload type").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workload.models.common import ValuesModel
from workload.models.ml_inference_load import CHART_NAME as ML_INFERENCE_LOAD_CHART
from workload.models.ml_inference_load import WORKLOAD_TYPE as ML_INFERENCE_LOAD
from workload.models.ml_inference_load.values import MlInferenceLoad
from workload.paths import charts_dir


@dataclass(frozen=True)
class WorkloadType:
    """One member of the union: its discriminator value, values model and chart."""

    name: str
    model: type[ValuesModel]
    chart_name: str

    @property
    def chart_dir(self) -> Path:
        return charts_dir() / self.chart_name


WORKLOAD_TYPES: dict[str, WorkloadType] = {
    ML_INFERENCE_LOAD: WorkloadType(ML_INFERENCE_LOAD, MlInferenceLoad, ML_INFERENCE_LOAD_CHART),
}
