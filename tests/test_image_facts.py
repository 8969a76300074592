"""Every rendered pod held to the facts of the real TGI image (docs/reference/tgi-image.md, read from TGI's
Dockerfile, entry point and launcher): the pod's uid can load the libpython the launcher links, every path
TGI writes is on a writable volume, and TGI listens where the probes look.

The image cannot run here (it needs a GPU), so this is the next best thing: a model of what the image
does, written from its source with file and line, applied to what we render.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES, FIXTURES, Render, by_kind, container
from workload.engines import DEFAULT_ENGINE, engine
from workload.engines.versions import image_version
from workload.models.ml_inference_load import MlInferenceLoad
from workload.paths import REPO_ROOT

FACTS_PAGE = REPO_ROOT / "docs" / "reference" / "tgi-image.md"
DERIVED_DOCKERFILE = REPO_ROOT / "images" / "tgi-nonroot" / "Dockerfile"
FACTS: dict[str, Any] = yaml.safe_load(
    re.search(r"```yaml\n(.*?)```", FACTS_PAGE.read_text(encoding="utf-8"), re.S)[1]  # type: ignore[index]
)
# The TGI image's facts hold for the values files that run TGI (another engine's image has its own facts).
VALUES_FILES = [
    path
    for path in [*sorted(EXAMPLES.glob("*.yaml")), FIXTURES / "values" / "everything.yaml"]
    if (yaml.safe_load(path.read_text(encoding="utf-8")).get("inference") or {}).get("engine", "tgi") == "tgi"
]


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def stock_image(version: str | None) -> dict[str, Any]:
    """The facts of the stock image family of a TGI version; an unknown version is taken as the newest."""
    for family in FACTS["stock_images"]:
        op, bound = re.fullmatch(r"(<=|>=)([0-9.]+)", family["versions"]).groups()  # type: ignore[union-attr]
        if version is None:
            if op == ">=":
                return dict(family)
            continue
        have, edge = _version_tuple(version), _version_tuple(bound)
        if (op == "<=" and have <= edge) or (op == ">=" and have >= edge):
            return dict(family)
    raise AssertionError(f"no facts for TGI {version}")


def opened_by_derived_image() -> set[str]:
    """Folders the derived Dockerfile opens to every uid (chmod a+x / a+rX)."""
    text = DERIVED_DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    opened: set[str] = set()
    for line in text.splitlines():
        if not line.startswith("RUN "):
            continue
        for command in line[4:].split("&&"):
            words = shlex.split(command)
            if words[:1] == ["chmod"]:
                opened.update(w for w in words[1:] if w.startswith("/"))
    return opened


@dataclass
class Pod:
    uid: int
    non_root: bool
    env: dict[str, str]
    writable: list[str]
    root_fs_writable: bool
    port: int


def pod_of(docs: list[dict[str, Any]]) -> Pod:
    spec = by_kind(docs, "Deployment")["spec"]["template"]["spec"]
    tgi = container(docs)
    pod_ctx, ctx = spec.get("securityContext", {}), tgi.get("securityContext", {})
    volumes = {v["name"]: v for v in spec["volumes"]}
    writable = [
        m["mountPath"]
        for m in tgi["volumeMounts"]
        if not m.get("readOnly") and not {"configMap", "secret"} & volumes[m["name"]].keys()
    ]
    # The image's environment, then the container's literal values over it (secrets are never paths).
    env = {**FACTS["image_env"], **{e["name"]: e["value"] for e in tgi["env"] if "value" in e}}
    (port,) = [p["containerPort"] for p in tgi["ports"] if p["name"] == "http"]
    return Pod(
        uid=ctx.get("runAsUser", pod_ctx.get("runAsUser", 0)),
        non_root=ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot", False)),
        env=env,
        writable=writable,
        root_fs_writable=not ctx.get("readOnlyRootFilesystem", False),
        port=port,
    )


def violations(pod: Pod, values: MlInferenceLoad) -> list[str]:
    """What the real image would do wrong in this pod, one line each; empty when it can start."""
    found = []
    image = stock_image(image_version(values.inference.image))
    private = set(image["private_dirs"])
    if values.inference.image.runs_as_non_root:
        private -= opened_by_derived_image()
    blocked = [d for d in private if image["python"].startswith(d + "/")]
    if pod.uid != 0 and blocked:
        found.append(f"uid {pod.uid} cannot open {image['python']} (behind {blocked[0]}, mode 0700): no libpython")
    if pod.non_root and pod.uid == 0:
        found.append("runAsNonRoot with uid 0: the kubelet refuses to start it")
    variables = {**FACTS["launcher_defaults"], **pod.env}
    for write in FACTS["writes"]:
        path = re.sub(r"\$([A-Z_]+)", lambda m: variables[m[1]], write["path"])
        on_volume = any(path == m or path.startswith(m.rstrip("/") + "/") for m in pod.writable)
        if not (on_volume or pod.root_fs_writable or write.get("may_fail")):
            found.append(f"{path} is not writable")
    if pod.env["PORT"] != str(pod.port):
        found.append(f"TGI listens on {pod.env['PORT']}, the container port is {pod.port}")
    if variables["HOSTNAME"] != "0.0.0.0":
        found.append(f"TGI binds to HOSTNAME {variables['HOSTNAME']}")
    return found


def load(path: Path) -> tuple[str, MlInferenceLoad]:
    text = path.read_text(encoding="utf-8")
    return text, MlInferenceLoad.model_validate(yaml.safe_load(text))


@pytest.mark.parametrize("path", VALUES_FILES, ids=[p.name for p in VALUES_FILES])
def test_rendered_pod_can_start_the_image(render: Render, path: Path) -> None:
    text, values = load(path)
    assert violations(pod_of(render(text)), values) == []


def test_stock_image_runs_as_root_and_the_derived_one_does_not(render: Render) -> None:
    _, minimal = load(EXAMPLES / "minimal.yaml")
    assert pod_of(render((EXAMPLES / "minimal.yaml").read_text())).uid == 0
    assert image_version(minimal.inference.image, engine(DEFAULT_ENGINE).image.tag) == "3.3.7"
    text, everything = load(FIXTURES / "values" / "everything.yaml")
    assert everything.inference.image.runs_as_non_root
    assert pod_of(render(text)).uid == 20001


def test_the_facts_catch_a_non_root_pod_on_a_stock_image(render: Render) -> None:
    """The check can fail: the pre-3082 default (uid 10001 on TGI 3.3.7) is found unable to start."""
    text, values = load(EXAMPLES / "minimal.yaml")
    pod = pod_of(render(text))
    pod.uid, pod.non_root = 10001, True
    assert violations(pod, values) == [
        "uid 10001 cannot open /root/.local/share/uv/python/cpython-3.11.11-linux-x86_64-gnu "
        "(behind /root, mode 0700): no libpython"
    ]


def test_the_facts_catch_writes_off_the_volumes(render: Render) -> None:
    text, values = load(EXAMPLES / "minimal.yaml")
    pod = pod_of(render(text))
    pod.env = {**pod.env, "HF_HOME": "/models", "HOME": "/home/tgi"}
    assert violations(pod, values) == [
        "/models/hub is not writable", "/home/tgi/.cache is not writable", "/home/tgi/.triton is not writable",
    ]  # fmt: skip
    pod.env = {**pod.env, "PORT": "80"}
    assert "TGI listens on 80, the container port is 8080" in violations(pod, values)


def test_old_images_run_as_non_root_by_default(render: Render) -> None:
    text = (EXAMPLES / "minimal.yaml").read_text() + "inference:\n  image:\n    tag: 2.4.0\n"
    values = MlInferenceLoad.model_validate(yaml.safe_load(text))
    pod = pod_of(render(text))
    assert (pod.uid, pod.non_root) == (10001, True)
    assert violations(pod, values) == []


def test_the_derived_image_opens_exactly_the_python_folders() -> None:
    python = stock_image("3.3.7")["python"]
    opened = opened_by_derived_image()
    assert "/root" in opened
    assert python.startswith(max(opened, key=len) + "/"), "the recursive chmod must cover the Python"
    assert DERIVED_DOCKERFILE.read_text().count("FROM ") == 1
