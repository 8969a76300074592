"""GPU types: what `gpu.type` names, the node label that selects them and the memory the driver reports.

memory_mib is `nvidia-smi --query-gpu=memory.total` (what TGI's launcher reads, launcher/src/main.rs
v3.3.7 line 1789, and what GPU Feature Discovery publishes as the node label nvidia.com/gpu.memory); the
product is GFD's nvidia.com/gpu.product label. Compiled from public nvidia-smi outputs of each card: a
node's own label (`kubectl get nodes -L nvidia.com/gpu.memory`) or --gpu-memory overrule the table.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1 << 20


@dataclass(frozen=True)
class GpuType:
    product: str  # nvidia.com/gpu.product
    memory_mib: int  # nvidia.com/gpu.memory

    @property
    def memory_bytes(self) -> int:
        return self.memory_mib * MIB


# Smallest first, so that "a bigger GPU type" is the next one that fits.
GPU_TYPES: dict[str, GpuType] = {
    "T4": GpuType("Tesla-T4", 15360),
    "A10": GpuType("NVIDIA-A10", 23028),
    "A10G": GpuType("NVIDIA-A10G", 23028),
    "L4": GpuType("NVIDIA-L4", 23034),
    "RTX-4090": GpuType("NVIDIA-GeForce-RTX-4090", 24564),
    "A100-40GB": GpuType("NVIDIA-A100-SXM4-40GB", 40960),
    "L40S": GpuType("NVIDIA-L40S", 46068),
    "RTX-A6000": GpuType("NVIDIA-RTX-A6000", 49140),
    "H100-80GB": GpuType("NVIDIA-H100-80GB-HBM3", 81559),
    "A100-80GB": GpuType("NVIDIA-A100-SXM4-80GB", 81920),
    "H100-NVL": GpuType("NVIDIA-H100-NVL", 95830),
    "H200": GpuType("NVIDIA-H200", 143771),
}
