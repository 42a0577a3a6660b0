"""The layer order of the README ("How it is built"), checked on every import of the package.

Imports inside functions (pallet imports lazily, for start-up time) are read too: they are
dependencies all the same. A module may import modules of its own layer or of layers below;
no import may point up, and modules may not import each other in a cycle, however long.
The edges (cli/ and api/) may import only what they need to decode flags
and render: the engine (or the client, the CLI's engine for another engine's socket), the error tree, Docker's little languages (opts, reference), --format,
Docker's JSON shapes, and the services' request/result type modules; every use case is
reached through `Engine`.

EXCEPTIONS lists today's known breaches, each with why it is there; it may only shrink:
an entry that no longer matches an import fails the test, so that it is taken out.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

# lowest first; a module may import from its own layer and every layer below it
LAYERS = [
    {"pallet", "errors", "record", "jsontext", "libc", "paths"},
    {"digest", "reference", "reference_match"},
    {"format"},
    {"opts"},
    {"oci"},
    {"archive"},
    {"store"},
    {"snapshot"},
    {"runtime"},
    {"network"},
    {"volume"},
    {"registry"},
    {"build"},
    {"dockerjson"},
    {"services"},
    {"compose"},     # docker compose's model and use cases, over the services
    {"client"},      # the Engine API client with the engine's face: the CLI's other engine
    {"engine"},
    {"cli", "api"},
]
EDGES = {"cli", "api"}
EDGE_MAY_IMPORT = {"pallet", "engine", "errors", "record", "reference", "opts", "format", "dockerjson",
                   "api.server",  # `pallet system service` hands its process to the API edge
                   "client"}      # the CLI's engine when a context names another engine's socket
TYPES_MODULE = re.compile(r"services\.\w+_types")  # request/result types: they import only pallet.record

EXCEPTIONS: dict[tuple[str, str], str] = {}  # none left: keep it so


def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in (SRC / "pallet").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _imports(name: str, path: Path, is_package: bool, modules) -> set[str]:
    """Every pallet module `name` imports, at any depth of its code."""
    here = name.split(".") if is_package else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "pallet")
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            if target.split(".")[0] != "pallet":
                continue
            for alias in node.names:  # `from . import x` imports the module x
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
    found.discard(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, pkg, modules) for name, (path, pkg) in modules.items()}


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "pallet"


def _rank(module: str) -> int:
    top = _top(module)
    for rank, layer in enumerate(LAYERS):
        if top in layer:
            return rank
    raise AssertionError(f"{module}: its package is in no layer of LAYERS (add it where it belongs)")


def _breach(importer: str, imported: str) -> str | None:
    if _top(importer) in EDGES:
        if _top(imported) == _top(importer):
            return None
        rel = imported.split(".", 1)[1] if "." in imported else "pallet"
        if any(rel == allowed or rel.startswith(allowed + ".") for allowed in EDGE_MAY_IMPORT) \
                or TYPES_MODULE.fullmatch(rel):
            return None
        return "an edge reaches past the engine"
    if _rank(imported) > _rank(importer):
        return "imports up the layer order"
    return None


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
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
                        out.append(sorted(component))
    return out


def test_no_import_points_up_the_layer_order_or_past_the_engine():
    graph = _graph()
    breaches = sorted(f"{a} -> {b}: {why}" for a, targets in graph.items() for b in targets
                      if (why := _breach(a, b)) and (a, b) not in EXCEPTIONS)
    assert not breaches, "\n".join(breaches)


def test_exceptions_only_shrink():
    graph = _graph()
    stale = sorted(f"{a} -> {b}" for a, b in EXCEPTIONS if b not in graph.get(a, set()) or not _breach(a, b))
    assert not stale, "no longer needed, take them out of EXCEPTIONS:\n" + "\n".join(stale)


def test_no_module_imports_itself_through_others():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_type_modules_import_nothing_but_record():
    graph = _graph()
    types = [m for m in graph if TYPES_MODULE.fullmatch(m.removeprefix("pallet."))]
    assert "pallet.services.container_types" in types
    assert {m: sorted(graph[m] - {"pallet.record"}) for m in types} == {m: [] for m in types}


def test_the_checker_sees_imports_inside_functions_and_relative_ones():
    graph = _graph()
    # cli.main imports the engine only inside Context.engine, relatively
    assert "pallet.engine" in graph["pallet.cli.main"]
    assert _breach("pallet.cli.ps", "pallet.store.db") and _breach("pallet.store.db", "pallet.services.images")
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
