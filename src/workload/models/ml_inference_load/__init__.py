"""Values contract of the ML_INFERENCE_LOAD workload: an LLM inference engine on one or more GPUs.

Field descriptions are the documentation: they are copied into values.schema.json, values.yaml and the
chart README's values table by `workload generate`. Where this differs from the design document,
docs/decisions.md section 2 says why.

The model is imported when first asked for (PEP 562), so the rules (rules.py) and the defaults can be
used without importing pydantic: `workload validate FILE` checks a valid file without it (fast_validate.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workload.chart_facts import CHART_NAME

if TYPE_CHECKING:
    from workload.models.ml_inference_load.values import MlInferenceLoad

WORKLOAD_TYPE = "ML_INFERENCE_LOAD"

__all__ = ["CHART_NAME", "WORKLOAD_TYPE", "MlInferenceLoad"]


def __getattr__(name: str) -> Any:
    if name == "MlInferenceLoad":
        from workload.models.ml_inference_load.values import MlInferenceLoad  # noqa: PLC0415

        return MlInferenceLoad
    raise AttributeError(name)
