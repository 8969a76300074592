"""Validate a values document against the workloadSchema union, reporting one Problem per fault."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workload.models import WORKLOAD_TYPES, WorkloadType
from workload.models.common import ValuesModel
from workload.models.ml_inference_load import MlInferenceLoad
from workload.problems import Problem
from workload.pydantic_errors import problems_from_validation_error
from workload.yamlio import ValuesFileError, load_values_file


def workload_type_of(document: dict[str, Any]) -> WorkloadType | Problem:
    """The union's discriminator: pick the member from `workloadType`, or say what is allowed."""
    allowed = ", ".join(sorted(WORKLOAD_TYPES))
    value = document.get("workloadType")
    if "workloadType" not in document:
        return Problem("workloadType", f"is required; allowed: {allowed}")
    if not isinstance(value, str) or value not in WORKLOAD_TYPES:
        return Problem("workloadType", f"must be one of: {allowed} (got {value!r})")
    return WORKLOAD_TYPES[value]


def validate_document(document: dict[str, Any]) -> tuple[ValuesModel | None, list[Problem]]:
    """Type and range rules first (as values.schema.json), then cross-field rules (as the templates)."""
    member = workload_type_of(document)
    if isinstance(member, Problem):
        return None, [member]
    try:
        values = member.model.model_validate(document)
    except ValidationError as exc:
        return None, problems_from_validation_error(exc, member.model)
    problems = list(values.problems())
    return (values if not problems else None), problems


@dataclass(frozen=True)
class CheckedFile:
    """A values file after the contract's checks: its document, workload type and model when valid."""

    document: dict[str, Any] | None
    member: WorkloadType | None
    values: ValuesModel | None
    problems: list[Problem]


def check_values_file(path: Path, *, fit: bool = False) -> CheckedFile:
    """Load and validate one values file; every way it can fail is a Problem. With `fit`, also whether the
    model fits its GPU type when both are known offline (sizing/workload.py fit_problem)."""
    try:
        document = load_values_file(path)
    except ValuesFileError as exc:
        return CheckedFile(None, None, None, [Problem("", str(exc))])
    values, problems = validate_document(document)
    if fit and isinstance(values, MlInferenceLoad) and values.gpu.type is not None:
        from workload.sizing.workload import fit_problem  # noqa: PLC0415 (only for a workload naming its GPU)

        if (problem := fit_problem(values)) is not None:
            values, problems = None, [problem]
    member = workload_type_of(document)
    return CheckedFile(document, member if isinstance(member, WorkloadType) else None, values, problems)
