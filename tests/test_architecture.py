"""The tree follows the flow (receive -> read -> check -> load -> report; indicators; pages;
publish): no import cycle between modules or between packages, and no import against the flow.

Every import counts, at module level or inside a function: a function-level import still makes
a dependency. A package is a folder of ``pipeline`` (``pipeline.read``...) or a top-level one
(``transforms``, ``pages``...); a module directly in ``pipeline/`` (``config``, ``ingest``...)
is a unit of its own."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLDERS = ("pipeline", "transforms", "pages", "publish", "demo", "bench", "dags", "site/plugins")
PRODUCTION = ("pipeline", "transforms", "pages", "publish", "dags", "site")
STEPS = tuple(f"pipeline.{step}" for step in ("contracts", "receive", "read", "check", "load",
                                              "report"))
# importer -> what it must not import (module name prefixes). The steps come before the
# orchestration of ingestion (``pipeline.ingest``), and receiving comes before everything that
# looks inside a file; ``pipeline.problems`` sits below them all.
FORBIDDEN = {**{step: ("transforms", "pages", "publish", "pipeline.ingest") for step in STEPS},
             "pipeline.receive": ("transforms", "pages", "publish", "pipeline.ingest",
                                  "pipeline.read", "pipeline.check", "pipeline.load",
                                  "pipeline.report"),
             "transforms": ("pages", "publish"),
             "pages": ("publish",),
             **{name: ("demo", "bench", "tests", "conftest") for name in PRODUCTION}}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def module_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for folder in FOLDERS for p in (REPO / folder).rglob("*.py")}
    graph = {}
    for name, path in files.items():
        found = imports(ast.parse(path.read_text(encoding="utf-8")))
        graph[name] = {m for m in found if m in files and m != name}
        graph[name] |= {m for m in found if m.split(".")[0] in ("demo", "bench", "tests",
                                                                "conftest")}
    return graph


def package_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "pipeline":
        return ".".join(parts[:2])  # pipeline.read, or pipeline.config for a module at the top
    return parts[0]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_modules():
    assert cycles(module_graph()) == []


def test_no_import_cycle_between_packages():
    packages: dict[str, set[str]] = {}
    for module, targets in module_graph().items():
        packages.setdefault(package_of(module), set()).update(
            package_of(t) for t in targets if package_of(t) != package_of(module))
    assert cycles(packages) == []


def test_each_step_imports_only_what_comes_before_it():
    wrong = sorted(f"{module} imports {target}"
                   for module, targets in module_graph().items() for target in targets
                   for importer, banned in FORBIDDEN.items()
                   if (module + ".").startswith(importer + ".")
                   and any((target + ".").startswith(b + ".") for b in banned))
    assert wrong == []
