"""Volumes as Docker users know them: named and anonymous, copy-up, --mount, --volumes-from, the volume verbs."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from api_service import ALSO_DOCKER
from polling import wait_for as _wait_for

pytestmark = pytest.mark.usefixtures("no_leaks")


def _inspect(pallet, *args) -> list[dict]:
    return json.loads(pallet.ok("inspect", *args).out)


def test_named_volume_outlives_its_container(pallet, busybox):
    pallet.ok("run", "--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
    assert pallet.ok("volume", "ls", "-q").lines == ["data"]
    assert pallet.ok("run", "--rm", "-v", "data:/x", "busybox", "cat", "/x/f").out == "kept\n"


def test_empty_named_volume_is_filled_from_the_image_directory(pallet, busybox):
    out = pallet.ok("run", "--rm", "-v", "etcvol:/etc", "busybox", "cat", "/etc/passwd").out
    assert out.startswith("root:")
    mountpoint = json.loads(pallet.ok("volume", "inspect", "etcvol").out)[0]["Mountpoint"]
    with open(f"{mountpoint}/passwd") as f:
        assert f.read() == out


@ALSO_DOCKER
def test_nocopy_volume_stays_empty(pallet, busybox):
    r = pallet.ok("run", "--rm", "--mount", "type=volume,src=bare,dst=/etc,volume-nocopy",
                  "busybox", "ls", "-A", "/etc")
    assert r.out.split() == [n for n in r.out.split() if n in ("hosts", "hostname", "resolv.conf")]


def test_copy_up_happens_only_into_an_empty_volume(pallet, busybox):
    pallet.ok("run", "--rm", "-v", "vol:/data", "busybox", "sh", "-c", "echo mine > /data/own")
    out = pallet.ok("run", "--rm", "-v", "vol:/etc", "busybox", "ls", "/etc").out.split()
    assert "own" in out and "passwd" not in out


@ALSO_DOCKER
def test_anonymous_volume_and_rm_v_removes_it(pallet, busybox):
    pallet.ok("run", "--name", "scratchy", "-v", "/scratch", "busybox", "sh", "-c", "echo x > /scratch/f")
    mounts = _inspect(pallet, "scratchy")[0]["Mounts"]
    assert [(m["Type"], m["Destination"], len(m["Name"])) for m in mounts] == [("volume", "/scratch", 64)]
    assert pallet.ok("volume", "ls", "-q").lines == [mounts[0]["Name"]]
    pallet.ok("rm", "-v", "scratchy")
    assert pallet.ok("volume", "ls", "-q").lines == []


def test_rm_without_v_keeps_anonymous_volume_and_never_named_ones(pallet, busybox):
    pallet.ok("run", "--name", "first", "-v", "/scratch", "-v", "named:/n", "busybox", "true")
    pallet.ok("rm", "first")
    assert len(pallet.ok("volume", "ls", "-q").lines) == 2
    pallet.ok("run", "--name", "second", "-v", "named:/n", "busybox", "true")
    pallet.ok("rm", "-v", "second")
    assert "named" in pallet.ok("volume", "ls", "-q").lines


def test_image_volume_gets_an_anonymous_volume_with_the_image_content(pallet, busybox_tar):
    pallet.ok("import", "-c", "VOLUME /etc", str(busybox_tar), "withvol")
    pallet.ok("create", "--name", "withvol_c", "withvol", "cat", "/etc/group")
    mounts = _inspect(pallet, "withvol_c")[0]["Mounts"]
    assert [(m["Type"], m["Destination"]) for m in mounts] == [("volume", "/etc")]
    assert pallet.ok("start", "-a", "withvol_c").out.startswith("root:")


@ALSO_DOCKER
def test_volumes_from_shares_the_same_volume(pallet, busybox):
    pallet.ok("run", "--name", "src", "-v", "shared:/s", "busybox", "sh", "-c", "echo hi > /s/f")
    assert pallet.ok("run", "--rm", "--volumes-from", "src", "busybox", "cat", "/s/f").out == "hi\n"
    r = pallet("run", "--rm", "--volumes-from", "src:ro", "busybox", "touch", "/s/g")
    assert r.code == 1 and "Read-only file system" in r.err


@ALSO_DOCKER
def test_mount_volume_readonly_and_tmpfs(pallet, busybox):
    r = pallet("run", "--rm", "--mount", "type=volume,source=ro,target=/r,readonly",
               "--mount", "type=tmpfs,target=/t,tmpfs-size=1m", "busybox",
               "sh", "-c", "grep ' /t ' /proc/mounts; touch /r/x")
    assert r.code == 1 and "Read-only file system" in r.err
    assert "tmpfs /t tmpfs" in r.out and "size=1024k" in r.out


@ALSO_DOCKER
def test_volume_rm_refuses_a_volume_in_use(pallet, busybox):
    pallet.ok("create", "--name", "user", "-v", "busy:/b", "busybox", "true")
    r = pallet("volume", "rm", "busy")
    cid = pallet.ok("inspect", "-f", "{{.Id}}", "user").out.strip()
    assert r.code == 1 and r.err == f"{pallet.error_prefix}remove busy: volume is in use - [{cid}]\n"
    assert pallet.ok("volume", "ls", "-q").lines == ["busy"]
    pallet.ok("rm", "user")
    assert pallet.ok("volume", "rm", "busy").out == "busy\n"


def test_volume_rm_missing_and_force(pallet):
    r = pallet("volume", "rm", "nosuch")
    assert r.code == 1 and r.err == f"{pallet.error_prefix}get nosuch: no such volume\n"
    assert pallet("volume", "rm", "-f", "nosuch").code == 0


@ALSO_DOCKER
def test_volume_create_inspect_labels_and_driver_options(pallet, busybox):
    assert pallet.ok("volume", "create", "--label", "team=a", "v1").out == "v1\n"
    assert pallet.ok("volume", "create", "v1").out == "v1\n"  # idempotent, as Docker
    doc = json.loads(pallet.ok("volume", "inspect", "v1").out)[0]
    assert doc["Labels"] == {"team": "a"} and doc["Driver"] == "local" and doc["Scope"] == "local"
    assert doc["Mountpoint"] == f"{pallet.root}/volumes/v1/_data"
    pallet.ok("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=2m", "tv")
    out = pallet.ok("run", "--rm", "-v", "tv:/m", "busybox", "grep", " /m ", "/proc/mounts").out
    assert "tmpfs /m tmpfs" in out and "size=2048k" in out
    r = pallet("volume", "create", "-o", "bogus=1", "bad")
    assert r.code == 1 and 'invalid option key: "bogus"' in r.err
    r = pallet("volume", "inspect", "nosuch")
    assert r.code == 1 and "No such volume: nosuch" in r.err


# pallet only (not ALSO_DOCKER): its `run -v` failure is one line here; the docker CLI adds a usage hint
def test_volume_create_with_a_name_the_filesystem_cannot_hold_fails_as_docker_does(pallet, busybox):
    """Docker's local driver checks only the characters; mkdir then says the name is too long.
    Nothing is recorded, and `run -v` with such a name fails the same way (exit 125)."""
    name = "v" * 300
    root = f"{pallet.root}/volumes/{name}"
    r = pallet("volume", "create", name)
    assert r.code == 1 and r.err == (f"Error: create {name}: error while creating volume root "
                                     f"path '{root}': mkdir {root}: file name too long\n")
    assert pallet.ok("volume", "ls", "-q").out == ""
    r = pallet("run", "--rm", "-v", f"{name}:/x", "busybox", "true")
    assert r.code == 125 and "file name too long" in r.err and len(r.err.splitlines()) == 1
    r = pallet("volume", "create", "-bad")
    assert r.code != 0
    r = pallet("volume", "create", "bad name")
    assert r.code == 1 and "includes invalid characters for a local volume name" in r.err


@ALSO_DOCKER
def test_volume_ls_filters_and_format(pallet, busybox):
    pallet.ok("volume", "create", "--label", "k=v", "a1")
    pallet.ok("volume", "create", "b2")
    pallet.ok("create", "-v", "a1:/a", "busybox", "true")
    assert pallet.ok("volume", "ls", "-q", "--filter", "label=k=v").lines == ["a1"]
    assert pallet.ok("volume", "ls", "-q", "-f", "dangling=true").lines == ["b2"]
    assert pallet.ok("volume", "ls", "-q", "-f", "name=b").lines == ["b2"]
    assert pallet.ok("volume", "ls").lines == ["DRIVER    VOLUME NAME", "local     a1", "local     b2"]
    assert pallet.ok("volume", "ls", "--format", "{{.Name}}:{{.Labels}}").lines == ["a1:k=v", "b2:"]
    r = pallet("volume", "ls", "-f", "bogus=1")
    assert r.code == 1 and "invalid filter 'bogus'" in r.err


@ALSO_DOCKER
def test_volume_prune_removes_unused_anonymous_then_all_with_a(pallet, busybox):
    pallet.ok("volume", "create", "named")
    pallet.ok("run", "--name", "user", "-v", "/anon", "busybox", "true")
    pallet.ok("run", "--rm", "-v", "/gone", "busybox", "true")  # --rm removed it already
    assert len(pallet.ok("volume", "ls", "-q").lines) == 2
    r = pallet.ok("volume", "prune", "-f")
    assert r.out == "Total reclaimed space: 0B\n"  # the anonymous one is still in use
    pallet.ok("rm", "user")
    r = pallet.ok("volume", "prune", "-f")
    assert r.lines[0] == "Deleted Volumes:" and len(r.lines[1]) == 64
    assert pallet.ok("volume", "ls", "-q").lines == ["named"]
    assert pallet.ok("volume", "prune", "-a", "-f").lines[:2] == ["Deleted Volumes:", "named"]


def test_system_prune_volumes_removes_anonymous_volumes_of_removed_containers(pallet, busybox):
    pallet.ok("volume", "create", "named")
    pallet.ok("run", "--name", "user", "-v", "/anon", "busybox", "true")
    r = pallet.ok("system", "prune", "-f", "--volumes")  # user goes first, then its volume
    assert "Deleted Containers:\n" in r.out and "Deleted Volumes:\n" in r.out
    assert pallet.ok("volume", "ls", "-q").lines == ["named"]


@ALSO_DOCKER
def test_volume_onto_root_or_proc_is_refused(pallet, busybox):
    r = pallet("run", "--rm", "-v", "vol:/proc", "busybox", "true")
    assert r.code == 125 and "mount destination /proc is not allowed" in r.err
    r = pallet("run", "--rm", "-v", "vol:/", "busybox", "true")
    assert r.code == 125 and "destination can't be '/'" in r.err
    assert pallet.ok("volume", "ls", "-q").lines == []
