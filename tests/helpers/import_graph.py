"""Who imports whom, read from the source with ``ast`` (nothing is imported or executed).

Every ``import`` statement counts wherever it is written: at module level, inside a function
(a lazy import is still a dependency, and it is exactly how a cycle hides from a plain
``import`` smoke test) and under ``if TYPE_CHECKING:`` (flagged, so each rule decides whether a
type-only import counts). ``tests/test_layers.py`` states the rules over this graph.

An import names the most specific module it reaches: ``from web import db`` is an edge to
``web.db`` (the submodule), ``from web.db import resources`` one to ``web.db`` too, and
``from pkg import name`` where ``name`` is not a submodule is an edge to the package ``pkg``.
Importing a submodule also runs its parents' ``__init__``; that implicit step is not an edge,
or every package whose ``__init__`` imports one of its own modules would be a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Import:
    """One imported name: ``target`` is a module of the tree or an outside top-level name."""

    source: str
    target: str
    line: int
    lazy: bool  # inside a function: runs when called, not when the module is imported
    type_only: bool  # under ``if TYPE_CHECKING:``: never runs at all


def discover(root: Path, tops: Iterable[str]) -> dict[str, Path]:
    """Module name -> file for every ``.py`` under the top-level packages or folders ``tops``."""
    modules: dict[str, Path] = {}
    for top in tops:
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve(name: str, known: set[str]) -> str:
    """The longest known module that ``name`` is or lies in, else its top-level name."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return parts[0]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(node: ast.AST, lazy: bool, type_only: bool) -> Iterator[tuple[ast.AST, bool, bool]]:
    """Every node under ``node`` with whether it sits in a function / a TYPE_CHECKING block."""
    for child in ast.iter_child_nodes(node):
        yield child, lazy, type_only
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield stmt, lazy, True
                yield from _walk(stmt, lazy, True)
            for stmt in child.orelse:
                yield stmt, lazy, type_only
                yield from _walk(stmt, lazy, type_only)
            continue
        inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from _walk(child, inner, type_only)


def imports_of(module: str, path: Path, known: set[str]) -> list[Import]:
    """Every import written in one module (see the module docstring for how names resolve)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for node, lazy, type_only in _walk(tree, False, False):
        if isinstance(node, ast.Import):
            targets = [_resolve(alias.name, known) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known
                       else _resolve(base, known) for alias in node.names]
        else:
            continue
        found.extend(Import(module, target, node.lineno, lazy, type_only)
                     for target in dict.fromkeys(targets))
    return found


def build_graph(root: Path, tops: Iterable[str]) -> list[Import]:
    """Every import of every module under ``tops``."""
    modules = discover(root, tops)
    known = set(modules)
    return [imp for name, path in modules.items() for imp in imports_of(name, path, known)]


def cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a self-import), sorted.

    Tarjan's algorithm, iterative so a deep chain cannot hit the recursion limit.
    """
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
        graph.setdefault(target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
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
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return sorted(found)


# -- the rules tests/test_layers.py states over the graph -------------------------------------------

def _inside(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def forbidden_imports(imports: Iterable[Import], library: str,
                      forbidden: Iterable[str]) -> list[str]:
    """Every import, at any depth and under TYPE_CHECKING too, of a forbidden top-level name (or
    of a module inside one) by a module of ``library``."""
    banned = tuple(forbidden)
    return [f"{imp.source}:{imp.line} imports {imp.target}" for imp in imports
            if _inside(imp.source, library) and any(_inside(imp.target, b) for b in banned)]


def layer_of(module: str, layers: Sequence[Sequence[str]]) -> int | None:
    """The index of the layer whose most specific entry contains ``module`` (None: unplaced).

    An entry names a module or a package (which takes in everything under it); the longest entry
    wins, so a module can sit in another layer than the rest of its package.
    """
    best: tuple[int, int] | None = None  # (entry length, layer)
    for level, entries in enumerate(layers):
        for entry in entries:
            if _inside(module, entry) and (best is None or len(entry) > best[0]):
                best = (len(entry), level)
    return None if best is None else best[1]


def layer_violations(imports: Iterable[Import], layers: Sequence[Sequence[str]],
                     known: Iterable[tuple[str, str]] = ()) -> list[str]:
    """Imports from a lower layer into a higher one (lazy and TYPE_CHECKING ones included: a type
    from a higher layer in a lower one's signature is a dependency all the same)."""
    allowed = set(known)
    found = []
    for imp in imports:
        source, target = layer_of(imp.source, layers), layer_of(imp.target, layers)
        if source is None or target is None or (imp.source, imp.target) in allowed:
            continue
        if target > source:
            found.append(f"{imp.source}:{imp.line} (layer {source}) imports {imp.target} "
                         f"(layer {target})")
    return found


def import_cycles(imports: Iterable[Import], modules: Iterable[str],
                  known: Iterable[tuple[str, str]] = ()) -> list[list[str]]:
    """Cycles among ``modules``, counting lazy imports but not TYPE_CHECKING-only ones."""
    inside, allowed = set(modules), set(known)
    return cycles((imp.source, imp.target) for imp in imports
                  if imp.target in inside and not imp.type_only
                  and (imp.source, imp.target) not in allowed)


def oversized(root: Path, tops: Iterable[str], limit: int) -> list[str]:
    """Modules longer than ``limit`` lines."""
    found = []
    for name, path in discover(root, tops).items():
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > limit:
            found.append(f"{name} ({path.relative_to(root)}): {count} lines")
    return found
