"""The installed `pallet` command (scripts/install.sh writes it: `python -S`, paths written in,
`os._exit` at the end) behaves as the CLI: output flushed, exit codes passed through."""
from __future__ import annotations

import subprocess
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "pallet"


def launch(pallet, *argv: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([str(LAUNCHER), "--root", str(pallet.root), "--runroot", str(pallet.runroot),
                           *argv], input=stdin, capture_output=True, timeout=60)


def test_the_launcher_runs_python_without_site_and_finds_pallet():
    assert LAUNCHER.read_text().splitlines()[0].endswith(" -S")
    done = subprocess.run([str(LAUNCHER), "version", "--format", "{{.Client.Version}}"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip()


def test_output_is_flushed_and_the_exit_code_passed_through(pallet, busybox):
    done = launch(pallet, "run", "--rm", "--network", "none", "busybox", "sh", "-c",
                  "echo out; echo err >&2; exit 3")
    assert (done.returncode, done.stdout, done.stderr) == (3, b"out\n", b"err\n")
    big = launch(pallet, "run", "--rm", "--network", "none", "busybox", "sh", "-c",
                 "seq 1 20000")
    assert big.returncode == 0 and big.stdout.decode().split()[-1] == "20000"


def test_a_closed_pipe_ends_the_command_quietly(pallet, busybox):
    for i in range(30):
        pallet.ok("tag", "busybox", f"busybox:t{i}")
    done = subprocess.run(f"'{LAUNCHER}' --root '{pallet.root}' --runroot '{pallet.runroot}' images | head -1",
                          shell=True, capture_output=True, text=True)
    assert done.stdout.startswith("REPOSITORY") and "Traceback" not in done.stderr
