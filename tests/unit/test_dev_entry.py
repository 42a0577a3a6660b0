"""The README's first commands (`./dev demo`, `./dev test`) work as root on a fresh Debian, which
has no sudo, and re-run themselves under sudo when a user runs them."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def first_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_first_commands_need_no_sudo():
    assert first_commands() == ["./dev demo", "./dev test"]


@pytest.fixture
def user_dir():
    """A directory a user can reach (pytest's tmp_path and the worktree may not be)."""
    path = Path(tempfile.mkdtemp(prefix="pallet-dev-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def dev_copy(where: Path) -> Path:
    shutil.copy(REPO / "dev", where / "dev")
    return where / "dev"


def test_dev_as_root_runs_without_sudo(tmp_path):
    assert os.geteuid() == 0
    dev = dev_copy(tmp_path)
    # PATH without sudo, as on a fresh Debian: the usage message, not "sudo: command not found"
    r = subprocess.run([str(dev)], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 2 and r.stderr.startswith("usage: ./dev demo")


def test_dev_as_user_reruns_itself_under_sudo(user_dir):
    dev = dev_copy(user_dir)
    bindir = user_dir / "bin"
    bindir.mkdir(mode=0o755)
    fake = bindir / "sudo"  # records how it was called instead of escalating
    fake.write_text('#!/bin/sh\necho "sudo $*"\n')
    fake.chmod(0o755)
    r = subprocess.run([*NOBODY, str(dev), "demo", "x"], capture_output=True, text=True,
                       env={"PATH": f"{bindir}:/usr/bin:/bin"})
    assert r.returncode == 0 and r.stdout == f"sudo -- {dev} demo x\n"


def test_dev_as_user_without_sudo_says_it_needs_root(user_dir):
    dev = dev_copy(user_dir)
    r = subprocess.run([*NOBODY, str(dev), "demo"], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 1 and "needs root" in r.stderr
