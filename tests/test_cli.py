"""The `workload` command as a person uses it: exit codes, one line per problem, nothing half-written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import EXAMPLES, FIXTURES, helm_path
from workload.cli import app
from workload.paths import REPO_ROOT

MINIMAL = EXAMPLES / "minimal.yaml"


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("WORKLOAD_HELM", str(helm_path("helm4")))
    return CliRunner()


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(MINIMAL.read_text(encoding="utf-8") + "gpus: 2\ngpu:\n  count: 0\n", encoding="utf-8")
    return path


def test_validate_ok(run: CliRunner) -> None:
    result = run.invoke(app, ["validate", str(MINIMAL), str(EXAMPLES / "llama-3.2-1b.yaml")])
    assert result.exit_code == 0
    assert result.output.splitlines() == [f"{MINIMAL}: ok", f"{EXAMPLES / 'llama-3.2-1b.yaml'}: ok"]


def test_validate_reports_one_line_per_problem(run: CliRunner, bad_file: Path) -> None:
    result = run.invoke(app, ["validate", str(MINIMAL), str(bad_file)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"{MINIMAL}: ok"
    assert lines[1].startswith(f"{bad_file}: gpu.count: must be >= 1")
    assert lines[2] == f"{bad_file}: gpus: unknown field; did you mean gpu?"
    assert len(lines) == 3


def test_validate_json(run: CliRunner, bad_file: Path) -> None:
    result = run.invoke(app, ["validate", "--output", "json", str(MINIMAL), str(bad_file)])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report[0] == {"file": str(MINIMAL), "valid": True, "problems": []}
    assert report[1]["valid"] is False
    assert [p["path"] for p in report[1]["problems"]] == ["gpu.count", "gpus"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "no such file"),
        (b"", "the file is empty"),
        (b"- workloadType: ML_INFERENCE_LOAD\n", "a list"),
        (b"workloadType: [unclosed\n", "not valid YAML at line 2"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8"),
        (b"workloadType: ML_INFERENCE_LOAD\x00\n", "NUL"),
    ],
    ids=["missing", "empty", "list", "not-yaml", "binary", "nul"],
)
def test_unreadable_files_get_one_line(run: CliRunner, tmp_path: Path, content: bytes | None, fragment: str) -> None:
    path = tmp_path / "values.yaml"
    if content is not None:
        path.write_bytes(content)
    result = run.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith(f"{path}: ")
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_empty_directory_is_reported(run: CliRunner, tmp_path: Path) -> None:
    result = run.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == f"{tmp_path}: no values files (.yaml, .yml or .json) in this folder\n"


def test_folder_mode_validates_json_and_any_case_and_says_what_it_skipped(run: CliRunner, tmp_path: Path) -> None:
    """A broken .json or .YAML in a folder used to be skipped without a word, with exit code 0."""
    good = (EXAMPLES / "minimal.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(good, encoding="utf-8")
    (tmp_path / "b.json").write_text('{"workloadType": "ML_INFERENCE_LOAD", "serviceName": "1bad"}', encoding="utf-8")
    (tmp_path / "C.YAML").write_text(good, encoding="utf-8")
    (tmp_path / "notes.yaml.txt").write_text("not values", encoding="utf-8")
    (tmp_path / "nested").mkdir()
    (tmp_path / ".gitkeep").write_text("", encoding="utf-8")
    result = run.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{tmp_path / 'a.yaml'}: ok" in lines
    assert f"{tmp_path / 'C.YAML'}: ok" in lines
    assert any(line.startswith(f"{tmp_path / 'b.json'}: serviceName: must be") for line in lines)
    assert f"{tmp_path / 'notes.yaml.txt'}: skipped: not a values file (.yaml, .yml or .json)" in lines
    assert f"{tmp_path / 'nested'}: skipped: a folder; folders are not searched recursively" in lines
    assert not any(".gitkeep" in line for line in lines)


def test_a_json_values_file_validates_on_its_own_as_in_a_folder(run: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "values.json"
    path.write_text(json.dumps(yaml.safe_load((EXAMPLES / "minimal.yaml").read_text(encoding="utf-8"))))
    assert run.invoke(app, ["validate", str(path)]).exit_code == 0
    assert run.invoke(app, ["validate", str(tmp_path)]).output == f"{path}: ok\n"


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("modle:\n  id: x\n", "modle: unknown field; did you mean model?"),
        ("gpu:\n  cuont: 2\n", "gpu.cuont: unknown field; did you mean count?"),
        ("zzz: 1\n", "zzz: unknown field; allowed here: apiKey, automountServiceAccountToken,"),
        ('gpu:\n  nodeSelector:\n    "a\\nb": x\n', 'gpu.nodeSelector["a\\nb"]: must be a Kubernetes label key'),
        ('"mo\\ndel": 1\n', '["mo\\ndel"]: unknown field; did you mean model?'),
    ],
    ids=["near-top", "near-nested", "nothing-near", "newline-in-a-key", "newline-in-an-unknown-key"],
)
def test_key_problems_read_well_on_one_line(run: CliRunner, tmp_path: Path, content: str, line: str) -> None:
    path = tmp_path / "values.yaml"
    path.write_text((EXAMPLES / "minimal.yaml").read_text(encoding="utf-8") + content, encoding="utf-8")
    result = run.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"{path}: {line}"), result.output


def test_render_to_stdout(run: CliRunner) -> None:
    result = run.invoke(app, ["render", str(EXAMPLES / "llama-3.2-1b.yaml")])
    assert result.exit_code == 0, result.output
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(result.stdout) if d)
    assert kinds == ["ConfigMap", "Deployment", "ExternalSecret", "HTTPRoute", "Pod", "Service"]


def test_render_to_a_folder_and_options(run: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run.invoke(
        app,
        ["render", str(EXAMPLES / "llama-3.2-1b.yaml"), "--output-dir", str(out), "--kube-version", "1.29",
         "--api-versions", "external-secrets.io/v1beta1/ExternalSecret"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert files == [
        "00-service-llama-3-2-1b.yaml", "01-deployment-llama-3-2-1b.yaml",
        "02-externalsecret-llama-3-2-1b-hf-token.yaml", "03-httproute-llama-3-2-1b-http-route.yaml",
        "04-configmap-llama-3-2-1b-helm-test.yaml", "05-pod-llama-3-2-1b-helm-test.yaml",
    ]  # fmt: skip
    secret = yaml.safe_load((out / files[2]).read_text(encoding="utf-8"))
    assert secret["apiVersion"] == "external-secrets.io/v1beta1"


def test_render_refuses_bad_values_and_writes_nothing(run: CliRunner, bad_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run.invoke(app, ["render", str(bad_file), "--output-dir", str(out)])
    assert result.exit_code == 1
    assert "gpu.count: must be >= 1" in result.output
    assert not out.exists()


def test_render_reports_helm_failures_in_one_line(run: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run.invoke(app, ["render", str(MINIMAL), "--kube-version", "1.28", "--output-dir", str(out)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "kubeVersion" in result.output
    assert not out.exists()


def test_generate_check_passes_on_a_clean_tree(run: CliRunner) -> None:
    result = run.invoke(app, ["generate", "--check"])
    assert result.exit_code == 0, result.output


def test_the_installed_command_runs(tmp_path: Path) -> None:
    """The console script itself (not only the Typer app) works and exits 1 on a bad file."""
    workload = Path(sys.executable).parent / "workload"
    result = subprocess.run(
        [str(workload), "validate", str(FIXTURES / "values" / "everything.yaml"), str(tmp_path / "nope.yaml")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{FIXTURES / 'values' / 'everything.yaml'}: ok",
        f"{tmp_path / 'nope.yaml'}: no such file",
    ]
    assert result.stderr == ""


def test_bad_option_is_a_usage_error(run: CliRunner) -> None:
    result = run.invoke(app, ["validate", "-o", "xml", str(MINIMAL)])
    assert result.exit_code == 2


def test_exit_codes_are_the_documented_ones() -> None:
    """errors.py's table is the documentation (README repeats it); ExitCode holds the same numbers, and the
    CLI exits only through ExitCode or an error's code, never a bare number."""
    import ast  # noqa: PLC0415

    from workload import errors  # noqa: PLC0415
    from workload.errors import ExitCode  # noqa: PLC0415

    documented = {int(m[1]) for m in re.finditer(r"^\| (\d) \|", errors.__doc__ or "", re.M)}
    assert documented == {int(code) for code in ExitCode}
    tree = ast.parse((REPO_ROOT / "src" / "workload" / "cli.py").read_text(encoding="utf-8"))
    bare = [ast.unparse(node) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("Exit")
            and any(isinstance(arg, ast.Constant) for arg in node.args)]  # fmt: skip
    assert bare == []
