"""Values contract of the ML_INFERENCE_LOAD workload: an LLM inference engine on one or more GPUs.

Field descriptions are the documentation: they are copied into values.schema.json, values.yaml and the
chart README's values table by `workload generate`. Where this differs from the design document,
docs/decisions.md section 2 says why.
"""

from workload.chart_facts import CHART_NAME
from workload.models.ml_inference_load.values import MlInferenceLoad

WORKLOAD_TYPE = "ML_INFERENCE_LOAD"

__all__ = ["CHART_NAME", "WORKLOAD_TYPE", "MlInferenceLoad"]
