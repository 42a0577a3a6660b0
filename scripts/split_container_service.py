"""One-off (delete once every branch is merged): move the container service into the package
services/containers/ and its SQL into store/.

Pure moves (git mv) plus import fixes: every import of a moved module, in src/, tests/ and
bench/, relative or absolute, module-level or inside a function, is rewritten for the new
layout; module paths named in text (docstrings, profile_run's phase table) follow.
Run from the repository root on a clean tree:  python3 scripts/split_container_service.py
(then run the tests).
It can run again on a tree already split (after merging a branch written against the old
layout): it then moves only the old-layout files that came in and fixes only their imports.
"""
import ast
import re
import subprocess
from pathlib import Path

MOVES = {  # old module -> new module
    "pallet.services.containers": "pallet.services.containers.service",
    "pallet.services.container_status": "pallet.services.containers.state",
    "pallet.services.container_config": "pallet.services.containers.config",
    "pallet.services.container_queries": "pallet.services.containers.queries",
    "pallet.services.container_ops": "pallet.services.containers.ops",
    "pallet.services.container_stop": "pallet.services.containers.stop",
    "pallet.services.container_io": "pallet.services.containers.streams",
    "pallet.services.container_list": "pallet.services.containers.listing",
    "pallet.services.container_wait": "pallet.services.containers.wait",
    "pallet.services.container_limits": "pallet.services.containers.limits",
    "pallet.services.container_network": "pallet.services.containers.network",
    "pallet.services.container_commit": "pallet.services.containers.commit",
    "pallet.services.create_options": "pallet.services.containers.create_options",
    "pallet.services.container_mountpoints": "pallet.services.containers.mountpoints",
    "pallet.services.health": "pallet.services.containers.health",
    "pallet.services.restart": "pallet.services.containers.restart",
    "pallet.services.log_rotation": "pallet.services.containers.log_rotation",
    "pallet.services.names": "pallet.services.containers.names",
    "pallet.services.container_store": "pallet.store.containers",
}
PACKAGE_DOC = '''"""The container service: Docker's container use cases, one module per concern.

    service.py      ContainerService: create, start, stop, kill, wait, rm, rename, the entry points
    state.py        State transitions and the live facts (exit file, monitor) folded in
    config.py       a CreateRequest -> the record, and the record -> the OCI bundle
    queries.py      read-only views (list, ports, inspect, counts, image users)
    listing.py      `ps` filters
    streams.py      exec, logs, attach
    ops.py          top, stats, update, prune
    stop.py         stop of many containers at once
    limits.py       resources, ulimits, healthcheck config, OOM
    network.py      the seam to networking (attach at start, detach at exit)
    health.py, restart.py, log_rotation.py, names.py, commit.py: what their names say

Records live in pallet.store.containers (the SQL); request types in
pallet.services.container_types (the edges import those, never this package).
"""
'''
SRC = Path("src")


def module_of(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def all_modules() -> set[str]:
    return {module_of(p)[0] for p in (SRC / "pallet").rglob("*.py")}


def new_name(module: str) -> str:
    """Where an old module is now (exact names only: the new package's own submodules, such
    as pallet.services.containers.state, are left alone, so that the script can run again)."""
    return MOVES.get(module, module)


def relative(target: str, package: str) -> str:
    t, p = target.split("."), package.split(".")
    common = 0
    while common < min(len(t), len(p)) and t[common] == p[common]:
        common += 1
    return "." * (len(p) - common + 1) + ".".join(t[common:])


def _known(target: str, modules: set[str]) -> bool:
    return target in modules or target in MOVES


def rewrite_imports(text: str, old_module: str, is_pkg: bool, modules: set[str], in_package: bool) -> str:
    tree = ast.parse(text)
    old_pkg = old_module.split(".") if is_pkg else old_module.split(".")[:-1]
    # a file already moved may hold lines merged in from a branch that wrote them for its old
    # place: a relative import that resolves nowhere from here is read from there
    was = {v: k for k, v in MOVES.items()}.get(old_module)
    was_pkg = was.split(".")[:-1] if was else None
    new_mod = new_name(old_module) if in_package else old_module
    new_pkg = ".".join(new_mod.split(".") if is_pkg else new_mod.split(".")[:-1])
    edits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = old_pkg[:len(old_pkg) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                if was_pkg and not _known(target, modules):
                    base = was_pkg[:len(was_pkg) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("pallet"):
                continue
            groups: dict[str, list[str]] = {}
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in modules:  # a submodule
                    full = new_name(sub)
                    parent, leaf = full.rsplit(".", 1)
                    shown = alias.asname or alias.name
                    groups.setdefault(parent, []).append(leaf if shown == leaf else f"{leaf} as {shown}")
                else:
                    groups.setdefault(new_name(target), []).append(
                        alias.name + (f" as {alias.asname}" if alias.asname else ""))
            stmts = []
            for where, names in groups.items():
                src = relative(where, new_pkg) if node.level else where
                if src.endswith(".") and src.strip("."):
                    src = src[:-1]
                stmts.append(f"from {src} import {', '.join(names)}")
            new_text = "; ".join(stmts)
            old_text = ast.get_source_segment(text, node)
            if new_text.replace(" ", "") != old_text.replace(" ", "").replace("(", "").replace(")", "").replace("\n", "").rstrip(","):
                edits.append((node, new_text))
        elif isinstance(node, ast.Import):
            names = []
            changed = False
            for alias in node.names:
                n = new_name(alias.name) if alias.name.startswith("pallet") else alias.name
                changed |= n != alias.name
                names.append(n + (f" as {alias.asname}" if alias.asname else ""))
            if changed:
                edits.append((node, "import " + ", ".join(names)))
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    out = text
    for node, new_text in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        start = offsets[node.lineno - 1] + len(lines[node.lineno - 1].encode()[:node.col_offset].decode())
        end = offsets[node.end_lineno - 1] + len(lines[node.end_lineno - 1].encode()[:node.end_col_offset].decode())
        out = out[:start] + new_text + out[end:]
    return out


def rewrite_text(text: str) -> str:
    text = text.replace('"pallet.services.containers"', '"pallet.services.containers.service"')
    for old, new in sorted(MOVES.items(), key=lambda kv: -len(kv[0])):
        if old == "pallet.services.containers":
            continue
        text = re.sub(re.escape(old) + r"\b", new, text)
        old_path = old.replace(".", "/").removeprefix("pallet/") + ".py"
        text = text.replace(old_path, new.replace(".", "/").removeprefix("pallet/") + ".py")
    return text


def main() -> None:
    modules = all_modules()
    files = [p for d in ("src", "tests", "bench") for p in Path(d).rglob("*.py")]
    for path in files:
        text = path.read_text()
        in_src = path.is_relative_to(SRC)
        if in_src:
            mod, is_pkg = module_of(path)
        else:
            mod, is_pkg = "tests_or_bench.x", False
        new = rewrite_text(rewrite_imports(text, mod, is_pkg, modules, in_src))
        if new != text:
            path.write_text(new)
    for doc in [Path("README.md"), *Path("bench").glob("*.md")]:
        text = doc.read_text()
        new = rewrite_text(text)
        if new != text:
            doc.write_text(new)
    Path("src/pallet/services/containers").mkdir(exist_ok=True)
    for old, new in MOVES.items():
        src = SRC / (old.replace(".", "/") + ".py")
        dst = SRC / (new.replace(".", "/") + ".py")
        if src.exists():
            subprocess.run(["git", "mv", str(src), str(dst)], check=True)
    init = Path("src/pallet/services/containers/__init__.py")
    init.write_text(PACKAGE_DOC)
    subprocess.run(["git", "add", str(init)], check=True)


if __name__ == "__main__":
    main()
