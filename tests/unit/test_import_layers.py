"""No module inside ``aioconsul/`` takes part in an import cycle, so the layers stay layers.

The test reads the source, not the running interpreter: every ``.py`` file under ``aioconsul/``
is parsed, its runtime imports (module level or inside functions; ``if TYPE_CHECKING:`` blocks
aside) are resolved to modules of the package, relative ones included, and the resulting graph
must have no cycle. Importing ``pkg.mod`` is an edge to ``pkg.mod`` only: a parent package is
being initialised already when its submodule runs, so it does not count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import aioconsul

ROOT = Path(aioconsul.__file__).parent
PACKAGE = "aioconsul"


def _module_names() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in ROOT.rglob("*.py"):
        parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _module_names()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for orelse in child.orelse:  # the else branch does run
                yield from _runtime_imports_of(orelse)
            continue
        yield from _runtime_imports_of(child)


def _runtime_imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _runtime_imports(node)


def _edges(module: str, path: Path) -> set[str]:
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, node.module] if node.module else base)
        else:
            target = node.module or ""
        for alias in node.names:
            # `from pkg import mod` imports the submodule pkg.mod; any other name is read
            # from pkg itself, which must then have been initialised far enough.
            submodule = f"{target}.{alias.name}"
            targets.add(submodule if submodule in MODULES else target)
    return {t for t in targets if t in MODULES and t != module}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component: list[str] = []
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


def test_the_walk_sees_the_dev_agent_layers() -> None:
    graph = {name: _edges(name, path) for name, path in MODULES.items()}
    assert "aioconsul.testing.endpoints.kv" in graph["aioconsul.testing.endpoints"]
    assert "aioconsul.testing.http.query" in graph["aioconsul.testing.endpoints.kv"]


def test_no_module_in_aioconsul_is_part_of_an_import_cycle() -> None:
    graph = {name: _edges(name, path) for name, path in MODULES.items()}
    assert _cycles(graph) == []


def test_endpoint_modules_never_import_each_other_or_the_route_table() -> None:
    prefix = "aioconsul.testing.endpoints"
    endpoints = {name for name in MODULES if name.startswith(prefix + ".")}
    for name in endpoints:
        assert not _edges(name, MODULES[name]) & (endpoints | {prefix}), name


def test_a_cycle_through_a_lazy_import_is_reported() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


DEV_AGENT = "aioconsul.testing"
# The dev agent's layers, bottom first (docs/testing.rst, "How the dev agent is built"): a
# module may import from its own layer and the ones below, never from one above. The wire
# shapes and the state store are one layer: renderers read records, the store keeps bodies;
# so are the pure mesh pieces over them (``connect``: SPIFFE IDs and the built-in CA's
# certificates; ``discoverychain``: the chain compiler over config entries).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("golang",),
    ("structs", "state", "connect", "discoverychain"),
    ("acl",),
    ("local",),
    ("backend",),
    ("http",),
    ("endpoints",),
    ("server",),
    ("agent", "__main__", "pytest_plugin", ""),
)


def _layer(module: str) -> int | None:
    if module != DEV_AGENT and not module.startswith(DEV_AGENT + "."):
        return None
    top = module[len(DEV_AGENT) + 1 :].partition(".")[0]
    for rank, names in enumerate(LAYERS):
        if top in names:
            return rank
    raise AssertionError(f"{module} is in no layer of LAYERS")


def test_every_dev_agent_module_has_a_layer() -> None:
    ranks = {name: _layer(name) for name in MODULES if name.startswith(DEV_AGENT)}
    assert ranks[DEV_AGENT] == len(LAYERS) - 1
    assert ranks[f"{DEV_AGENT}.golang.bexpr"] == 0


def test_dev_agent_layers_import_only_downwards() -> None:
    upward = []
    for name, path in MODULES.items():
        rank = _layer(name)
        if rank is None:
            continue
        for target in sorted(_edges(name, path)):
            target_rank = _layer(target)
            if target_rank is not None and target_rank > rank:
                upward.append(f"{name} -> {target}")
    assert upward == []
