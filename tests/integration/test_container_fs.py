"""A container's files as Docker users know them: diff, commit, cp (both ways, safely), export."""
from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import time

import pytest

from api_service import ALSO_DOCKER
from polling import wait_for as _wait_for

pytestmark = pytest.mark.usefixtures("no_leaks")


@pytest.fixture
def changed(pallet, busybox) -> str:
    """A stopped container that added, changed and deleted files (and replaced a directory)."""
    pallet.ok("run", "--name", "changed", "busybox", "sh", "-c",
              "echo new > /tmp/added; echo more >> /etc/group; rm /bin/ls; "
              "rm -rf /home; mkdir /home; echo h > /home/only; mkdir -p /d/e; echo f > /d/e/f; "
              "ln -s /etc /d/link; rm -rf /var; mkdir /var; echo v > /var/only")
    return "changed"


def _tar(entries: dict[str, bytes | str]) -> bytes:
    """A tar of regular files (bytes) and symlinks (str targets)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, value in entries.items():
            info = tarfile.TarInfo(name)
            if isinstance(value, str):
                info.type, info.linkname = tarfile.SYMTYPE, value
                tar.addfile(info)
            else:
                info.size = len(value)
                tar.addfile(info, io.BytesIO(value))
    return buf.getvalue()


# ---- diff ----

@ALSO_DOCKER
def test_diff_lists_added_changed_and_deleted_paths(pallet, changed):
    lines = pallet.ok("diff", changed).lines
    # /var was removed and made again: an opaque directory, its old children deleted
    assert lines == ["C /bin", "D /bin/ls", "A /d", "A /d/e", "A /d/e/f", "A /d/link", "C /etc",
                     "C /etc/group", "C /home", "A /home/only", "C /tmp", "A /tmp/added",
                     "C /var", "A /var/only", "D /var/www"]


def test_diff_of_a_fresh_container_is_empty(pallet, busybox):
    pallet.ok("run", "--name", "fresh", "busybox", "true")
    assert pallet.ok("diff", "fresh").out == ""


def test_diff_unknown_container_exits_1(pallet):
    r = pallet("diff", "nosuch")
    assert r.code == 1 and r.err == f"{pallet.error_prefix}No such container: nosuch\n"


# ---- commit ----

@ALSO_DOCKER
def test_commit_makes_an_image_of_the_writable_layer_with_whiteouts(pallet, changed):
    before = pallet.ok("diff", changed).out
    image_id = pallet.ok("commit", "-m", "snap", "-a", "me <me@x>", "-c", "ENV MODE=committed",
                         "-c", 'CMD ["cat", "/tmp/added"]', changed, "snap:1").out.strip()
    assert image_id.startswith("sha256:")
    assert pallet.ok("run", "--rm", "snap:1").out == "new\n"
    r = pallet("run", "--rm", "snap:1", "sh", "-c", "ls /bin/ls; ls /home /var; echo $MODE")
    assert "No such file" in r.err and r.out == "/home:\nonly\n\n/var:\nonly\ncommitted\n"
    assert pallet.ok("image", "inspect", "-f", "{{.Author}}", "snap:1").out == "me <me@x>\n"
    history = pallet.ok("history", "--format", "{{.Comment}}", "snap:1").lines
    assert history[0] == "snap"
    assert pallet.ok("diff", changed).out == before  # the container is unchanged


@ALSO_DOCKER
def test_commit_pauses_a_running_container_and_leaves_it_running(pallet, busybox):
    pallet.ok("run", "-d", "--name", "live", "busybox", "sh", "-c", "echo x > /x; sleep 30")
    time.sleep(0.3)
    pallet.ok("commit", "live", "live:snap")
    state = json.loads(pallet.ok("inspect", "live").out)[0]["State"]
    assert state["Running"] and not state["Paused"]
    assert pallet.ok("run", "--rm", "live:snap", "cat", "/x").out == "x\n"


@ALSO_DOCKER
def test_commit_unknown_container_exits_1(pallet, busybox):
    r = pallet("commit", "nosuch", "x:1")
    assert r.code == 1 and r.err == f"{pallet.error_prefix}No such container: nosuch\n"
    assert "x" not in pallet.ok("images", "--format", "{{.Repository}}").lines


# ---- cp: container -> host ----

@ALSO_DOCKER
def test_cp_from_container_follows_docker_path_rules(pallet, changed, tmp_path):
    pallet.ok("cp", f"{changed}:/d", str(tmp_path))                 # into an existing dir
    pallet.ok("cp", f"{changed}:/d", str(tmp_path / "renamed"))     # to a new name
    pallet.ok("cp", f"{changed}:/d/.", str(tmp_path / "renamed"))   # contents into existing
    pallet.ok("cp", f"{changed}:/tmp/added", str(tmp_path / "file"))
    assert (tmp_path / "d/e/f").read_text() == "f\n"
    assert os.readlink(tmp_path / "d/link") == "/etc"  # copied as a link, never followed
    assert sorted(os.listdir(tmp_path / "renamed")) == ["e", "link"]
    assert (tmp_path / "file").read_text() == "new\n"


@ALSO_DOCKER
def test_cp_from_container_missing_path_exits_1(pallet, changed, tmp_path):
    (tmp_path / "dest").mkdir()
    r = pallet("cp", f"{changed}:/nosuch", str(tmp_path / "dest"))
    assert r.code == 1 and r.err == f"{pallet.error_prefix}Could not find the file /nosuch in container {changed}\n"
    assert os.listdir(tmp_path / "dest") == []


@ALSO_DOCKER
def test_cp_to_stdout_streams_a_tar(pallet, changed):
    r = pallet.ok("cp", f"{changed}:/d", "-")
    with tarfile.open(fileobj=io.BytesIO(r.out_bytes)) as tar:
        assert sorted(tar.getnames()) == ["d", "d/e", "d/e/f", "d/link"]


def test_cp_follow_link_copies_the_target_inside_the_container(pallet, changed, tmp_path):
    pallet.ok("cp", "-L", f"{changed}:/d/link", str(tmp_path / "etc"))
    assert (tmp_path / "etc/passwd").read_text().startswith("root:")


def test_cp_symlink_to_a_host_path_reads_the_container_not_the_host(pallet, busybox, tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_text("host only")
    pallet.ok("run", "--name", "evil", "busybox", "ln", "-s", str(secret), "/leak")
    r = pallet("cp", "evil:/leak/key", str(tmp_path / "got"))
    assert r.code == 1 and "Could not find the file /leak/key" in r.err
    r = pallet("cp", "-L", "evil:/leak", str(tmp_path / "got"))
    assert r.code == 1
    assert not (tmp_path / "got").exists()


# ---- cp: host -> container ----

@ALSO_DOCKER
def test_cp_into_container_file_dir_and_rename(pallet, busybox, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src/a").write_text("A")
    (tmp_path / "one").write_text("1")
    os.chown(tmp_path / "one", 1234, 1234)
    pallet.ok("create", "--name", "ctr", "busybox", "sh", "-c", "ls -n /tmp /tmp/src; cat /tmp/named")
    pallet.ok("cp", str(tmp_path / "src"), "ctr:/tmp")
    pallet.ok("cp", str(tmp_path / "one"), "ctr:/tmp/named")
    pallet.ok("cp", "-a", str(tmp_path / "one"), "ctr:/tmp/")
    out = pallet.ok("start", "-a", "ctr").out
    assert " 0        0 " in out.split("named")[0].splitlines()[-1]  # owned by the container's root
    assert any(line.split()[2:4] == ["1234", "1234"] for line in out.splitlines() if line.endswith(" one"))
    assert out.endswith("1")


@ALSO_DOCKER
def test_cp_tar_from_stdin_into_a_running_container(pallet, busybox):
    pallet.ok("run", "-d", "--name", "live", "busybox", "sleep", "30")
    pallet.ok("cp", "-", "live:/tmp", stdin=_tar({"x/y": b"streamed"}))
    assert pallet.ok("exec", "live", "cat", "/tmp/x/y").out == "streamed"
    r = pallet("cp", "-", "live:/etc/passwd", stdin=_tar({"z": b"z"}))
    assert r.code == 1 and 'must be a directory' in r.err


@ALSO_DOCKER
def test_cp_into_a_symlink_pointing_outside_stays_in_the_container(pallet, busybox, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    pallet.ok("run", "--name", "evil", "busybox", "sh", "-c",
              f"ln -s {outside} /abs; ln -s ../../../../../../../..{outside} /rel; mkdir -p {outside}")
    (tmp_path / "payload").write_text("pwn")
    for target in ("/abs/pwn", "/rel/pwn"):
        pallet.ok("cp", str(tmp_path / "payload"), f"evil:{target}")
    assert os.listdir(outside) == []  # nothing written on the host
    r = pallet.ok("cp", f"evil:{outside}/pwn", "-")  # the payload landed inside the container
    assert tarfile.open(fileobj=io.BytesIO(r.out_bytes)).extractfile("pwn").read() == b"pwn"
    r = pallet("cp", str(tmp_path / "payload"), "evil:/nosuchdir/x")
    assert r.code == 1 and "Could not find the file /nosuchdir in container evil" in r.err


def test_cp_tar_with_a_symlink_then_a_file_through_it_cannot_escape(pallet, busybox, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    pallet.ok("create", "--name", "ctr", "busybox", "true")
    r = pallet("cp", "-", "ctr:/tmp", stdin=_tar({"first": b"1", "link": str(outside), "link/pwn": b"x"}))
    assert r.code == 1
    assert r.err == (f"{pallet.error_prefix}cannot extract 'link/pwn' into the container: it goes through the "
                     f"symbolic link 'link' -> '{outside}', which leaves the container; "
                     "nothing was copied\n")
    r = pallet("cp", "-", "ctr:/tmp", stdin=_tar({"../../../../escape": b"x"}))
    assert r.code == 1 and "escapes" in r.err
    assert os.listdir(outside) == []
    assert pallet.ok("cp", "ctr:/tmp", "-").out_bytes.count(b"first") == 0  # all or nothing


def test_cp_tar_with_a_relative_symlink_leaving_the_container_leaves_nothing(pallet, busybox):
    pallet.ok("create", "--name", "ctr", "busybox", "true")
    r = pallet("cp", "-", "ctr:/tmp", stdin=_tar({"a/b": b"1", "up": "../../../../..", "up/x": b"x"}))
    assert r.code == 1 and "symbolic link 'up' -> '../../../../..', which leaves the container" in r.err
    names = tarfile.open(fileobj=io.BytesIO(pallet.ok("cp", "ctr:/tmp", "-").out_bytes)).getnames()
    assert names == ["tmp"]


def test_cp_tar_with_a_hardlink_to_a_missing_target_is_refused_and_leaves_nothing(pallet, busybox):
    """Docker: the tar is refused; before, pallet died on a FileNotFoundError and left empty
    directories named after the link's target behind."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("keep/ok")
        tar.addfile(info, io.BytesIO(b""))
        info = tarfile.TarInfo("h")
        info.type, info.linkname = tarfile.LNKTYPE, "/usr/local/host/secret"
        tar.addfile(info)
    pallet.ok("create", "--name", "ctr", "busybox", "true")
    r = pallet("cp", "-", "ctr:/tmp", stdin=buf.getvalue())
    assert r.code == 1 and r.err == (
        f"{pallet.error_prefix}cannot extract 'h' into the container: hardlink target '/usr/local/host/secret' "
        "does not exist in the archive or the container; nothing was copied\n")
    names = tarfile.open(fileobj=io.BytesIO(pallet.ok("cp", "ctr:/tmp", "-").out_bytes)).getnames()
    assert names == ["tmp"]


def test_cp_tar_from_stdin_may_be_compressed_as_docker_accepts(pallet, busybox):
    import gzip
    pallet.ok("create", "--name", "ctr", "busybox", "true")
    pallet.ok("cp", "-", "ctr:/tmp", stdin=gzip.compress(_tar({"z/y": b"zipped"})))
    out = pallet.ok("cp", "ctr:/tmp/z/y", "-").out_bytes
    assert tarfile.open(fileobj=io.BytesIO(out)).extractfile("y").read() == b"zipped"


def test_cp_sees_volumes_where_the_container_does(pallet, busybox, tmp_path):
    pallet.ok("create", "--name", "ctr", "-v", "data:/data", "busybox", "cat", "/data/f")
    (tmp_path / "f").write_text("in the volume")
    pallet.ok("cp", str(tmp_path / "f"), "ctr:/data/f")
    assert pallet.ok("start", "-a", "ctr").out == "in the volume"


def _cp_out(pallet, ref: str) -> tuple[tarfile.TarInfo, bytes]:
    with tarfile.open(fileobj=io.BytesIO(pallet.ok("cp", ref, "-").out_bytes)) as tar:
        member = tar.next()
        return member, tar.extractfile(member).read()


@pytest.mark.parametrize("running", [True, False])
def test_cp_of_bind_mounted_files_returns_their_content(pallet, busybox, tmp_path, running):
    host_file = tmp_path / "conf.txt"
    host_file.write_text("from the host\n")
    host_file.chmod(0o640)
    pallet.ok("run", "-d", "--name", "bound", "--hostname", "box", "-v", f"{host_file}:/srv/conf.txt",
              "busybox", "sleep", "1000")
    if not running:
        pallet.ok("stop", "-t", "0", "bound")
    member, data = _cp_out(pallet, "bound:/etc/hostname")
    assert (member.name, data, member.mode) == ("hostname", b"box\n", 0o644)
    assert b"box" in _cp_out(pallet, "bound:/etc/hosts")[1]
    resolv = json.loads(pallet.ok("inspect", "bound").out)[0]["ResolvConfPath"]
    assert _cp_out(pallet, "bound:/etc/resolv.conf")[1] == open(resolv, "rb").read() != b""
    member, data = _cp_out(pallet, "bound:/srv/conf.txt")
    assert (member.name, data, member.mode) == ("conf.txt", b"from the host\n", 0o640)
    pallet.ok("cp", "bound:/etc/hostname", str(tmp_path / "copied"))
    assert (tmp_path / "copied").read_text() == "box\n"
    with tarfile.open(fileobj=io.BytesIO(pallet.ok("cp", "bound:/etc", "-").out_bytes)) as tar:
        assert tar.extractfile("etc/hostname").read() == b"box\n"  # also inside a directory copy


def test_cp_onto_a_bind_mounted_file_is_refused_as_docker_and_keeps_the_mount(pallet, busybox, tmp_path):
    host_file = tmp_path / "conf.txt"
    host_file.write_text("kept\n")
    (tmp_path / "new").write_text("new\n")
    pallet.ok("run", "-d", "--name", "bound", "-v", f"{host_file}:/srv/conf.txt", "busybox", "sleep", "1000")
    for dest in ("/srv/conf.txt", "/etc/hosts"):
        r = pallet("cp", str(tmp_path / "new"), f"bound:{dest}")
        assert r.code == 1
        assert r.err == f"{pallet.error_prefix}Error processing tar file: unlinkat {dest}: device or resource busy\n"
    assert pallet.ok("exec", "bound", "cat", "/srv/conf.txt").out == "kept\n"  # the mount is intact
    assert host_file.read_text() == "kept\n"


def test_cp_into_read_only_volume_is_refused(pallet, busybox, tmp_path):
    pallet.ok("create", "--name", "ctr", "-v", "data:/data:ro", "busybox", "true")
    (tmp_path / "f").write_text("x")
    r = pallet("cp", str(tmp_path / "f"), "ctr:/data/f")
    assert r.code == 1 and "read-only" in r.err


def test_cp_between_two_local_paths_is_an_error(pallet, tmp_path):
    r = pallet("cp", str(tmp_path), str(tmp_path / "x"))
    assert r.code == 1 and "must specify at least one container source" in r.err


# ---- export ----

@ALSO_DOCKER
def test_export_writes_the_flattened_root_filesystem(pallet, changed, tmp_path):
    pallet.ok("export", "-o", str(tmp_path / "fs.tar"), changed)
    with tarfile.open(tmp_path / "fs.tar") as tar:
        names = set(tar.getnames())
        assert {"tmp/added", "home/only", "bin/busybox", "d/link"} <= names
        assert "bin/ls" not in names
        assert tar.extractfile("tmp/added").read() == b"new\n"
    r = pallet.ok("export", changed)
    assert r.out_bytes == (tmp_path / "fs.tar").read_bytes() or len(r.out_bytes) > 1 << 20


@ALSO_DOCKER
def test_commit_leaves_out_the_runtime_mount_points(pallet, busybox):
    # busybox has no /etc/hosts: runc makes empty files to mount onto, which are not changes
    pallet.ok("run", "--name", "mp", "busybox", "sh", "-c", "echo data > /kept")
    pallet.ok("commit", "mp", "mp:1")
    eng = pallet.engine
    top = eng.images.layer_dirs(eng.images.resolve("mp:1"))[-1]
    assert (top / "kept").read_text() == "data\n"
    assert not (top / "etc" / "hosts").exists() and not (top / "etc" / "resolv.conf").exists()
