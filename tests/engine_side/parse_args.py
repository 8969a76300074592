"""Parses command lines with an engine's own argument parser, as the engine does at start (run by the engines'
Python): vLLM's `vllm serve` parser (entrypoints/cli/serve.py: ServeSubcommand.subparser_init) or SGLang's
`prepare_server_args` (srt/server_args.py), which `python3 -m sglang.launch_server` calls first.

    python parse_args.py vllm|sglang < command-lines.json     (a JSON list of argument lists)

prints a JSON list: for each command line {"ok": true, "values": {...the parsed settings}} or
{"ok": false, "error": "the parser's last words"}. No model is loaded and no server starts.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Callable
from typing import Any

Parse = Callable[[list[str]], dict[str, Any]]


def _settings(parsed: object, args: list[str], *extra: str) -> dict[str, Any]:
    """What each flag of the command line set, by the engine's own attribute names (`--tp-size` -> tp_size)."""
    names = [a.split("=")[0].lstrip("-").replace("-", "_") for a in args if a.startswith("--")] + list(extra)
    values = {name: getattr(parsed, name, "<not an attribute>") for name in names}
    return {k: v if isinstance(v, (str, int, float, bool, list, type(None))) else repr(v) for k, v in values.items()}


def vllm_parser() -> Parse:
    from vllm.entrypoints.cli.serve import ServeSubcommand  # noqa: PLC0415 (one engine per process: import only its own)
    from vllm.utils.argparse_utils import FlexibleArgumentParser  # noqa: PLC0415

    parser = FlexibleArgumentParser(prog="vllm")
    ServeSubcommand().subparser_init(parser.add_subparsers(dest="subparser"))
    return lambda args: _settings(parser.parse_args(["serve", *args]), args, "model_tag")


def sglang_parser() -> Parse:
    from sglang.srt.server_args import prepare_server_args  # noqa: PLC0415 (one engine per process)

    return lambda args: _settings(prepare_server_args(args), args)


def main() -> None:
    parse = {"vllm": vllm_parser, "sglang": sglang_parser}[sys.argv[1]]()
    results = []
    for args in json.load(sys.stdin):
        said = io.StringIO()
        try:
            with contextlib.redirect_stderr(said), contextlib.redirect_stdout(said):
                results.append({"ok": True, "values": parse(args)})
        except (SystemExit, Exception) as error:  # argparse exits 2; SGLang's checks raise
            last = (said.getvalue().strip().splitlines() or [f"{type(error).__name__}: {error}"])[-1]
            results.append({"ok": False, "error": last})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
