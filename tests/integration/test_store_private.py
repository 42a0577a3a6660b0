"""The store is private to root, as Docker keeps /var/lib/docker (0710): no other user can read
the database (every container's environment) or reach a layer's files (a setuid-root binary
in an image must not be runnable by any local user, CVE-2021-41091)."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from palletcli import Pallet


@pytest.fixture
def open_parent(root_required):
    """A directory every user can traverse (pytest's own tmp dirs are 0700, which would hide
    the store whatever its modes)."""
    d = Path(tempfile.mkdtemp(prefix="pallet-private-"))
    os.chmod(d, 0o755)
    yield d
    for store in Pallet.instances:  # its bridge and nft table go before its files do
        if store.root.is_relative_to(d) and store.root.exists():
            store("system", "reset", "-f")
    shutil.rmtree(d, ignore_errors=True)


def _as_nobody(*argv: str) -> subprocess.CompletedProcess:
    # through sh: setpriv itself would find the program while still root
    return subprocess.run(["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
                           "sh", "-c", 'exec "$@"', "sh", *argv], capture_output=True, text=True)


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_a_new_store_is_private_to_root(open_parent, busybox_tar):
    p = Pallet(open_parent / "root", open_parent / "run")
    p.ok("import", str(busybox_tar), "busybox")
    p.ok("run", "--rm", "-e", "SECRET=hunter2", "busybox", "true")
    assert _mode(p.root) == 0o700 and _mode(p.runroot) == 0o700
    assert _mode(p.root / "layers") == 0o700 and _mode(p.root / "containers") == 0o700
    for f in ("db.sqlite", "db.sqlite-wal", "db.sqlite-shm"):
        assert _mode(p.root / f) == 0o600, f
    assert _as_nobody("ls", str(p.root / "layers")).returncode != 0
    assert _as_nobody("cat", str(p.root / "db.sqlite")).returncode != 0
    assert _as_nobody("ls", str(p.runroot)).returncode != 0


def test_a_store_made_with_open_modes_is_made_private_by_the_next_command(open_parent, busybox_tar):
    p = Pallet(open_parent / "root", open_parent / "run")
    p.ok("import", str(busybox_tar), "busybox")
    layer = next(d for d in (p.root / "layers").iterdir() if not d.name.startswith("."))
    setuid = layer / "diff" / "bin" / "busybox"
    os.chmod(setuid, 0o4755)  # as an image with a setuid-root binary would have it
    for d in (p.root, p.runroot, p.root / "layers", p.root / "containers", p.root / "volumes"):
        os.chmod(d, 0o755)
    for f in ("db.sqlite", "db.sqlite-wal", "db.sqlite-shm"):
        os.chmod(p.root / f, 0o644)
    assert _as_nobody("ls", str(p.root / "layers")).returncode == 0  # the hole, as it was
    assert _as_nobody(str(setuid), "true").returncode == 0  # any user could run it

    p.ok("ps", "-a")
    assert _mode(p.root) == 0o700 and _mode(p.runroot) == 0o700 and _mode(p.root / "layers") == 0o700
    assert _mode(p.root / "db.sqlite") == 0o600 and _mode(p.root / "db.sqlite-wal") == 0o600
    assert _as_nobody("ls", str(p.root / "layers")).returncode != 0
    assert _as_nobody("cat", str(p.root / "db.sqlite")).returncode != 0
    assert _as_nobody(str(setuid), "true").returncode != 0


def test_containers_of_a_non_root_user_still_run_in_a_private_store(open_parent, busybox_tar):
    p = Pallet(open_parent / "root", open_parent / "run")
    p.ok("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox")
    r = p.ok("run", "--rm", "-u", "1000", "busybox", "sh", "-c", "id -u; ls / | grep -cx bin; echo x > /tmp/f")
    assert r.lines == ["1000", "1"]
    p.ok("volume", "create", "data")
    p.ok("run", "--rm", "-v", "data:/data", "busybox", "chmod", "777", "/data")
    assert p.ok("run", "--rm", "-u", "1000:1000", "-v", "data:/data", "busybox", "sh", "-c",
                "echo hi > /data/f && cat /data/f").lines == ["hi"]
    p.ok("run", "-d", "--name", "web", "busybox", "sleep", "60")
    assert p.ok("exec", "-u", "1000", "web", "ls", "/etc/hostname").lines == ["/etc/hostname"]
    p.ok("rm", "-f", "web")
