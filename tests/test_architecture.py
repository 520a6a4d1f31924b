"""The layout keeps its promises: faces call the service, no import circles, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PARTS = ("engine", "projections", "cli", "api", "web")


def _modules() -> dict[str, Path]:
    found = {"ledgerflow": REPO / "__init__.py"}
    for part in PARTS:
        for path in (REPO / part).rglob("*.py"):
            rel = path.relative_to(REPO).with_suffix("")
            name = ".".join(("ledgerflow", *rel.parts))
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imports(path: Path, *, lazy: bool) -> set[str]:
    """ledgerflow modules imported at module level (and inside functions when `lazy`),
    leaving out what only a type checker reads."""
    tree = ast.parse(path.read_text())
    body: list[ast.stmt] = list(tree.body)
    nodes = ast.walk(tree) if lazy else iter(body)
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ledgerflow"):
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("ledgerflow"))
    typing_only = {n for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for n in _names_in(node)}
    return {n for n in names if n in MODULES and n not in typing_only}


def _names_in(node: ast.If) -> set[str]:
    return {sub.module for sub in ast.walk(node) if isinstance(sub, ast.ImportFrom) and sub.module}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for nxt in sorted(graph.get(name, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return None


def _graph(*, lazy: bool) -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        # a package's own __init__ is what importing any of its modules runs first: not an edge back
        graph[name] = {n for n in _imports(path, lazy=lazy) if n != name and not name.startswith(n + ".")}
    return graph


@pytest.mark.parametrize("lazy", [False, True], ids=["module-level imports", "imports inside functions too"])
def test_no_module_imports_itself_through_others(lazy):
    assert _cycle(_graph(lazy=lazy)) is None


FACE_MAY_USE = {"ledgerflow.engine.application.service", "ledgerflow.engine.application.commands",
                "ledgerflow.engine.errors"}


def test_the_command_line_calls_only_the_application_service_its_commands_and_the_errors():
    allowed = FACE_MAY_USE | {"ledgerflow.api.server"}  # `ledgerflow api-server` starts the other face
    for name, path in MODULES.items():
        if name.startswith("ledgerflow.cli"):
            used = {n for n in _imports(path, lazy=True) if not n.startswith("ledgerflow.cli")}
            assert used <= allowed, (name, sorted(used - allowed))


def test_the_http_api_calls_only_the_application_service_its_commands_and_the_errors():
    for name, path in MODULES.items():
        if name.startswith("ledgerflow.api"):
            used = {n for n in _imports(path, lazy=True) if not n.startswith("ledgerflow.api")}
            allowed = FACE_MAY_USE | ({"ledgerflow.web.app"} if name == "ledgerflow.api.app" else set())
            assert used <= allowed, (name, sorted(used - allowed))  # the API app mounts the web UI


def test_the_web_ui_calls_only_the_application_service_its_commands_the_errors_and_api_pieces():
    for name, path in MODULES.items():
        if name.startswith("ledgerflow.web"):
            used = {n for n in _imports(path, lazy=True) if not n.startswith(("ledgerflow.web", "ledgerflow.api"))}
            assert used <= FACE_MAY_USE, (name, sorted(used - FACE_MAY_USE))


def test_engine_and_projections_never_import_a_face():
    for name, path in MODULES.items():
        if name.startswith(("ledgerflow.engine", "ledgerflow.projections")):
            faces = {n for n in _imports(path, lazy=True)
                     if n.startswith(("ledgerflow.cli", "ledgerflow.api", "ledgerflow.web"))}
            assert not faces, name


def test_every_module_stays_under_300_lines():
    sources = [*MODULES.values(), *(REPO / "tests").rglob("*.py")]
    long = {str(p.relative_to(REPO)): n for p in sources if (n := len(p.read_text().splitlines())) > 300
            and "golden" not in p.parts}
    assert long == {}


def test_the_cyclic_collector_is_paused_only_in_its_scoped_context_manager():
    pausing = [str(p.relative_to(REPO)) for p in MODULES.values() if "gc.disable()" in p.read_text()]
    assert pausing == ["engine/infrastructure/gc_pause.py"]
