#!/usr/bin/env python3
"""Load benchmark of `workload simulate`: prints numbers, asserts nothing (run: .venv/bin/python
scripts/bench_simulate.py [--engine tgi|vllm] [--streams 50,300,1000] [--tokens 32] [--token-delay-ms 5]).

For each number of concurrent streams it starts the simulator in a process of its own, opens that many
streaming requests at once (asyncio, raw HTTP/1.1, so the client is not what is measured), and prints:
tokens per second end to end, time to first token p50/p95, errors by kind, and the server's CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def request(engine: str, tokens: int) -> bytes:
    body: dict[str, Any]
    if engine == "tgi":
        path, body = "/generate_stream", {"inputs": "Kubernetes is", "parameters": {"max_new_tokens": tokens}}
    else:
        path, body = "/v1/completions", {"model": "simulated/model", "prompt": "Kubernetes is",
                                         "max_tokens": tokens, "stream": True}  # fmt: skip
    data = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n")  # fmt: skip
    return head.encode() + data


async def stream(port: int, payload: bytes, start: asyncio.Event) -> tuple[int, float | None, str]:
    """(tokens received, seconds to the first, error kind or "")."""
    await start.wait()
    began = time.perf_counter()
    first: float | None = None
    count = 0
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
        writer.write(payload)
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 60)
        if b" 200 " not in status:
            writer.close()
            return 0, None, f"status {status[9:12].decode()}"
        while line := await asyncio.wait_for(reader.readline(), 60):
            if line.startswith(b"data:") and b"[DONE]" not in line:
                if b'"error"' in line:
                    return count, first, "error event"
                first = first if first is not None else time.perf_counter() - began
                count += 1
        writer.close()
    except (TimeoutError, OSError) as error:
        return count, first, type(error).__name__
    return count, first, ""


async def burst(port: int, engine: str, streams: int, tokens: int) -> tuple[list[tuple[int, float | None, str]], float]:
    start, payload = asyncio.Event(), request(engine, tokens)
    tasks = [asyncio.create_task(stream(port, payload, start)) for _ in range(streams)]
    await asyncio.sleep(0.1)
    began = time.perf_counter()
    start.set()
    results = await asyncio.gather(*tasks)
    return list(results), time.perf_counter() - began


def run(engine: str, streams: int, tokens: int, delay_ms: float, limit: int | None) -> None:
    port = free_port()
    most = limit or max(streams, 128)
    command = [str(BIN / "workload"), "simulate", "--engine", engine, "--port", str(port),
               "--token-delay-ms", str(delay_ms), "--max-concurrent-requests", str(most)]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if b"Connected" in line or b"startup complete" in line:
                break
        before = cpu_seconds(server.pid)
        results, seconds = asyncio.run(burst(port, engine, streams, tokens))
        cpu = cpu_seconds(server.pid) - before
    finally:
        server.kill()
    received = sum(r[0] for r in results)
    firsts = sorted(r[1] for r in results if r[1] is not None)
    errors = Counter(r[2] for r in results if r[2])
    p50 = statistics.median(firsts) * 1000 if firsts else float("nan")
    p95 = firsts[int(len(firsts) * 0.95) - 1] * 1000 if firsts else float("nan")
    cap = f", at most {limit} at once" if limit else ""
    print(f"{engine:5s} {streams:5d} streams x {tokens} tokens, delay {delay_ms:g} ms{cap}: "
          f"{received / seconds:9.0f} tokens/s end to end, first token p50 {p50:7.1f} ms p95 {p95:7.1f} ms, "
          f"errors {dict(errors) or 0}, server CPU {cpu:.2f} s in {seconds:.2f} s")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", help="tgi, vllm (default: both)")
    parser.add_argument("--streams", default="50,300,1000", help="comma-separated concurrent streams")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--token-delay-ms", type=float, action="append", help="default: 5 and 0")
    parser.add_argument("--max-concurrent-requests", type=int, help="the simulator's limit (default: the streams)")
    args = parser.parse_args()
    for engine in args.engine or ["tgi", "vllm"]:
        for delay in args.token_delay_ms or [5.0, 0.0]:
            for streams in (int(s) for s in args.streams.split(",")):
                run(engine, streams, args.tokens, delay, args.max_concurrent_requests)
    print("load average (1, 5, 15 min): " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
