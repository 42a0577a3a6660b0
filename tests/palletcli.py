"""The pallet CLI as the tests drive it: in-process (fast) or as a subprocess."""
from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    code: int
    out: str
    err: str
    out_bytes: bytes = b""

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


class Pallet:
    """Runs `pallet` against a private --root/--runroot, in-process (fast) or as a subprocess."""

    instances: list = []  # every store a test made: conftest's reset_stores ends them
    # How this CLI prefixes an error the engine reports; the docker CLI through the API says
    # "Error response from daemon: " (api_service.DockerCLI), with the same words after it.
    error_prefix = "Error: "
    stream_error_prefix = "Error: "  # an error ending a build/load stream: the docker CLI prints it bare

    def __init__(self, root: Path, runroot: Path):
        self.root, self.runroot = root, runroot
        Pallet.instances.append(self)

    def __call__(self, *argv: str, stdin: bytes = b"") -> Result:
        from pallet.cli.main import Context, run
        out_b, err_b = io.BytesIO(), io.BytesIO()
        out = io.TextIOWrapper(out_b, encoding="utf-8", write_through=True)
        err = io.TextIOWrapper(err_b, encoding="utf-8", write_through=True)
        inp = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
        ctx = Context(str(self.root), str(self.runroot), stdin=inp, stdout=out, stderr=err)
        code = run(list(argv), ctx)
        out.flush()
        err.flush()
        raw = out_b.getvalue()
        return Result(code, raw.decode("utf-8", "replace"), err_b.getvalue().decode("utf-8", "replace"), raw)

    def sub(self, *argv: str, stdin: bytes | None = None, timeout: float = 120, check: bool = False) -> Result:
        cmd = [sys.executable, "-m", "pallet.cli.main", "--root", str(self.root),
               "--runroot", str(self.runroot), *argv]
        p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
        r = Result(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), p.stdout)
        if check:
            assert r.code == 0, f"pallet {' '.join(argv)} failed: {r.err}"
        return r

    def ok(self, *argv: str, stdin: bytes = b"") -> Result:
        r = self(*argv, stdin=stdin)
        assert r.code == 0, f"pallet {' '.join(argv)} exited {r.code}: {r.err}"
        return r

    @property
    def engine(self):
        from pallet.engine import Engine
        from pallet.paths import Paths
        return Engine(Paths(self.root, self.runroot))
