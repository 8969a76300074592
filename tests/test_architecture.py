"""The house's layering (docs/architecture.md): floors of modules, each importing only its own floor or lower,
no import circle, and engine facts only in the engine's own files."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from workload.engines import all_engines
from workload.paths import PACKAGE_DIR, REPO_ROOT

# Module (or package prefix) -> floor. The longest prefix wins; every module must have one.
FLOORS: dict[str, int] = {
    # 0, the core: what every workload type and engine shares.
    "workload": 0, "workload.problems": 0, "workload.paths": 0, "workload.quantities": 0, "workload.errors": 0,
    "workload.manifests": 0, "workload.yamlio": 0, "workload.kubeschema": 0, "workload.helm": 0,
    "workload.chart_facts": 0, "workload.checks": 0, "workload.pydantic_errors": 0, "workload.models.common": 0,
    "workload.sizing.gpus": 0, "workload.sizing.metadata": 0, "workload.sizing.plan": 0, "workload.sizing": 0,
    "workload.engines.base": 0, "workload.engines.progress": 0, "workload.engines.versions": 0,
    # 1, the engines: one package each, and the registry that finds them.
    "workload.engines": 1,
    # 2, the workload types (their contract and rules), and what is made from them.
    "workload.models": 2, "workload.validation": 2, "workload.sizing.workload": 2, "workload.generate": 2,
    "workload.fleet": 2, "workload.validate_paths": 2, "workload.rendering": 2, "workload.fast_validate": 2,
    # 3, day-2 operations against a cluster or a server.
    "workload.ops": 3,
    # 4, the command line.
    "workload.cli": 4, "workload.__main__": 4, "workload.entry": 4,
}  # fmt: skip


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def floor(module: str) -> int:
    prefixes = [p for p in FLOORS if module == p or module.startswith(p + ".")]
    assert prefixes, f"{module} has no floor in tests/test_architecture.py FLOORS (and docs/architecture.md)"
    return FLOORS[max(prefixes, key=len)]


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def runtime_imports(module: str) -> set[str]:
    """The workload modules `module` imports when it runs (anywhere in it; not under `if TYPE_CHECKING:`)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found |= {n for n in names if n in MODULES and n != module}
    return found


GRAPH = {module: runtime_imports(module) for module in MODULES}


def upward_imports(module: str, graph: dict[str, set[str]]) -> dict[str, int]:
    return {dep: floor(dep) for dep in graph[module] if floor(dep) > floor(module)}


def find_circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of the graph, as a path that ends where it starts; [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = 1
        path.append(module)
        for dep in sorted(graph[module]):
            if dep.startswith(module + "."):  # a package importing its own submodules is no circle
                continue
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (circle := visit(dep)):
                return circle
        path.pop()
        state[module] = 2
        return []

    for module in sorted(graph):
        if module not in state and (circle := visit(module)):
            return circle
    return []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_floor_or_lower(module: str) -> None:
    assert upward_imports(module, GRAPH) == {}, f"{module} (floor {floor(module)}) imports up"


def test_no_import_circle() -> None:
    assert find_circle(GRAPH) == []


def test_the_checks_find_an_upward_import_and_a_circle() -> None:
    """The two checks above can fail: an ops import in the core is upward; a -> b -> c -> a is a circle."""
    graph = {**GRAPH, "workload.problems": GRAPH["workload.problems"] | {"workload.ops.verify"}}
    assert upward_imports("workload.problems", graph) == {"workload.ops.verify": 3}
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_circle({"p": {"p.sub"}, "p.sub": {"q"}, "q": set()}) == []


# Each engine's facts live only in its own files: its environment names, its metric names, its own routes and
# its image. The core (the package and the templates) asks the engine instead. The OpenAI-compatible engines
# share the OpenAI simulator and check script, which hold each one's profile.
_TGI = next(e for e in all_engines() if e.name == "tgi")
TGI_ONLY_ENV = sorted(set(_TGI.managed_env) - {"API_KEY", "MODEL_ID"})  # also the check scripts' own inputs
TGI_FACT = re.compile(
    r"\btgi_[a-z_]+|text-generation-inference|\"/generate(_stream)?\"|\"/info\"|\b(" + "|".join(TGI_ONLY_ENV) + r")\b"
)
VLLM_FACT = re.compile(r"\bvllm:[a-z_]+|vllm/vllm-openai|\bVLLM_[A-Z_]+")
SGLANG_FACT = re.compile(r"\bsglang:[a-z_]+|lmsysorg/sglang|sglang\.launch_server|\bSGL(ANG)?_[A-Z_]+")
_OPENAI = ("src/workload/engines/openai_simulator.py", "src/workload/engines/openai_check.py")
ENGINE_FACTS = {"tgi": TGI_FACT, "vllm": VLLM_FACT, "sglang": SGLANG_FACT}


def engine_files(name: str) -> tuple[str, ...]:
    own = (f"src/workload/engines/{name}/", f"charts/ml-inference-load/templates/_engine_{name}.tpl",
           f"charts/ml-inference-load/dashboards/{name}.json")  # fmt: skip
    return own + (_OPENAI if name != "tgi" else ())


def _core_files() -> list[Path]:
    files = [
        *sorted(PACKAGE_DIR.rglob("*.py")),
        *sorted((REPO_ROOT / "charts" / "ml-inference-load" / "templates").rglob("*")),
    ]
    every_engines = tuple(path for engine in all_engines() for path in engine_files(engine.name))
    return [f for f in files if f.is_file() and not str(f.relative_to(REPO_ROOT)).startswith(every_engines)]


def _generated(text: str) -> bool:
    """A file written by `workload generate` from the facts (kept in step by `workload generate --check`)."""
    return "GENERATED by `workload generate`" in text.split("\n", 1)[0]


def test_every_engine_has_a_fact_pattern() -> None:
    assert set(ENGINE_FACTS) == {e.name for e in all_engines()}


@pytest.mark.parametrize("name", sorted(ENGINE_FACTS))
def test_an_engines_facts_live_in_its_files_only(name: str) -> None:
    texts = {str(f.relative_to(REPO_ROOT)): f.read_text(encoding="utf-8") for f in _core_files()}
    naming = {path for path, text in texts.items() if not _generated(text) and ENGINE_FACTS[name].search(text)}
    assert naming == set(), f"core files name a {name} fact; move it into the {name} engine"


def test_the_fact_pattern_finds_tgi_facts() -> None:
    for text in ('value: "tgi_queue_size"', "- name: NUM_SHARD", 'paths: ["/generate"]',
                 "ghcr.io/huggingface/text-generation-inference"):  # fmt: skip
        assert TGI_FACT.search(text), text
    assert not TGI_FACT.search('path: "/health"  # name: inference')
    for text in ('"vllm:num_requests_running"', "vllm/vllm-openai", "- name: VLLM_API_KEY"):
        assert VLLM_FACT.search(text), text
    assert not VLLM_FACT.search("engine: vllm")
    for text in ('"sglang:num_running_reqs"', "lmsysorg/sglang", '"sglang.launch_server"'):
        assert SGLANG_FACT.search(text), text
