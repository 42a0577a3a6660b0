"""The standard-library stand-ins that keep `pallet` quick to start, checked against the real thing.

Every command is a fresh interpreter, so what a start imports is paid at every `run`:
`pallet.cli.deferred` loads `re` & co. only when something reads them, `pallet.jsontext` speaks
JSON without the json package, `pallet.libc` calls mount(2) without ctypes. Each must behave
exactly like what it stands in for.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pallet import jsontext, libc

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _fresh(code: str) -> str:
    """stdout of `code` in a new interpreter that sees only the stdlib and pallet."""
    p = subprocess.run([sys.executable, "-S", "-c", f"import sys; sys.path.append({SRC!r})\n"
                        + textwrap.dedent(code)], capture_output=True, text=True, check=True)
    return p.stdout.strip()


def test_deferred_modules_load_on_first_use_and_then_are_the_real_ones():
    out = _fresh("""
        from pallet.cli import deferred
        deferred.install()
        import pathlib, re
        before = type(sys.modules["re"]).__name__
        assert re.fullmatch("a+", "aaa")                      # first use loads it
        print(before, sys.modules["re"] is not re, type(sys.modules["re"]).__name__)
        import urllib.parse
        from urllib.parse import quote
        print(urllib.parse.quote("a b"), quote("c d"), pathlib.Path("/x y").as_uri())
    """)
    assert out.splitlines() == ["_Deferred True module", "a%20b c%20d file:///x%20y"]


def test_modules_already_imported_are_left_alone():
    out = _fresh("""
        import re
        from pallet.cli import deferred
        deferred.install()
        print(sys.modules["re"] is re)
    """)
    assert out == "True"


DOCS = [{"a": [1, 2.5, None, True, False, "é\u2028\x01\"\\", {"z": 1, "b": []}], "ü": 1e300,
         "n": -0.0, "big": 10 ** 30}, [], "text", 3, None, {"inf": float("inf")}]


@pytest.mark.parametrize("doc", DOCS)
def test_jsontext_writes_what_the_json_package_writes(doc):
    for sort_keys in (False, True):
        for ensure_ascii in (False, True):
            assert jsontext.dumps(doc, sort_keys=sort_keys, ensure_ascii=ensure_ascii) == \
                json.dumps(doc, sort_keys=sort_keys, ensure_ascii=ensure_ascii)
            assert jsontext.dumps(doc, sort_keys=sort_keys, ensure_ascii=ensure_ascii, compact=True) \
                == json.dumps(doc, sort_keys=sort_keys, ensure_ascii=ensure_ascii, separators=(",", ":"))


@pytest.mark.parametrize("doc", DOCS)
def test_jsontext_reads_what_the_json_package_reads(doc):
    text = json.dumps(doc)
    assert repr(jsontext.loads(text)) == repr(json.loads(text))
    assert repr(jsontext.loads(f" \n{text}\r\n".encode())) == repr(json.loads(text))


@pytest.mark.parametrize("bad", ["", "  ", "{", "[1,]", "1 2", "{'a': 1}", "nul"])
def test_jsontext_refuses_what_the_json_package_refuses(bad):
    with pytest.raises(ValueError):
        json.loads(bad)
    with pytest.raises(ValueError):
        jsontext.loads(bad)


def test_jsontext_refuses_what_json_cannot_hold():
    with pytest.raises(TypeError, match="not JSON serializable"):
        jsontext.dumps({"a": object()})


def test_libc_calls_fail_with_the_errno_like_os():
    with pytest.raises(OSError) as err:
        libc.umount2("/nonexistent-pallet-path", libc.MNT_DETACH)
    assert err.value.errno == 2
    assert libc.syscall(39) > 0  # getpid
