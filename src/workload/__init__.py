"""Typed values contract, generators and CLI for the ML_INFERENCE_LOAD workload chart."""

# The one version: the Python package, the chart (Chart.yaml is generated from it) and the values contract
# (values.schema.json says it). Released by scripts/release.sh; what changed is in CHANGELOG.md.
__version__ = "0.2.0"
