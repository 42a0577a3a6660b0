"""On a full disk pallet can still free space itself: every deleting verb works (the store gives
up the small reserve it keeps for this), and what cannot work fails with one line naming the
path and "no space left on device", as Docker's errors do."""
from __future__ import annotations

import subprocess

import pytest

from palletcli import Pallet


@pytest.fixture
def small_disk(tmp_path, root_required):
    """A store whose root is a 48 MiB tmpfs."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mnt)], check=True)
    p = Pallet(mnt / "root", tmp_path / "run")
    yield p
    p("system", "reset", "-f")
    subprocess.run(["umount", "-l", str(mnt)], check=True)


def _fill(path) -> None:
    """Write until the filesystem refuses: nothing is left for anyone."""
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 4096):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError:
                continue


def test_every_deleting_verb_works_on_a_full_disk(small_disk, busybox_tar):
    p = small_disk
    p.ok("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox")
    assert (p.root / "reserve").is_file()
    p.ok("run", "-d", "--name", "up", "busybox", "sleep", "60")
    p.ok("create", "--name", "made", "busybox", "true")
    p.ok("volume", "create", "vol")
    p.ok("tag", "busybox", "other:1")
    _fill(p.root.parent / "filler")

    r = p("run", "--rm", "busybox", "true")
    assert r.code == 125 and r.err.count("\n") == 1 and "no space left on device" in r.err, r.err
    assert "internal error" not in r.err and str(p.root) in r.err
    r = p("create", "busybox")
    assert r.code == 125 and "no space left on device" in r.err and "internal error" not in r.err
    r = p("import", str(busybox_tar), "another")
    assert r.code == 1 and r.err.count("\n") == 1 and "no space left on device" in r.err.lower(), r.err
    assert [d.name for d in (p.root / "layers").iterdir() if d.name.startswith(".tmp")] == []

    p.ok("rm", "-f", "up")
    p.ok("rm", "made")
    p.ok("volume", "rm", "vol")
    p.ok("rmi", "other:1")
    p.ok("system", "prune", "-a", "-f")
    assert p.ok("ps", "-aq").out == "" and p.ok("images", "-q").out == ""
    assert p.ok("volume", "ls", "-q").out == ""
    assert p("system", "check").code == 0

    (p.root.parent / "filler").unlink()  # room again: the store works, and takes its reserve back
    p.ok("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox")
    assert p.ok("run", "--rm", "busybox", "echo", "ok").lines == ["ok"]
    p.ok("rmi", "busybox")
    assert (p.root / "reserve").is_file()
