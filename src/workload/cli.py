"""The `workload` command: validate, render and generate ML workload values and charts."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from workload.errors import ExitCode, ToolError, WorkloadError
from workload.models import WORKLOAD_TYPES
from workload.models.ml_inference_load import MlInferenceLoad
from workload.validate_paths import validate_paths
from workload.validation import CheckedFile, check_values_file
from workload.yamlio import key_lines, line_of

if TYPE_CHECKING:
    from workload.checks import Check
    from workload.engines.base import Engine
    from workload.sizing.plan import Plan

# The day-2 modules (kubectl, HTTP, SSE) and the table renderer are imported by the commands that use
# them: `workload validate FILE` is run in loops and pre-commit hooks, and every import is start-up time.


def show_version(value: bool) -> None:
    if value:
        from workload import __version__  # noqa: PLC0415
        from workload.engines import DEFAULT_ENGINE, engine  # noqa: PLC0415

        default = engine(DEFAULT_ENGINE)
        out.print(f"workload {__version__} (chart ml-inference-load {__version__}, values contract {__version__}, "
                  f"default {default.title} {default.image.tag})", markup=False)  # fmt: skip
        raise typer.Exit(ExitCode.OK)


app = typer.Typer(
    help="Validate, render and generate ML inference workloads (ML_INFERENCE_LOAD on TGI, vLLM or SGLang).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@app.callback()
def common(
    version: Annotated[
        bool, typer.Option("--version", callback=show_version, is_eager=True, help="Print the versions and exit.")
    ] = False,
) -> None:
    """Validate, render and generate ML inference workloads (ML_INFERENCE_LOAD on TGI, vLLM or SGLang)."""


P = ParamSpec("P")
R = TypeVar("R")


class Output(StrEnum):
    """Output formats of the commands that report results."""

    text = "text"
    json = "json"


class ValidateOutput(StrEnum):
    """`validate` also speaks GitHub Actions' workflow commands: one annotation per problem, on its line."""

    text = "text"
    json = "json"
    github = "github"


def github_error(file: str, line: int, message: str) -> str:
    """`::error file=...,line=...::message`, escaped as GitHub's workflow commands require."""

    def escape_data(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def escape_property(text: str) -> str:
        return escape_data(text).replace(":", "%3A").replace(",", "%2C")

    return f"::error file={escape_property(file)},line={line},title=workload validate::{escape_data(message)}"


def known_engine(command: str, name: str | None) -> Engine:
    """The engine an --engine option names (the default when unset); exit 2 with one line for an unknown one."""
    from workload.engines import DEFAULT_ENGINE, engine, engine_names  # noqa: PLC0415

    if (name := name or DEFAULT_ENGINE) not in engine_names():
        err.print(f"{command}: --engine {name!r} is not one of {', '.join(engine_names())}", markup=False)
        raise typer.Exit(ExitCode.USAGE)
    return engine(name)


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Every WorkloadError becomes one line on stderr and its kind's exit code (workload/errors.py)."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except WorkloadError as error:
            err.print(f"{command.__name__.strip('_')}: {error}", markup=False)
            raise typer.Exit(error.exit_code) from None

    return run


def valid_or_exit(file: Path) -> CheckedFile:
    """The file's checks when it is valid; otherwise its problems on stderr and exit 1."""
    checked = check_values_file(file)
    if checked.values is None:
        for problem in checked.problems:
            err.print(f"{file}: {problem}", markup=False)
        raise typer.Exit(ExitCode.FAILED)
    return checked


@app.command()
@one_line_errors
def validate(
    files: Annotated[list[Path], typer.Argument(help="Values files, or folders of them.", show_default=False)],
    output: Annotated[
        ValidateOutput, typer.Option("--output", "-o", help="Report format (github: CI annotations).")
    ] = ValidateOutput.text,
    render_manifests: Annotated[
        bool,
        typer.Option("--render", help="Also render with helm and check every object against strict schemas."),
    ] = False,
    kube_versions: Annotated[
        list[str] | None,
        typer.Option("--kube-version", help="With --render: Kubernetes versions (default 1.29, 1.37)."),
    ] = None,
    crds: Annotated[
        Path | None, typer.Option("--crds", help="With --render: folder of CRD files to check custom resources.")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="With --render: helm processes at once.")] = 2,
) -> None:
    """Check values files against the workload contract: 'ok', or one line per problem. Exit 1 if any fails."""
    report = validate_paths(
        files, render=render_manifests, kube_versions=kube_versions or (), crds=crds, jobs=jobs,
        skipped=lambda path, reason: err.print(f"{path}: skipped: {reason}", markup=False),
    )  # fmt: skip
    if output is ValidateOutput.github:
        for name, problems in report.items():
            lines = _key_lines_of(Path(name)) if problems else {}
            for problem in problems:
                print(github_error(name, line_of(lines, problem.path), str(problem)))
    elif output is ValidateOutput.json:
        data = [
            {"file": name, "valid": not problems, "problems": [asdict(p) for p in problems]}
            for name, problems in report.items()
        ]
        print(json.dumps(data, indent=2))
    else:
        for name, problems in report.items():
            if not problems:
                out.print(f"[green]{name}: ok[/green]")
            for problem in problems:
                out.print(f"{name}: {problem}", markup=False)
    if any(report.values()):
        raise typer.Exit(ExitCode.FAILED)


def _key_lines_of(path: Path) -> dict[str, int]:
    try:
        return key_lines(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}


@app.command()
@one_line_errors
def render(
    file: Annotated[Path, typer.Argument(help="Values file to render.", show_default=False)],
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", "-d", help="Write one file per object here instead of stdout."),
    ] = None,
    kube_version: Annotated[
        str | None, typer.Option("--kube-version", help="Kubernetes version to render for, e.g. 1.31.")
    ] = None,
    api_versions: Annotated[
        list[str] | None,
        typer.Option("--api-versions", "-a", help="Extra cluster API versions, e.g. external-secrets.io/v1beta1."),
    ] = None,
    release: Annotated[str | None, typer.Option(help="Helm release name (default: serviceName).")] = None,
    namespace: Annotated[str | None, typer.Option(help="Release namespace (default: values' namespace).")] = None,
) -> None:
    """Validate, then render the manifests with helm. Nothing is written unless everything succeeds."""
    from workload.rendering import render_file, write_manifests  # noqa: PLC0415

    rendered = render_file(file, release=release, namespace=namespace, kube_version=kube_version,
                           api_versions=tuple(api_versions or ()))  # fmt: skip
    for problem in rendered.problems:
        err.print(f"{file}: {problem}", markup=False)
    if rendered.problems:
        raise typer.Exit(ExitCode.FAILED)
    if output_dir is None:
        sys.stdout.write(rendered.manifests)
        return
    count = write_manifests(rendered.manifests, output_dir)
    out.print(f"wrote {count} manifests to {output_dir}", markup=False)


@app.command()
@one_line_errors
def generate(
    check: Annotated[bool, typer.Option("--check", help="Fail if a generated file is out of date.")] = False,
) -> None:
    """Write (or --check) the files generated from the values models: schema, values.yaml, README table, ..."""
    # Imported here: the generators are not needed by the everyday commands, whose startup they would slow.
    from workload import generate as generated  # noqa: PLC0415

    if check:
        stale = generated.stale_files()
        for path in stale:
            out.print(f"stale: {path} (run `workload generate`)", markup=False)
        if stale:
            raise typer.Exit(ExitCode.FAILED)
        out.print(f"generated files are up to date ({len(generated.targets())} checked)", markup=False)
        return
    changed = generated.write_all()
    for path in changed:
        out.print(f"wrote {path}", markup=False)
    if not changed:
        out.print("generated files are up to date", markup=False)


@app.command()
@one_line_errors
def verify(
    release: Annotated[
        str | None, typer.Option("--release", "-r", help="Helm release name (omit with --url: HTTP checks only).")
    ] = None,
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="Namespace of the release.")] = "default",
    context: Annotated[str | None, typer.Option(help="kubectl context (default: current).")] = None,
    url: Annotated[
        str | None, typer.Option(help="Call the engine here instead of through a port-forward to the Service.")
    ] = None,
    gateway_url: Annotated[
        str | None, typer.Option(help="Reach the gateway here (Host header = route host) instead of https://host.")
    ] = None,
    model_id: Annotated[
        str | None, typer.Option(help="Without --release: the model the server must report (default: any).")
    ] = None,
    engine: Annotated[
        str | None, typer.Option(help="Without --release: the engine at --url (default: the default engine).")
    ] = None,
    output: Annotated[Output, typer.Option("--output", "-o", help="Report format.")] = Output.text,
) -> None:
    """Check a running release: rollout, model load, the engine's health, model and request routes, its
    metrics, and the gateway. The release's Deployment says which engine it runs.

    With --url and no --release, only the HTTP checks run, and no cluster is needed: a team checking its
    gateway from outside. The API key then comes from the WORKLOAD_API_KEY environment variable.
    """
    from workload.ops.kube import Kubectl  # noqa: PLC0415
    from workload.ops.verify import verify as run_checks  # noqa: PLC0415
    from workload.ops.verify import verify_url  # noqa: PLC0415

    if release is not None:
        checks = run_checks(Kubectl(namespace, context), release, url=url, gateway_url=gateway_url)
        title = f"workload verify {release} ({namespace})"
    elif url is not None:
        chosen = known_engine("verify", engine).name
        checks = verify_url(url, model_id or "", os.environ.get("WORKLOAD_API_KEY", ""), chosen)
        title = f"workload verify {url}"
    else:
        err.print("verify: give --release (a release in the cluster) or --url (a server to check)", markup=False)
        raise typer.Exit(ExitCode.USAGE)
    print_checks(checks, title, output)
    if not all(c.ok for c in checks):
        raise typer.Exit(ExitCode.FAILED)


def print_checks(checks: list[Check], title: str, output: Output) -> None:
    from rich.markup import escape  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    if output is Output.json:
        print(json.dumps([asdict(c) for c in checks], indent=2))
        return
    table = Table(title=title, show_lines=False)
    for column in ("check", "result", "detail", "look at"):
        table.add_column(column, overflow="fold")
    for check in checks:
        result = "[green]pass[/green]" if check.ok else "[red]FAIL[/red]"
        table.add_row(check.name, result, escape(check.detail), escape(check.hint if not check.ok else ""))
    report_console().print(table)


def report_console() -> Console:
    """Into a file or a CI log a table is printed whole; only a terminal folds it to its width."""
    return out if out.is_terminal else Console(highlight=False, width=1000)


@app.command()
@one_line_errors
def deploy(
    file: Annotated[Path, typer.Argument(help="Values file to deploy.", show_default=False)],
    release: Annotated[str | None, typer.Option(help="Helm release name (default: serviceName).")] = None,
    namespace: Annotated[str | None, typer.Option(help="Namespace (default: values' namespace).")] = None,
    context: Annotated[str | None, typer.Option(help="kubectl context (default: current).")] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only say what would stop the workload on this cluster; install nothing.")
    ] = False,
    skip_preflight: Annotated[
        bool, typer.Option("--skip-preflight", help="Install without checking the cluster first.")
    ] = False,
    model_dir: Annotated[
        Path | None,
        typer.Option(
            help="The model's config.json and safetensors headers, for the GPU memory check (default: "
            "the Hugging Face cache)."
        ),
    ] = None,
) -> None:
    """Validate, check the cluster, helm upgrade --install, and follow the model load to Ready (or a diagnosis).

    The preflight also refuses a model that cannot fit the GPUs of the nodes it can land on, when its metadata
    is at hand (--model-dir, or the Hugging Face cache; the Hub is not asked: `workload size` does that).
    """
    from workload.ops.deploy import DeployRequest, Printer  # noqa: PLC0415
    from workload.ops.deploy import deploy as run_deploy  # noqa: PLC0415

    request = DeployRequest(file, release, namespace, context, check, skip_preflight, model_dir)
    printer = Printer(
        out=lambda line: out.print(line, markup=False),
        err=lambda line: err.print(line, markup=False),
        success=lambda line: out.print(f"[green]{escape_markup(line)}[/green]"),
    )
    raise typer.Exit(run_deploy(request, printer))


@app.command()
@one_line_errors
def simulate(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    model_id: Annotated[str, typer.Option(help="Model id the server reports and answers as.")] = "simulated/model",
    api_key: Annotated[
        str | None, typer.Option(help="Require this Bearer key where the engine does (default: no key).")
    ] = None,
    token_delay_ms: Annotated[float, typer.Option(help="Time each generated token takes, in ms.")] = 0.0,
    max_concurrent_requests: Annotated[
        int, typer.Option(help="Requests served at once; more get the engine's answer to overload.")
    ] = 128,
    engine: Annotated[
        str | None, typer.Option(help="The engine whose API to serve (default: the default engine).")
    ] = None,
) -> None:
    """Serve an engine's HTTP API with no GPU and no model: deterministic text, the engine's errors and streaming."""
    from workload.engines.base import SimulatorRequest  # noqa: PLC0415

    chosen = known_engine("simulate", engine)
    request = SimulatorRequest(
        host=host, port=port, model_id=model_id, api_key=api_key or "", token_delay=token_delay_ms / 1000,
        max_concurrent_requests=max_concurrent_requests,
    )  # fmt: skip
    try:
        chosen.simulate(request)
    except OSError as error:
        raise ToolError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


@app.command()
@one_line_errors
def size(
    file: Annotated[Path, typer.Argument(help="Values file to size.", show_default=False)],
    model_dir: Annotated[
        Path | None, typer.Option(help="A folder with the model's config.json and *.safetensors (or its index).")
    ] = None,
    gpu_type: Annotated[str | None, typer.Option(help="GPU type to plan for (default: gpu.type).")] = None,
    gpu_memory: Annotated[
        str | None, typer.Option(help="Memory of one GPU: MiB as nvidia-smi says it, or a quantity (80Gi).")
    ] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Do not ask the Hub (also HF_HUB_OFFLINE=1).")] = False,
    output: Annotated[Output, typer.Option("--output", "-o", help="Report format.")] = Output.text,
) -> None:
    """Will it fit? The GPU memory the engine will find for the model's weights and KV cache, before a GPU is spent.

    The model's metadata comes from --model-dir, else the Hugging Face cache, else the Hub (config.json and
    the safetensors headers at model.revision; never the weights; a model without them is estimated from its
    config.json, and the report says so). Each engine's own start rule: TGI's, vLLM's, SGLang's (which only
    warns when its pool is smaller than the context). Exit code 1 when it does not fit.
    """
    from workload.sizing.workload import size as plan_size  # noqa: PLC0415

    checked = valid_or_exit(file)
    values = checked.values
    if not isinstance(values, MlInferenceLoad):
        err.print(f"{file}: size: only ML_INFERENCE_LOAD workloads run an inference engine", markup=False)
        raise typer.Exit(ExitCode.USAGE)
    result = plan_size(values, model_dir=model_dir, gpu_type=gpu_type, amount=gpu_memory, online=not offline)
    if output is Output.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print_plan(file, result)
    if result.problem:
        err.print(f"{file}: size: {result.problem}", markup=False)
    if not result.fits:
        raise typer.Exit(ExitCode.FAILED)


def print_plan(file: Path, result: Plan) -> None:
    from rich.table import Table  # noqa: PLC0415

    def gib(count: int) -> str:
        return f"{count / (1 << 30):,.2f} GiB"

    verdict = "[red]does not fit[/red]"
    if result.fits:
        verdict = "[yellow]fits, with a warning[/yellow]" if result.warnings else "[green]fits[/green]"
    table = Table(title=f"workload size {file}", show_header=False)
    table.add_column("what")
    table.add_column("per GPU", justify="right")
    table.add_row("weights", gib(result.weights_bytes_per_gpu))
    table.add_row("overhead (CUDA context, activations, reserves)", gib(result.overhead_bytes_per_gpu))
    table.add_row("KV cache per token", f"{result.kv_bytes_per_token_per_gpu:,} B")
    table.add_row("KV capacity", f"{result.kv_capacity_tokens:,} tokens")
    table.add_row("inference.maxTotalTokens", f"{result.max_total_tokens:,} tokens")
    table.add_row("headroom", gib(result.headroom_bytes_per_gpu))
    table.add_row("verdict", verdict)
    console = report_console()
    console.print(table)
    for warning in result.warnings:
        console.print(f"warning: {warning}", markup=False)
    for fix in result.fixes:
        console.print(f"fix: {fix}", markup=False)
    for item in result.assumptions:
        console.print(f"assumed {item['name']}: {item['value']} ({item['source']})", markup=False)


@app.command(name="types")
@one_line_errors
def list_types() -> None:
    """List the workload types this tool knows and their charts."""
    for name, member in WORKLOAD_TYPES.items():
        out.print(f"{name}\t{member.chart_dir}", markup=False)


def escape_markup(text: str) -> str:
    from rich.markup import escape  # noqa: PLC0415

    return escape(text)


def main() -> None:
    app()
