"""Typed values contract, generators and CLI for the ML_INFERENCE_LOAD workload chart."""

__version__ = "0.1.0"
