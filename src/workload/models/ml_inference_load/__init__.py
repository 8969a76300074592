"""Values contract of the ML_INFERENCE_LOAD workload: Hugging Face TGI on one or more GPUs.

Field descriptions are the documentation: they are copied into values.schema.json, values.yaml and the
chart README's values table by `workload generate`. Where this differs from the design document,
docs/decisions.md section 2 says why.
"""

from workload.chart_facts import CHART_NAME, MANAGED_ENV
from workload.models.ml_inference_load.rules import tgi_version
from workload.models.ml_inference_load.values import MlInferenceLoad

WORKLOAD_TYPE = "ML_INFERENCE_LOAD"

__all__ = ["CHART_NAME", "MANAGED_ENV", "WORKLOAD_TYPE", "MlInferenceLoad", "tgi_version"]
