"""The architecture as tests: the library never reaches the web stack, packages only import the
layers below them, no import cycle anywhere, no module over 300 lines, and every library module
has its own test module (which imports helpers, never another test module).

Imports are read from the source with ``ast`` (``tests/helpers/import_graph.py``), so an import
inside a function counts as much as one at the top of a module: lazy imports are exactly how
cycles hid here before (``index`` <-> ``smoothing``, ``web.health`` <-> ``web.metrics``).

How each kind of import counts:

- the web stack: every import, lazy and under ``TYPE_CHECKING`` too. The library must run, and
  type-check, without Flask. ``related-reading serve`` names gunicorn and the app only in strings
  (``python -m gunicorn --config python:web.gunicorn_conf web:create_app()``), executed in a new
  process; a string is not an import, and that is the one way the library may start the web layer.
- layers: every import too; a type from a higher layer in a lower one's signature ties the two
  together just as a call does.
- cycles: lazy imports count, ``TYPE_CHECKING``-only ones do not. Those never run, so they
  cannot half-initialise a module, and they are the sanctioned way to name a type without a
  runtime dependency (the layer rule above still polices which types a module may name).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.import_graph import (
    Import,
    build_graph,
    discover,
    forbidden_imports,
    import_cycles,
    imports_of,
    layer_of,
    layer_violations,
    oversized,
)

ROOT = Path(__file__).resolve().parents[1]
TREES = ("recommender", "web", "scripts", "benchmarks")
LIBRARY = "recommender"
MAX_LINES = 300

# Flask and its own parts, the server, and our app: none of it may be imported by the library.
WEB_STACK = ("flask", "werkzeug", "jinja2", "markupsafe", "itsdangerous", "gunicorn", "web")
# Nothing shipped imports from these (entry points and tests sit on top of everything).
OUTSIDE = ("scripts", "benchmarks", "tests")

# The library's layers, bottom first, read from the code: a module may import its own layer and
# the ones below, never one above. An entry is a package (everything under it) or a module; the
# most specific entry wins, so a module can sit apart from the rest of its package.
LAYERS: tuple[tuple[str, ...], ...] = (
    # Plain values every layer reads. RankingPolicy is one of the settings (RELATED_RANKING_*):
    # ranking/policy.py is a dataclass that imports nothing of the library.
    ("recommender", "recommender.exits", "recommender.settings", "recommender.ranking.policy"),
    ("recommender.storage",),  # the schema, engines, migrations, locks
    ("recommender.catalog",),  # articles, imports, curation: rows in the schema
    ("recommender.embedding",),  # the encoder and the embeddings cache
    ("recommender.index",),  # FAISS builds over the embeddings
    ("recommender.ranking",),  # scoring over catalogue, embeddings and index
    ("recommender.readers",),  # one page's stored list (SQL only)
    ("recommender.live",),  # the Recommender facade: explain, preview, refresh, reindex
    ("recommender.accounts",),  # editors and API keys
    ("recommender.feedback",),  # readers' events, their rollup, stats, experiments, exposure
    ("recommender.jobs",),  # the full build, the nightly reindex, the evaluation, over the facade
    ("recommender.cli",),  # the command line: thin parsing over all of the above
    ("recommender.__main__",),
)

@pytest.fixture(scope="module")
def graph() -> list[Import]:
    return build_graph(ROOT, TREES)


def test_the_library_never_imports_the_web_stack(graph: list[Import]) -> None:
    assert forbidden_imports(graph, LIBRARY, WEB_STACK) == []


def test_nothing_shipped_imports_scripts_benchmarks_or_tests(graph: list[Import]) -> None:
    found = (forbidden_imports(graph, LIBRARY, OUTSIDE)
             + forbidden_imports(graph, "web", OUTSIDE))
    assert found == []


def test_every_library_module_has_a_layer() -> None:
    modules = discover(ROOT, [LIBRARY])
    assert [m for m in modules if layer_of(m, LAYERS) is None] == []


def test_packages_import_only_the_layers_below(graph: list[Import]) -> None:
    assert layer_violations(graph, LAYERS, frozenset()) == []


def test_no_import_cycles(graph: list[Import]) -> None:
    modules = discover(ROOT, TREES)
    assert import_cycles(graph, modules, frozenset()) == []


def test_no_module_over_300_lines() -> None:
    assert oversized(ROOT, [LIBRARY, "web"], MAX_LINES) == []


# Library modules without a test module of their own, and why.
UNTESTED = {"recommender.__main__": "one line: runs cli.main (tests/cli/test_main.py runs it)",
            "recommender.exits": "constants, asserted by every command's tests"}


def _has_behaviour(path: Path) -> bool:
    """A module that defines something (an ``__init__`` holding only a docstring has none)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(not isinstance(node, ast.Expr | ast.ImportFrom | ast.Import) for node in tree.body)


def test_every_library_module_has_its_own_test_module() -> None:
    """Tests follow the code: ``recommender/a/b.py`` is tested in ``tests/a/test_b.py`` (a package
    whose ``__init__`` has behaviour, ``recommender/a/b/``, in ``tests/a/test_b.py`` too)."""
    missing = []
    for module, path in discover(ROOT, [LIBRARY]).items():
        parts = module.split(".")[1:]
        if module in UNTESTED or not parts or not _has_behaviour(path):
            continue
        expected = ROOT.joinpath("tests", *parts[:-1], f"test_{parts[-1]}.py")
        if not expected.is_file():
            missing.append(str(expected.relative_to(ROOT)))
    assert missing == []


def test_test_modules_import_helpers_not_each_other() -> None:
    """Shared helpers live in tests/helpers/ or a conftest.py, so a test module can move with
    the code it tests without breaking another (and pytest never collects a test twice)."""
    tests = discover(ROOT, ["tests"])
    found = [f"{i.source} imports {i.target}" for name, path in tests.items()
             for i in imports_of(name, path, set(tests))
             if i.target.rpartition(".")[2].startswith(("test_", "conftest"))]
    assert found == []


# -- the checker itself, on a tiny package made for it -------------------------------------------

def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_finds_cycles_violations_and_forbidden_imports(tmp_path: Path) -> None:
    _write(tmp_path, {
        "lib/__init__.py": "",
        "lib/base.py": "import os\n",
        # A lower layer importing a higher one, hidden in a function: a violation and a cycle.
        "lib/low/__init__.py": "",
        "lib/low/store.py": "from lib import base\n\n\ndef f():\n    from lib.high import rank\n",
        "lib/high/__init__.py": "",
        "lib/high/rank.py": "from ..low import store\nfrom . import helper\n",
        "lib/high/helper.py": "from lib.base import os\n",
        # Type-only imports: forbidden names still count; a type-only cycle does not.
        "lib/high/typed.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from flask import Flask\n    from lib.high import typed2\n"),
        "lib/high/typed2.py": "import lib.high.typed\n",
        "lib/uses_web.py": "def serve():\n    import webapp.server\n",
        "webapp/__init__.py": "",
        "webapp/server.py": "import lib.high.rank\n",
    })
    layers = (("lib", "lib.base"), ("lib.low",), ("lib.high", "lib.uses_web"))
    graph = build_graph(tmp_path, ["lib", "webapp"])
    modules = discover(tmp_path, ["lib", "webapp"])

    assert layer_violations(graph, layers) == [
        "lib.low.store:5 (layer 1) imports lib.high.rank (layer 2)"]
    assert import_cycles(graph, modules) == [["lib.high.rank", "lib.low.store"]]
    assert forbidden_imports(graph, "lib", ("flask", "webapp")) == [
        "lib.high.typed:3 imports flask", "lib.uses_web:2 imports webapp.server"]
    # The relative imports resolved to the modules they name.
    assert {(i.source, i.target) for i in graph if i.source == "lib.high.rank"} == {
        ("lib.high.rank", "lib.low.store"), ("lib.high.rank", "lib.high.helper")}
    # An allowed edge clears both findings, as an allowed edge would.
    known = {("lib.low.store", "lib.high.rank")}
    assert layer_violations(graph, layers, known) == []
    assert import_cycles(graph, modules, known) == []
    # Unplaced modules have no layer; the most specific entry wins.
    assert layer_of("other.x", layers) is None
    assert layer_of("lib.base", layers) == 0 and layer_of("lib.low.store", layers) == 1


def test_the_size_check_counts_lines(tmp_path: Path) -> None:
    _write(tmp_path, {"pkg/__init__.py": "", "pkg/long.py": "x = 1\n" * 301,
                      "pkg/ok.py": "x = 1\n" * 300})
    assert oversized(tmp_path, ["pkg"], 300) == ["pkg.long (pkg/long.py): 301 lines"]
