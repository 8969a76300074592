"""Will it fit? GPU memory planning for a TGI workload before a GPU is spent (`workload size`).

gpus.py is the table of GPU types, metadata.py reads a model's shape and weight sizes without the
weights, plan.py applies TGI's start rule to them. docs/reference/gpu-memory.md cites each formula's
source in TGI.
"""
