"""The import graph: no module imports itself back at import time, and data flows one way.

Read from the source (``ast``), so it costs no imports: a module-level import cycle would make
importing one of its modules alone fail or depend on the order; readers import the frame schemas
(``recoup.ingest.base``) and the Reader protocol, never the other way round; the carrier
descriptions never import the channels; production code never imports the sandbox double; the
command modules (``recoup.commands``) never import the root app (``recoup.cli``) that mounts them, nor
the database layer's SQL and tables: they parse, call a service, print.
"""

from __future__ import annotations

import ast
from pathlib import Path

import recoup

SRC = Path(recoup.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if "migrations" not in parts:
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(path: Path, *, top_level_only: bool) -> set[str]:
    """The recoup modules ``path`` imports (``from a import b``: ``a.b`` when it is a module, else ``a``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes: list[ast.AST] = []
    if top_level_only:
        for node in tree.body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            nodes.append(node)
    else:
        nodes = list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & set(MODULES)
            found |= subs
            if len(subs) < len(node.names):     # names defined in the module itself
                found.add(node.module)
    return {m for m in found if m in MODULES}


def _import_time_graph() -> dict[str, set[str]]:
    # a package's __init__ importing its own submodules is not a cycle
    return {m: _imports(p, top_level_only=True) - {m} for m, p in MODULES.items()}


def test_no_import_cycle_at_import_time() -> None:
    graph = _import_time_graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(n):], n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def _importers_of(prefixes: tuple[str, ...], among: list[str]) -> list[str]:
    return sorted(f"{m} imports {n}" for m in among
                  for n in _imports(MODULES[m], top_level_only=False) if n.startswith(prefixes))


def test_readers_are_below_ingest_never_above() -> None:
    # the frame contract and the file helpers the readers use import no reader
    contract = ["recoup.ingest.base", "recoup.ingest.reader", "recoup.ingest.csvutil", "recoup.ingest.xlsx",
                "recoup.ingest.bounds"]
    assert _importers_of(("recoup.shipments", "recoup.invoices"), contract) == []
    # readers know nothing above them: not the ingest service, the store, claims or the audit
    readers = [m for m in MODULES if m.startswith(("recoup.shipments", "recoup.invoices"))]
    above = ("recoup.ingest.service", "recoup.ingest.inbox", "recoup.ingest.formats", "recoup.store",
             "recoup.claims", "recoup.audit", "recoup.worker", "recoup.cli", "recoup.commands")
    assert _importers_of(above, readers) == []


def test_carriers_never_import_channels_and_nothing_imports_the_sandbox() -> None:
    carriers = [m for m in MODULES if m.startswith("recoup.carriers")]
    assert _importers_of(("recoup.channels",), carriers) == []
    production = [m for m in MODULES if not m.startswith(("recoup.sandbox", "recoup.demo", "recoup.commands.sandbox",
                                                          "recoup.commands.demo"))]
    assert _importers_of(("recoup.sandbox",), production) == []


COMMANDS = [m for m in MODULES if m.startswith("recoup.commands.")]


def _all_imports(path: Path) -> set[str]:
    """Every module ``path`` imports, recoup's or not, at import time or inside a function (but for the
    names of type annotations, under ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    tree.body = [n for n in tree.body if not (isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test))]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_commands_are_below_the_root_app() -> None:
    # recoup.cli mounts every command module: a command module importing it back would be a cycle
    assert COMMANDS and _importers_of(("recoup.cli",), COMMANDS) == []
    # and nothing but the CLI imports the commands (the domain never reaches up into them)
    others = [m for m in MODULES if not m.startswith(("recoup.cli", "recoup.commands"))]
    assert _importers_of(("recoup.commands",), others) == []


def test_commands_hold_no_sql() -> None:
    """A command parses, calls a service function, prints: what it needs from the store is a service's
    (``recoup.queries``, ``recoup.store.db``), never a table or a query of its own."""
    sql = ("sqlalchemy", "sqlmodel", "recoup.store.models", "recoup.store.bulk")
    found = sorted(f"{m} imports {n}" for m in COMMANDS for n in _all_imports(MODULES[m])
                   if n == "recoup.store.models" or n.startswith(sql))
    assert found == []


MAX_LINES = 500


def test_no_source_file_is_too_long_to_read() -> None:
    """A module a newcomer reads in one sitting: none over ~500 lines (the generated migrations excepted);
    a longer one is split along its seams (CONTRIBUTING.md "Where things live")."""
    long = sorted(f"{m}: {n} lines" for m, path in MODULES.items()
                  if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES)
    assert long == []
