"""Mount destinations are resolved inside the container's tree, as the container sees it."""
from __future__ import annotations

import os

import pytest

from pallet.errors import InvalidArgument
from pallet.services.containers.mountpoints import confine


def spec(*mounts: tuple[str, str, str]) -> dict:
    return {"mounts": [{"destination": d, "type": t, "source": s, "options": []} for d, t, s in mounts]}


def destinations(s: dict) -> list[str]:
    return [m["destination"] for m in s["mounts"]]


@pytest.fixture
def rootfs(tmp_path):
    root = tmp_path / "rootfs"
    for d in ("dev", "proc", "sys", "etc", "usr/sbin", "data/real"):
        (root / d).mkdir(parents=True)
    os.symlink("/host/elsewhere/hosts", root / "etc/hosts")      # absolute: restarts at the root
    os.symlink("../../../../../resolv", root / "etc/resolv.conf")  # climbs no higher than it
    os.symlink("usr/sbin", root / "sbin")
    os.symlink("/data/real/deeper", root / "link")
    return root


def test_symlinked_destinations_resolve_inside_the_rootfs(rootfs):
    s = spec(("/etc/hosts", "bind", "/h"), ("/etc/resolv.conf", "bind", "/r"),
             ("/sbin/docker-init", "bind", "/init"), ("/etc/../etc/hostname", "bind", "/n"))
    confine(s, rootfs)
    assert destinations(s) == ["/resolv", "/etc/hostname", "/host/elsewhere/hosts",  # parents first
                               "/usr/sbin/docker-init"]


def test_destinations_below_fresh_mounts_and_missing_dirs_are_kept_as_written(rootfs):
    os.symlink("/etc", rootfs / "dev/shm")  # hidden at run time by the tmpfs on /dev
    s = spec(("/dev", "tmpfs", "tmpfs"), ("/dev/shm", "tmpfs", "shm"), ("/new/dir/x", "bind", "/x"))
    confine(s, rootfs)
    assert destinations(s) == ["/dev", "/dev/shm", "/new/dir/x"]


def test_a_destination_resolved_deeper_is_mounted_after_its_parents(rootfs, tmp_path):
    s = spec(("/link", "bind", str(tmp_path)), ("/data/real", "bind", str(tmp_path)))
    confine(s, rootfs)
    assert destinations(s) == ["/data/real", "/data/real/deeper"]


@pytest.mark.parametrize("path", ["dev", "proc", "sys"])
def test_a_symlinked_runtime_directory_is_refused(rootfs, path):
    (rootfs / path).rmdir()
    os.symlink("/tmp", rootfs / path)
    with pytest.raises(InvalidArgument, match=f"/{path} is a symbolic link to /tmp"):
        confine(spec((f"/{path}", "tmpfs", "tmpfs")), rootfs)


def test_a_destination_the_images_symlinks_lead_to_the_root_is_refused(rootfs):
    os.symlink("../..", rootfs / "data/up")
    with pytest.raises(InvalidArgument, match="invalid mount destination /data/up: the image's "
                                              "symlinks lead it to the container's root"):
        confine(spec(("/data/up", "bind", "/x")), rootfs)


def test_a_destination_beneath_a_directory_bind_resolves_in_the_binds_source(rootfs, tmp_path):
    source = tmp_path / "src"
    (source / "real").mkdir(parents=True)
    os.symlink("/etc", source / "sub")  # the bind's own symlink, not the image's
    s = spec(("/data", "bind", str(source)), ("/data/sub/x", "bind", "/x"), ("/data/real/y", "bind", "/y"))
    confine(s, rootfs)
    assert destinations(s) == ["/data", "/etc/x", "/data/real/y"]


@pytest.mark.parametrize("dest", ["/etc/hostname", "/etc/hosts", "/sbin/docker-init", "/link/a",
                                  "/new/dir/x", "/etc/hostname/below", "/usr/sbin", "/data/real"])
def test_plain_destinations_resolve_as_the_full_resolver_does(rootfs, dest):
    from pathlib import Path

    from pallet.services.container_fs_scope import Scope
    (rootfs / "etc/hostname").write_text("h\n")
    try:
        expected = "/" + "/".join(Scope(Path(rootfs)).resolve(dest, missing_dirs=True))
    except NotADirectoryError:
        expected = dest
    s = spec((dest, "bind", "/x"))
    confine(s, rootfs)
    assert destinations(s) == [expected]
