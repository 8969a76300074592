"""The CLI installed from its wheel, used from a folder outside the repository, as an ML team's CI uses it.

Before, the wheel held no chart (paths.py assumed a checkout), so `workload render` failed with
`path ".../lib/python3.11/charts/ml-inference-load" not found` while `validate` worked.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
import venv
from pathlib import Path

import pytest

from conftest import EXAMPLES, helm_path
from model_metadata import QWEN_05B, QWEN_05B_TOTAL_SIZE, model_folder
from workload.paths import REPO_ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(bin folder of a fresh virtual environment with the wheel installed, a work folder outside the repo)."""
    root = tmp_path_factory.mktemp("wheel")
    dist, env, work = root / "dist", root / "venv", root / "work"
    work.mkdir()
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(REPO_ROOT)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("*.whl")
    venv.create(env, with_pip=True)
    install = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "-c", str(REPO_ROOT / "constraints.txt"), str(wheel)]  # fmt: skip
    subprocess.run(install, check=True, capture_output=True, timeout=600)
    return env / "bin", work


def run(installed: tuple[Path, Path], *args: str) -> subprocess.CompletedProcess[str]:
    bin_dir, work = installed
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",  # the project's tools folder is not on it
        "WORKLOAD_HELM": str(helm_path("helm4")),
        "HOME": str(work),
    }
    return subprocess.run([str(bin_dir / "workload"), *args], cwd=work, env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def test_validate_and_render_from_outside_the_repository(installed: tuple[Path, Path]) -> None:
    _, work = installed
    values = work / "team.yaml"
    values.write_text((EXAMPLES / "minimal.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert run(installed, "validate", str(values)).stdout == f"{values}: ok\n"
    rendered = run(installed, "render", str(values))
    assert rendered.returncode == 0, rendered.stderr
    assert "kind: Deployment" in rendered.stdout
    fleet = run(installed, "validate", "--render", "--output", "json", str(work))
    assert fleet.returncode == 0, fleet.stderr
    assert [r["valid"] for r in json.loads(fleet.stdout)] == [True]
    charts = run(installed, "types").stdout
    assert "site-packages/workload/charts/ml-inference-load" in charts
    assert str(REPO_ROOT) not in charts


def test_a_missing_helm_is_one_line_that_says_what_is_needed(installed: tuple[Path, Path]) -> None:
    bin_dir, work = installed
    values = work / "team.yaml"
    values.write_text((EXAMPLES / "minimal.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(work)}
    result = subprocess.run([str(bin_dir / "workload"), "render", str(values)], cwd=work, env=env,
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    if (Path("/usr/bin/helm")).exists():
        pytest.skip("this machine has helm in /usr/bin")
    assert result.returncode == 3
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("render: helm not found: ")
    assert "WORKLOAD_HELM" in result.stderr


def test_simulate_from_the_wheel(installed: tuple[Path, Path]) -> None:
    bin_dir, work = installed
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([str(bin_dir / "workload"), "simulate", "--port", str(port)], cwd=work,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if b"Connected" in line:
                break
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/info", timeout=10) as response:
            assert json.load(response)["router"] == "text-generation-router"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_size_from_the_wheel(installed: tuple[Path, Path]) -> None:
    """`workload size` with a model folder (config.json and an index; no weights), offline."""
    _, work = installed
    model = model_folder(work / "model", QWEN_05B, QWEN_05B_TOTAL_SIZE)
    values = work / "minimal.yaml"
    shutil.copy(EXAMPLES / "minimal.yaml", values)
    sized = run(
        installed, "size", str(values), "--model-dir", str(model), "--gpu-type", "L4", "--offline", "-o", "json"
    )
    assert json.loads(sized.stdout)["fits"] is True


def test_the_installed_package_has_every_chart_file(installed: tuple[Path, Path]) -> None:
    """Every file of the chart in git is in the installed package (the wheel is what pip installed)."""
    bin_dir, _ = installed
    site = next((bin_dir.parent / "lib").glob("python3*/site-packages"))
    charts = site / "workload" / "charts"
    packaged = {p.relative_to(charts).as_posix() for p in charts.rglob("*") if p.is_file()}
    tracked = subprocess.run(["git", "ls-files", "charts"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    expected = {line.removeprefix("charts/") for line in tracked.stdout.splitlines()}
    assert expected <= packaged, sorted(expected - packaged)
