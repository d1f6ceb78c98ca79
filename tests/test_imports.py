"""The import graph of the project's own modules, imports inside functions included.

A deferred import hides a cycle, it does not remove it: every ``import`` statement
anywhere in a module counts (only ``if TYPE_CHECKING:`` blocks, which never run, do not).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("cms", "publishing", "screening")
#: Where a module may import a view module: URL wiring and admin registration.
VIEW_WIRING = {"urls", "wagtail_hooks"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_files() -> list[Path]:
    return [
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    ]


def _resolve(name: str, modules: set[str]) -> str | None:
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imported_names(path: Path) -> list[str]:
    """Every module name ``path`` imports, absolute, wherever the statement is."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    names: list[str] = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")
                up = up[: len(up) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (a package's own parents left out)."""
    files = project_files()
    modules = {module_name(path) for path in files}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for path in files:
        me = module_name(path)
        package = me if path.name == "__init__.py" else me.rpartition(".")[0]
        for name in _imported_names(path):
            target = _resolve(name, modules)
            if target and target != me and target != package and not me.startswith(target + "."):
                graph[me].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_deferred_cycle():
    """The check itself can fail: a two-module loop and a three-module loop are found."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(cycles(graph)) == [["a", "b"], ["c", "d", "e"]]


def test_the_graph_counts_imports_inside_functions():
    graph = import_graph()
    # publishing.webhooks.events imports its tasks only inside ``enqueue``.
    assert "publishing.webhooks.tasks" in graph["publishing.webhooks.events"]


def test_no_import_cycles_deferred_imports_included():
    assert cycles(import_graph()) == []


def test_cms_never_imports_publishing_or_screening():
    graph = import_graph()
    offenders = {
        (module, target)
        for module, targets in graph.items()
        if module.split(".")[0] == "cms"
        for target in targets
        if target.split(".")[0] in {"publishing", "screening"}
    }
    assert offenders == set()


def test_nothing_in_publishing_imports_a_view_module():
    """Only URL wiring and admin registration may; logic never reaches into a view."""
    graph = import_graph()
    offenders = {
        (module, target)
        for module, targets in graph.items()
        if module.split(".")[0] == "publishing" and module.rpartition(".")[2] not in VIEW_WIRING
        for target in targets
        if target.rpartition(".")[2] in {"views", "admin_views"}
    }
    assert offenders == set()
