"""A real vLLM server (vLLM's CPU wheel) started from the chart's own command line, for tests/test_real_vllm.py
(a local process) and tests/test_platform.py (a pod process of the test kubelet, through `entrypoint`).

The chart renders the pod; this module turns the rendered container into a local process, substituting only
what a pod has and a test machine does not: the model folder (a tiny model written on the spot, since the
machine has no Hub), the port, the dtype (float32, which the CPU kernels take), the CPU backend's KV cache size
(`VLLM_CPU_KVCACHE_SPACE`), the pod's volumes (local folders), and the Secret's value (what the kubelet puts
into a `secretKeyRef`). Everything else, every flag and variable, goes to vLLM as rendered.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from conftest import container, missing
from pods import Entrypoint, container_env, path_mapper
from test_simulator import call
from workload.paths import REPO_ROOT

ENGINE_SIDE = Path(__file__).parent / "engine_side"
INSTALL = REPO_ROOT / "scripts" / "engines" / "install.sh"
START_BUDGET_SECONDS = 600  # measured 40 to 67 s to /health 200 alone; both cores are shared with the suite
CPU_KV_CACHE_GIB = "1"


@cache
def engine_python() -> Path:
    """The engines' environment (scripts/engines/install.sh: installed by set-up, a no-op when it is there)."""
    result = subprocess.run([str(INSTALL)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        missing(f"the engines' environment ({(result.stderr.strip().splitlines() or ['?'])[-1]})")
    return Path(result.stdout.strip().splitlines()[-1]) / "bin" / "python"


def write_tiny_model(folder: Path) -> Path:
    subprocess.run([str(engine_python()), str(ENGINE_SIDE / "tiny_model.py"), str(folder)], check=True,
                   capture_output=True)  # fmt: skip
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_args(args: list[str], model: Path) -> list[str]:
    """The chart's args with this machine's substitutions: the local model for the Hub id (vLLM's positional
    argument, first), and float32."""
    return [str(model), *args[1:], "--dtype", "float32"]


def serve_command(args: list[str]) -> list[str]:
    """`vllm serve ARGS` as the image runs it, from the CPU wheel (engine_side/vllm_serve.py)."""
    return [str(engine_python()), str(ENGINE_SIDE / "vllm_serve.py"), *args]


CPU_ENV = {"VLLM_CPU_KVCACHE_SPACE": CPU_KV_CACHE_GIB}  # what the CPU backend needs and a GPU node does not


def entrypoint(model: Path) -> Entrypoint:
    """The vLLM image's entry point serving `model`, for the platform tests' kubelet (tests/pods.py): the pod's
    rendered args and environment go to `vllm serve` as they are, but for the substitutions above; its
    volumes and Secrets are the kubelet's."""
    return Entrypoint(lambda args: serve_command(local_args(args, model)), CPU_ENV)


@dataclass(frozen=True)
class Launch:
    args: list[str]
    env: dict[str, str]


def launch_of(docs: list[dict[str, Any]], *, model: Path, port: int, volumes: Path,
              secrets: dict[str, dict[str, str]]) -> Launch:  # fmt: skip
    """The rendered container as a local command line and environment, with the substitutions above."""
    c = container(docs)
    assert c.get("command") is None, "vLLM's image entry point is `vllm serve`: the chart renders args only"
    args = local_args([str(a) for a in c["args"]], model)
    args[args.index("--port") + 1] = str(port)
    mounts = {m["mountPath"]: volumes / m["name"] for m in c["volumeMounts"] if m["mountPath"] != "/dev/shm"}
    for folder in mounts.values():
        folder.mkdir(parents=True, exist_ok=True)
    # The kubelet's part: literal values with their paths made local, a secretKeyRef's value from the Secret.
    env = container_env(c, path_mapper(mounts), lambda name, key: secrets[name][key])
    return Launch(args, env | CPU_ENV)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    launch: Launch

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 120) -> int:
        """SIGTERM as the kubelet sends it (to the whole process group: vLLM's engine core is a child)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait(10)


@contextmanager
def running(launch: Launch, log: Path) -> Iterator[Server]:
    """vLLM started as `vllm serve ARGS` with only the launch's environment; yields once /health answers 200."""
    port = launch.args[launch.args.index("--port") + 1]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **launch.env}
    with log.open("wb") as out:
        process = subprocess.Popen(
            serve_command(launch.args),
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=log.parent,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", process, log, launch)
    try:
        deadline = time.monotonic() + START_BUDGET_SECONDS
        while not _healthy(server.url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"vLLM did not become healthy (exit {process.poll()}):\n{server.log_tail()}")
            time.sleep(1)
        yield server
    finally:
        server.stop()


def _healthy(url: str) -> bool:
    try:
        return call(url, "GET", "/health")[0] == 200
    except OSError:  # not listening yet
        return False


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"')


def exposition(text: str) -> dict[str, set[str]]:
    """Prometheus text exposition: each series name with the label names its samples carry."""
    series: dict[str, set[str]] = {}
    for line in text.splitlines():
        if match := SAMPLE.match(line):
            series.setdefault(match[1], set()).update(LABEL.findall(match[2] or ""))
    return series
