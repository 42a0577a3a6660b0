"""What a `pallet run` pays for before any container work: the modules its start imports.

Every command is a fresh interpreter, so each module on the hot path costs every `run`. The ones
pinned here are the dearest and are not needed to run a container: regular expressions (`re`
with `enum`, ~5 ms), the json package, ctypes (~3 ms), urllib and ipaddress.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")
AVOIDED = ("re", "enum", "json", "ctypes", "ipaddress", "urllib.parse", "typing", "subprocess",
           "socket", "hashlib", "shutil", "dataclasses")


def test_run_rm_imports_none_of_the_costly_modules(pallet, busybox):
    # the first container after a boot reads libseccomp's syscall tables through ctypes
    # (pallet.runtime.syscall_guard keeps them in the runroot); every later run does not
    pallet.ok("run", "--rm", "--network", "none", busybox, "true")
    code = textwrap.dedent(f"""
        import sys
        sys.path.append({SRC!r})
        from pallet.cli.main import run
        code = run(["--root", {str(pallet.root)!r}, "--runroot", {str(pallet.runroot)!r},
                    "run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo ran"])
        loaded = [m for m in {AVOIDED!r} if type(sys.modules.get(m)).__name__ == "module"]
        print(code, loaded)
    """)
    p = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stdout.splitlines() == ["ran", "0 []"], p.stderr
