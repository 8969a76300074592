"""vLLM's log lines: those that show its progress, and those that mean the start failed (first match wins).
Quoted from vLLM 0.32.0's source (docs/reference/vllm.md); real ones in tests/fixtures/recordings/logs/vllm-*."""

from __future__ import annotations

import re

from workload.engines.base import LogFailure
from workload.engines.hub import HUB_FAILURES
from workload.engines.progress import LogState, Phase

_TABLE = [
    (r"Free memory on device .* is less than desired GPU memory utilization",
     "the GPU has less free memory than vLLM's --gpu-memory-utilization asks for (another process holds some)",
     "free the GPU, or lower inference.memoryFraction (vLLM's --gpu-memory-utilization)"),
    (r"To serve at least one request with the model's max seq len",
     "the KV cache cannot hold inference.maxTotalTokens tokens of one request",
     "lower inference.maxTotalTokens (the line gives vLLM's estimate of what fits), use more GPUs (gpu.count), "
     "a quantization (model.quantization), or raise inference.memoryFraction above vLLM's 0.92"),
    (r"User-specified max_model_len \(\d+\) is greater than the derived max_model_len",
     "inference.maxTotalTokens is more than the model's context length (its config.json)",
     "lower inference.maxTotalTokens to the model's context length, which the line names"),
    (r"max_num_batched_tokens \(\d+\) must be greater than or equal to max_num_seqs",
     "inference.maxConcurrentRequests is more than vLLM's token budget per step (max_num_batched_tokens)",
     "lower inference.maxConcurrentRequests, or pass a larger --max-num-batched-tokens in inference.extraArgs"),
    (r"No available memory for the cache blocks",
     "the weights leave no GPU memory for the KV cache",
     "use more GPUs (gpu.count), a quantization (model.quantization), a larger GPU (gpu.type), or raise "
     "inference.memoryFraction above vLLM's 0.92"),
    (r"Timed out waiting for engine core processes to start",
     "vLLM's engine did not start within its ready timeout",
     "raise healthCheck.startupTimeoutSeconds (the chart sets VLLM_ENGINE_READY_TIMEOUT_S from it)"),
    (r"appears to be a URI\. This may be caused by a Kubernetes service discovery issue",
     "VLLM_PORT holds a Service link's URI (a Service named vllm in the namespace)",
     "the chart turns service links off; remove VLLM_PORT from environmentVariables"),
    (r"unrecognized arguments: (?P<detail>.*)",
     "vLLM refused its command line", "remove or fix the flag in inference.extraArgs"),
    (r"OutOfMemoryError|CUDA out of memory|CUDA error: out of memory",
     "the model does not fit in GPU memory",
     "use more GPUs (gpu.count), a quantization (model.quantization), or lower inference.maxTotalTokens"),
    (r"No space left on device",
     "the model cache volume is full", "raise storage.modelCache.size (weights plus ~10%)"),
    (r"EngineCore failed to start|Engine core initialization failed",
     "vLLM's engine core failed to start", "read the error just above this line in the pod log"),
]  # fmt: skip
LOG_FAILURES: tuple[LogFailure, ...] = HUB_FAILURES + tuple(
    LogFailure(re.compile(pattern), problem, fix) for pattern, problem, fix in _TABLE
)


def read_progress(state: LogState, line: str) -> None:
    """Move `state` on by one of vLLM's log lines (the API server's and the engine core's)."""
    if m := re.search(r"non-default args: .*'model': '([^']+)'", line):
        state.model = m[1]
    elif re.search(r"Loading weights took|Model loading took", line):  # before "Starting to load": both load
        state.phase = Phase.LOADING
    elif re.search(r"Starting to load model", line):  # downloads, then loads (the Hub's progress bars follow)
        state.phase = Phase.DOWNLOADING if state.phase is Phase.STARTING else state.phase
    elif m := re.search(r"GPU KV cache size: ([\d,]+) tokens", line):
        state.phase, state.kv_cache_tokens = Phase.WARMING_UP, int(m[1].replace(",", ""))
    elif re.search(r"Capturing CUDA graphs|init engine .* took", line):
        state.phase = Phase.WARMING_UP
    elif re.search(r"Application startup complete", line):
        state.phase = Phase.READY
