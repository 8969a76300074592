"""What a node's kubelet and container runtime do for a simulator pod, for the cluster suite's platform tests:
kwok plays the kubelet's API side (the pod is scheduled, gets an IP from kwok's --cidr, turns Running and
Ready), and this module runs the pod's container as a local process in a network namespace of its own that
holds the pod's IP, as a CNI plugin would give it. The container's command line, port and environment go
unchanged; only its volumes become local folders (the ConfigMap's files written out, emptyDirs empty) and
the paths into them are rewritten. A container that names no command runs its image's entry point: the test
registers one per image (an Entrypoint: tests/real_vllm.py's runs `vllm serve` from vLLM's CPU wheel).

How traffic reaches a pod: every pod gets a veth pair, the pod's end (eth0) holding the pod IP as a /32 and
the host's end a link-local address; the host routes the pod IP to its veth. So Prometheus, KEDA and the
test's clients on the host reach `podIP:port` exactly as they would in a cluster with a flat pod network.
The pod's namespace has no default route (nothing in a simulator dials out; with one, Python's HTTPServer
waits on DNS for getfqdn). Needs root (CAP_NET_ADMIN), `unshare`, `nsenter` and `ip`.

Every process gets PR_SET_PDEATHSIG (setpriv), so a killed test run leaves no namespace, veth or route:
the veth and its route go with the namespace's last process.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

HOST_SIDE = "169.254.77.1"  # the host's end of every pod's veth (link-local, like Calico's 169.254.1.1)
_names = count()


def missing_network_tools() -> str | None:
    """What this machine lacks to give pods a network, or None."""
    for tool in ("ip", "unshare", "nsenter", "setpriv"):
        if shutil.which(tool) is None:
            return f"{tool} (the platform tests give each simulator pod a network namespace)"
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"root with CAP_NET_ADMIN (unshare --net: {probe.stderr.strip()})"
    return None


def _ip(*batch: str, netns_pid: int | None = None) -> None:
    command = ["ip", "-batch", "-"]
    if netns_pid is not None:
        command = ["nsenter", f"--net=/proc/{netns_pid}/ns/net", *command]
    result = subprocess.run(command, input="\n".join(batch) + "\n", capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' / '.join(batch)}: {result.stderr.strip()}")


@dataclass(frozen=True)
class Entrypoint:
    """An image's ENTRYPOINT as a local program: `command` turns the container's args into the command line,
    and `env` is added to the container's environment (what this machine needs and a GPU node would not)."""

    command: Callable[[list[str]], list[str]]
    env: dict[str, str] = field(default_factory=dict)


def image_repository(image: str) -> str:
    """`registry:5000/vllm/vllm-openai:v0.32.0@sha256:...` -> `registry:5000/vllm/vllm-openai`."""
    name = image.split("@", 1)[0]
    head, _, tail = name.rpartition("/")
    return f"{head}/{tail.split(':', 1)[0]}" if head else tail.split(":", 1)[0]


class SecretMissing(Exception):
    """A secretKeyRef the kubelet cannot resolve yet (its messages, pkg/kubelet/kubelet_pods.go)."""


@dataclass
class PodProcess:
    """One pod: the process holding its network namespace, and its container's process."""

    name: str
    ip: str
    holder: subprocess.Popen[bytes]
    container: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    ports: tuple[int, ...] = ()  # the container's ports

    def listening(self) -> bool:
        """Whether every container port accepts a connection (what the readiness probe would first see)."""
        for port in self.ports:
            try:
                socket.create_connection((self.ip, port), timeout=0.5).close()
            except OSError:
                return False
        return True

    def stop(self, grace: float = 30) -> int | None:
        """SIGTERM to the container's process group, as the kubelet sends it; SIGKILL after the grace."""
        code = None
        if self.container is not None:
            if self.container.poll() is None:
                os.killpg(self.container.pid, signal.SIGTERM)
            try:
                code = self.container.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.container.pid, signal.SIGKILL)
                code = self.container.wait(10)
            # What is left of the container goes with it, as its cgroup does: a child still exiting (the real
            # vLLM's engine core) would keep the network namespace, and its veth, after the pod is gone.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.container.pid, signal.SIGKILL)
        if self.holder.poll() is None:
            self.holder.kill()
        self.holder.wait(10)
        return code


def pod_network(ip: str) -> subprocess.Popen[bytes]:
    """A network namespace holding `ip` on eth0, reachable from the host; the returned process holds it."""
    holder = subprocess.Popen(["setpriv", "--pdeathsig", "KILL", "unshare", "--net", "sleep", "infinity"],
                              start_new_session=True)  # fmt: skip
    own = os.readlink("/proc/self/ns/net")
    deadline = time.monotonic() + 10
    while True:  # unshare has made the namespace once the holder's differs from ours
        try:
            if os.readlink(f"/proc/{holder.pid}/ns/net") != own:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            holder.kill()
            raise RuntimeError("unshare --net did not make a network namespace")
        time.sleep(0.01)
    host, pod = f"wl{os.getpid() % 100000}h{next(_names)}", "eth0"
    try:
        _ip(f"link add {host} type veth peer name {pod} netns {holder.pid}",
            f"addr add {HOST_SIDE}/32 dev {host}", f"link set {host} up")  # fmt: skip
        _ip("link set lo up", f"addr add {ip}/32 dev {pod}", f"link set {pod} up",
            f"route add {HOST_SIDE}/32 dev {pod} scope link", netns_pid=holder.pid)  # fmt: skip
        # replace: a pod IP kwok hands out again may still be routed to a namespace the kernel is tearing down
        _ip(f"route replace {ip}/32 dev {host} src {HOST_SIDE}")
    except RuntimeError:
        holder.kill()
        holder.wait(10)
        raise
    return holder


def path_mapper(mounts: dict[str, Path]) -> Callable[[str], str]:
    """A value naming a path under one of the container's mount paths, rewritten into the local folder."""

    def local(value: str) -> str:
        for path, folder in mounts.items():
            if value == path or value.startswith(path + "/"):
                return str(folder) + value[len(path) :]
        return value

    return local


def container_env(container: dict[str, Any], local: Callable[[str], str], secret: Callable[[str, str], str],
                  pod: dict[str, Any] | None = None) -> dict[str, str]:  # fmt: skip
    """The container's environment as the kubelet builds it: literal values (paths made local), a Secret's
    key for a secretKeyRef, the pod's own fields for a fieldRef."""
    env: dict[str, str] = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = local(str(item["value"]))
            continue
        source = item["valueFrom"]
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            env[item["name"]] = secret(ref["name"], ref["key"])
        elif "fieldRef" in source and pod is not None:
            value: Any = pod
            for part in source["fieldRef"]["fieldPath"].split("."):
                value = value.get(part, "") if isinstance(value, dict) else ""
            env[item["name"]] = str(value)
        else:
            raise ValueError(f"env {item['name']}: the test kubelet does not resolve {sorted(source)}")
    return env


@dataclass
class Kubelet:
    """Runs the containers of the Running pods in the namespaces it is given, and stops them when their pod
    goes. Polls the API server (every 0.3 s) with the admin's client certificate."""

    server: str  # https://127.0.0.1:port
    pki: Path  # ca.crt, admin.crt, admin.key
    workdir: Path
    namespaces: set[str] = field(default_factory=set)
    entrypoints: dict[str, Entrypoint] = field(default_factory=dict)  # by image repository
    pods: dict[str, PodProcess] = field(default_factory=dict)  # by namespace/name
    waiting: dict[str, str] = field(default_factory=dict)  # namespace/name -> the Secret it waits for
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _context: ssl.SSLContext | None = None
    error: BaseException | None = None

    def _get(self, path: str) -> dict[str, Any]:
        if self._context is None:
            self._context = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
            self._context.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        with urllib.request.urlopen(self.server + path, context=self._context, timeout=10) as response:
            result: dict[str, Any] = json.load(response)
        return result

    def start(self) -> Kubelet:
        # One long-lived thread starts and stops every process: PR_SET_PDEATHSIG fires when the *thread*
        # that started a process ends, so a thread per pod would kill its pod when it returned.
        self._thread = threading.Thread(target=self._loop, name="test-kubelet", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(120)

    def _loop(self) -> None:
        try:
            while not self._stopping.is_set():
                self._sync()
                self._stopping.wait(0.3)
        except BaseException as error:  # surfaced by wait_running / the fixture
            self.error = error
        finally:
            for key in list(self.pods):
                self.pods.pop(key).stop()

    def _sync(self) -> None:
        running: dict[str, dict[str, Any]] = {}
        for namespace in list(self.namespaces):
            for pod in self._get(f"/api/v1/namespaces/{namespace}/pods")["items"]:
                meta, status = pod["metadata"], pod.get("status", {})
                if status.get("phase") == "Running" and status.get("podIP") and "deletionTimestamp" not in meta:
                    running[f"{meta['namespace']}/{meta['name']}"] = pod
        for key in [k for k in self.pods if k not in running]:
            self.pods.pop(key).stop()
        for key, pod in running.items():
            if key not in self.pods:
                try:
                    self.pods[key] = self._run(pod)
                except SecretMissing as missing:  # the kubelet's CreateContainerConfigError: retried each sync
                    self.waiting[key] = str(missing)

    def _run(self, pod: dict[str, Any]) -> PodProcess:
        meta, spec = pod["metadata"], pod["spec"]
        folder = self.workdir / meta["namespace"] / meta["name"]
        volumes: dict[str, Path] = {}
        for volume in spec.get("volumes", []):
            path = volumes[volume["name"]] = folder / "volumes" / volume["name"]
            path.mkdir(parents=True, exist_ok=True)
            if "configMap" in volume:
                data = self._get(f"/api/v1/namespaces/{meta['namespace']}/configmaps/{volume['configMap']['name']}")
                for key, text in data.get("data", {}).items():
                    (path / key).write_text(text, encoding="utf-8")
        (container,) = spec["containers"]  # the chart's pod has one container
        mounts = {m["mountPath"]: volumes[m["name"]] for m in container.get("volumeMounts", [])
                  if m["mountPath"] != "/dev/shm"}  # fmt: skip
        local = path_mapper(mounts)

        def secret(name: str, key: str) -> str:
            try:
                data = self._get(f"/api/v1/namespaces/{meta['namespace']}/secrets/{name}").get("data", {})
            except urllib.error.HTTPError as error:
                if error.code == 404:
                    raise SecretMissing(f'secret "{name}" not found') from None
                raise
            if key not in data:
                raise SecretMissing(f"couldn't find key {key} in Secret {meta['namespace']}/{name}")
            return base64.b64decode(data[key]).decode()

        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               **container_env(container, local, secret, pod)}  # fmt: skip
        args = [local(str(a)) for a in container.get("args", [])]
        if "command" in container:
            command = [local(str(a)) for a in container["command"]] + args
            if command[0] in ("python3", "python"):  # the image's Python; the simulators need stdlib only
                command[0] = sys.executable
        else:  # the image's own entry point
            repository = image_repository(container["image"])
            if repository not in self.entrypoints:
                raise ValueError(f"pod {meta['name']}: the test kubelet has no entry point for {repository}")
            entrypoint = self.entrypoints[repository]
            command, env = entrypoint.command(args), env | entrypoint.env
        holder = pod_network(pod["status"]["podIP"])
        log = folder / "container.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["setpriv", "--pdeathsig", "KILL", "nsenter", f"--net=/proc/{holder.pid}/ns/net", "--", *command],
                env=env, cwd=folder, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        ports = tuple(int(p["containerPort"]) for p in container.get("ports", []))
        return PodProcess(meta["name"], pod["status"]["podIP"], holder, process, log, ports)

    def wait_running(self, namespace: str, count: int, timeout: float = 60) -> list[PodProcess]:
        """The namespace's pod processes once `count` of them run (none has exited) and listen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.error is not None:
                raise RuntimeError(f"the test kubelet stopped: {self.error!r}")
            mine = [p for k, p in list(self.pods.items()) if k.startswith(namespace + "/")]
            for pod in mine:
                if pod.container is not None and pod.container.poll() is not None:
                    tail = pod.log.read_text(errors="replace")[-2000:] if pod.log else ""
                    raise AssertionError(f"pod {pod.name} exited {pod.container.returncode}:\n{tail}")
            if len(mine) == count and all(pod.listening() for pod in mine):
                return mine
            time.sleep(0.2)
        waits = {k: why for k, why in self.waiting.items() if k.startswith(namespace + "/") and k not in self.pods}
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {count} pod processes in {namespace}"
                             + (f"; not started: {waits}" if waits else ""))  # fmt: skip
