"""The CLI's finder for pallet's own modules finds and loads exactly what the standard one does."""
from __future__ import annotations

import importlib.machinery
import os
import py_compile
import sys
from pathlib import Path

import pallet
from pallet.cli.module_finder import Finder

SRC = Path(pallet.__file__).parent


def _names():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        if len(parts) > 1:
            yield ".".join(parts)


def _parent_path(name: str) -> list[str]:
    parent = name.rpartition(".")[0]
    return [str(SRC.parent.joinpath(*parent.split(".")))]


def test_every_pallet_module_gets_the_spec_the_standard_finder_gives():
    def spec_fields(spec):
        return (spec.origin, spec.cached, spec.submodule_search_locations, spec.parent, spec.has_location)
    differ = []
    for name in _names():
        path = _parent_path(name)
        ours = Finder.find_spec(name, path)
        standard = importlib.machinery.PathFinder.find_spec(name, path)
        if spec_fields(ours) != spec_fields(standard) \
                or not isinstance(ours.loader, importlib.machinery.SourceFileLoader):
            differ.append(name)
    assert differ == []


def test_names_outside_pallet_and_missing_modules_are_left_to_the_standard_finders():
    assert Finder.find_spec("json.decoder", [os.path.dirname(__import__("json").__file__)]) is None
    assert Finder.find_spec("pallet.nosuch", [str(SRC)]) is None
    assert Finder.find_spec("pallet.errors", None) is None


def test_a_stale_pyc_is_not_used_the_source_is(tmp_path):
    pkg = tmp_path / "pallet"
    (pkg / "sub").mkdir(parents=True)
    mod = pkg / "sub" / "m.py"
    mod.write_text("VALUE = 1\n")
    py_compile.compile(str(mod), doraise=True)
    mod.write_text("VALUE = 22\n")  # another size: the .pyc no longer matches
    spec = Finder.find_spec("pallet.sub.m", [str(pkg / "sub")])
    code = spec.loader.get_code("pallet.sub.m")
    namespace: dict = {}
    exec(code, namespace)
    assert namespace["VALUE"] == 22


def test_a_valid_pyc_gives_the_code_the_standard_loader_gives():
    name = "pallet.services.containers.mountpoints"
    spec = Finder.find_spec(name, _parent_path(name))
    if not Path(spec.cached).exists():
        py_compile.compile(spec.origin, cfile=spec.cached, doraise=True)
    standard = importlib.machinery.SourceFileLoader(name, spec.origin).get_code(name)
    assert spec.loader.get_code(name) == standard


def test_the_cli_installs_it_first_on_the_meta_path():
    import subprocess
    code = ("import sys; sys.path.insert(0, %r); import pallet.cli.main; "
            "import pallet.services.images as m; print(sys.meta_path[0].__name__, type(m.__loader__).__name__)"
            % str(SRC.parent))
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["Finder", "_Loader"]
