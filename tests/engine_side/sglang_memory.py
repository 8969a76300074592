"""SGLang's own computed --mem-fraction-static, as its launcher resolves the arguments (run by the engines'
Python): ServerArgs.resolve_once, with the GPU's memory given instead of asked of a GPU
(srt/arg_groups/memory_hook.py reads it through get_device_memory_capacity).

    python sglang_memory.py < cases.json     (a JSON list of {"gpu_mib": int, "args": [...]})

prints a JSON list of {"mem_fraction_static", "chunked_prefill_size", "decode_max_bs"}. No model is loaded: the
model path needs a config.json only.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from sglang.srt.arg_groups import memory_hook
from sglang.srt.arg_groups.model_override_base import resolved_view
from sglang.srt.server_args import prepare_server_args


def main() -> None:
    results = []
    for case in json.load(sys.stdin):
        memory_hook.get_device_memory_capacity = lambda device=None, mib=case["gpu_mib"]: mib
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            args = prepare_server_args(["--device", "cuda", *case["args"]])
            args.resolve_once()
        view = resolved_view(args)
        results.append({"mem_fraction_static": view.mem_fraction_static,
                        "chunked_prefill_size": view.chunked_prefill_size,
                        "decode_max_bs": view.cuda_graph_config.decode.max_bs})  # fmt: skip
    print(json.dumps(results))


if __name__ == "__main__":
    main()
