"""An image's symlinks never lead a container's mounts onto the host.

An image decides what its tree holds: /dev, /etc/hosts, a volume's target or /sbin may be
a symlink to an absolute host path. Docker resolves every mount destination inside the
container's root; runc itself writes /dev's links (fd, ptmx, stdin, ...) by joining
strings, so an image whose /dev is a symlink is refused. Each test plants a host sentinel
the symlink points to and checks that nothing reached it."""
from __future__ import annotations

import tarfile
from pathlib import Path

import pytest


def hostile_image(pallet, busybox_tar: Path, tmp_path: Path, links: dict[str, str]) -> str:
    """busybox with each path of `links` (and what it held) replaced by a symlink."""
    out = tmp_path / f"hostile-{len(list(tmp_path.iterdir()))}.tar"
    with tarfile.open(busybox_tar) as src, tarfile.open(out, "w") as dst:
        for member in src.getmembers():
            name = member.name.lstrip("./")
            if not any(name == p or name.startswith(p + "/") for p in links):
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)
        for path, target in links.items():
            link = tarfile.TarInfo("./" + path)
            link.type, link.linkname = tarfile.SYMTYPE, target
            dst.addfile(link)
    tag = f"hostile:{out.stem}"
    pallet.ok("import", str(out), tag)
    return tag


@pytest.mark.parametrize("path", ["dev", "proc", "sys"])
def test_run_refuses_an_image_whose_dev_proc_or_sys_is_a_symlink_and_writes_nothing_there(
        pallet, busybox_tar, tmp_path, no_leaks, path):
    sentinel = tmp_path / f"host-{path}"
    sentinel.mkdir()
    image = hostile_image(pallet, busybox_tar, tmp_path, {path: str(sentinel)})
    r = pallet("run", "--rm", image, "true")
    assert r.code == 125
    assert r.err == (f"Error: invalid image: /{path} is a symbolic link to {sentinel}; the runtime "
                     f"mounts /{path} itself and needs a directory there\n")
    assert list(sentinel.iterdir()) == []  # runc used to leave fd, ptmx, stdin... links here
    assert pallet.ok("ps", "-aq").out == ""


def test_etc_files_land_inside_the_container_when_the_image_links_them_to_host_files(
        pallet, busybox_tar, tmp_path, no_leaks):
    names = ("hosts", "hostname", "resolv.conf")
    sentinels = {n: tmp_path / f"host-{n}" for n in names}
    for f in sentinels.values():
        f.write_text("host original\n")
    image = hostile_image(pallet, busybox_tar, tmp_path,
                          {f"etc/{n}": str(f) for n, f in sentinels.items()})
    r = pallet.ok("run", "--rm", "--hostname", "box", image, "sh", "-c",
                  "cat /etc/hostname; grep -c localhost /etc/hosts; echo changed > /etc/hosts")
    assert r.out == "box\n2\n"  # the container's own files, reached through its symlinks
    assert {n: f.read_text() for n, f in sentinels.items()} == dict.fromkeys(names, "host original\n")


def test_volume_bind_and_init_destinations_behind_image_symlinks_stay_in_the_container(
        pallet, busybox_tar, tmp_path, no_leaks):
    sentinels = {name: tmp_path / f"host-{name}" for name in ("data", "srv", "sbin")}
    for d in sentinels.values():
        d.mkdir()
    data = tmp_path / "bound"
    data.mkdir()
    (data / "file").write_text("from the bind\n")
    image = hostile_image(pallet, busybox_tar, tmp_path,
                          {"data": str(sentinels["data"]), "srv": f"../../../..{sentinels['srv']}",
                           "sbin": str(sentinels["sbin"])})
    r = pallet.ok("run", "--rm", "--init", "-v", f"{data}:/data/in/bind", "-v", "/srv/vol",
                  "--tmpfs", "/srv/tmp", image, "sh", "-c",
                  "cat /data/in/bind/file; touch /srv/vol/x /srv/tmp/y; ls /sbin /srv")
    assert r.out == "from the bind\n/sbin:\ndocker-init\n\n/srv:\ntmp\nvol\n"
    assert {name: list(d.iterdir()) for name, d in sentinels.items()} == dict.fromkeys(sentinels, [])
