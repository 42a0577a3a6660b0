"""A pallet process killed (kill -9) at a named point leaves nothing that pallet cannot clean:
`system check` reports it (and fails, as podman's does), `system check --repair` removes it,
and the prunes sweep the store's part of it. Each test stops the real process at the point
(PALLET_TEST_STOP_AT, see pallet.crash_point) and kills it there."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from polling import wait_for


def _killed_at(pallet, point: str, *argv: str) -> None:
    """Run `pallet argv` until it reaches `point`, then kill -9 it there."""
    env = {**os.environ, "PALLET_TEST_STOP_AT": point}
    proc = subprocess.Popen([sys.executable, "-m", "pallet.cli.main", "--root", str(pallet.root),
                             "--runroot", str(pallet.runroot), *argv],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def stopped():
        with open(f"/proc/{proc.pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] == "T" or proc.poll() is not None
    assert wait_for(stopped, 60), f"pallet {argv} never reached {point}"
    assert proc.poll() is None, f"pallet {argv} ended before {point}: {proc.stderr.read().decode()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _check_reports(pallet, *expected: str) -> list[str]:
    r = pallet("system", "check")
    assert r.code == 1 and "damage detected in local storage" in r.err, (r.out, r.err)
    for text in expected:
        assert text in r.out, r.out
    return r.lines


def _repaired(pallet) -> None:
    r = pallet("system", "check", "--repair")
    assert r.code == 0, (r.out, r.err)
    assert r.lines and all(line.startswith(("Removed leftover", "Deleted damaged")) for line in r.lines), r.out
    assert pallet("system", "check").code == 0


def test_rm_killed_after_the_record_went_leaves_only_trash_that_check_repairs(pallet, busybox):
    cid = pallet.ok("run", "-d", "busybox", "sleep", "60").out.strip()
    _killed_at(pallet, "rm:record-deleted", "rm", "-f", cid)
    assert pallet.ok("ps", "-aq").out == ""
    assert not (pallet.root / "containers" / cid).exists()
    assert not (pallet.runroot / "containers" / cid).exists()
    _check_reports(pallet, "/trash/c-" + cid[:12])
    _repaired(pallet)
    assert list((pallet.root / "trash").iterdir()) == []


def test_rm_killed_before_the_record_went_leaves_a_record_rm_finishes(pallet, busybox):
    cid = pallet.ok("create", "--name", "half", "busybox", "true").out.strip()
    _killed_at(pallet, "rm:storage-in-trash", "rm", "half")
    _check_reports(pallet, f"Damaged container {cid}: its storage is missing")
    pallet.ok("rm", "half")  # what the killed rm did not finish, a second one does
    assert pallet.ok("ps", "-aq").out == ""
    _repaired(pallet)  # the trash entry the killed rm left


def test_run_rm_killed_while_removing_its_container_leaves_trash_container_prune_sweeps(pallet, busybox):
    _killed_at(pallet, "rm:record-deleted", "run", "--rm", "busybox", "true")
    assert pallet.ok("ps", "-aq").out == ""
    _check_reports(pallet, "/trash/c-")
    r = pallet.ok("container", "prune", "-f")
    assert r.lines[-1] != "Total reclaimed space: 0B", r.out
    assert list((pallet.root / "trash").iterdir()) == []
    assert pallet("system", "check").code == 0


def test_import_killed_midway_leaves_a_staged_layer_that_volume_prune_sweeps_too(pallet, busybox_tar):
    _killed_at(pallet, "layer:unpacked", "import", str(busybox_tar), "half")
    pallet.ok("volume", "prune", "-f")  # any prune sweeps what dead processes left in the store
    assert [p.name for p in (pallet.root / "layers").iterdir() if p.name.startswith(".tmp-")] == []
    assert pallet("system", "check").code == 0


def test_a_cleanup_racing_rm_never_makes_the_container_directory_again(pallet, busybox):
    cid = pallet.ok("create", "busybox", "true").out.strip()
    svc = pallet.engine.containers
    pallet.ok("rm", cid)
    from pallet.errors import NotFound
    try:
        with svc._locked(cid):
            raise AssertionError("locked a removed container")
    except NotFound:
        pass
    svc.cleanup(cid)
    assert not (pallet.root / "containers" / cid).exists()
    assert pallet.ok("system", "check").out == ""
    # what the old lock helper left: a directory holding only `lock`, which prunes now sweep
    (pallet.root / "containers" / cid).mkdir()
    (pallet.root / "containers" / cid / "lock").touch()
    _check_reports(pallet, f"/containers/{cid}: container storage without a container")
    pallet.ok("system", "prune", "-f")
    assert not (pallet.root / "containers" / cid).exists()


def test_build_killed_leaves_scratch_that_builder_prune_sweeps(pallet, busybox, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "big").write_bytes(os.urandom(2 << 20))
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY big /big\n")
    _killed_at(pallet, "build:layer-tar-written", "build", "-t", "app", str(ctx))
    left = [p.name for p in (pallet.root / "ingest").iterdir()]
    assert left, "the killed build left nothing to sweep: the test tests nothing"
    lines = _check_reports(pallet, "scratch of a process that is gone")
    assert len([line for line in lines if "/ingest/" in line]) == len(left)
    df = pallet.ok("system", "df", "--format", "{{.Type}} {{.Size}}").lines
    assert "Build Cache 0B" not in df, df
    r = pallet.ok("builder", "prune", "-a", "-f")
    assert r.lines[-1] != "Total reclaimed space: 0B", r.out
    assert list((pallet.root / "ingest").iterdir()) == []
    assert pallet("system", "check").code == 0


def test_a_running_build_keeps_its_scratch_through_a_prune(pallet, busybox, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "f").write_text("x")
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY f /f\n")
    env = {**os.environ, "PALLET_TEST_STOP_AT": "build:layer-tar-written"}
    proc = subprocess.Popen([sys.executable, "-m", "pallet.cli.main", "--root", str(pallet.root),
                             "--runroot", str(pallet.runroot), "build", "-t", "app", str(ctx)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: any(p.name.endswith(".lease") for p in (pallet.root / "ingest").iterdir())
                        and open(f"/proc/{proc.pid}/stat").read().rpartition(")")[2].split()[0] == "T", 60)
        before = sorted(p.name for p in (pallet.root / "ingest").iterdir())
        pallet.ok("system", "prune", "-a", "-f")
        assert sorted(p.name for p in (pallet.root / "ingest").iterdir()) == before
        os.kill(proc.pid, signal.SIGCONT)
        assert proc.wait(60) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert list((pallet.root / "ingest").iterdir()) == []
    assert pallet("system", "check").code == 0


def test_import_killed_after_unpacking_leaves_a_staged_layer_that_check_repairs(pallet, busybox_tar):
    _killed_at(pallet, "layer:unpacked", "import", str(busybox_tar), "half")
    assert [p for p in (pallet.root / "layers").iterdir() if p.name.startswith(".tmp-")]
    _check_reports(pallet, "layer unpacked by a process that is gone")
    _repaired(pallet)
    assert [p.name for p in (pallet.root / "layers").iterdir() if p.name.startswith(".tmp-")] == []


def test_check_finds_a_layer_whose_files_changed_and_repair_removes_its_images(pallet, busybox):
    layer = next(d for d in (pallet.root / "layers").iterdir() if not d.name.startswith("."))
    victim = next(p for p in sorted((layer / "diff").rglob("*")) if p.is_file() and not p.is_symlink()
                  and p.stat().st_size > 0)
    data = bytearray(victim.read_bytes())
    data[0] ^= 0xFF  # one flipped bit of rot, the size unchanged
    victim.chmod(0o644)
    victim.write_bytes(bytes(data))
    assert pallet("system", "check", "--quick").code == 0  # --quick does not hash layers
    r = pallet("system", "check")
    assert r.code == 1 and "Damaged layer sha256:" in r.out and "does not match its diff ID" in r.out
    r = pallet("system", "check", "--repair")
    assert r.code == 0, r.err
    assert f"Deleted damaged image: {busybox}" in r.out
    assert pallet.ok("images", "-q").out == ""


def test_a_killed_monitor_leaves_mount_cgroup_and_network_that_repair_removes(pallet, busybox):
    """conmon and the container killed at once: no exit command ever runs, so the rootfs
    stays mounted and the cgroup, namespace and nft rules stay set up."""
    cid = pallet.ok("run", "-d", "busybox", "sleep", "600").out.strip()
    userdata = pallet.root / "containers" / cid / "userdata"
    conmon = int((userdata / "conmon.pid").read_text())
    container = int((userdata / "pidfile").read_text())
    os.kill(conmon, signal.SIGKILL)
    os.kill(container, signal.SIGKILL)

    def dead(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rpartition(")")[2].split()[0] in ("Z", "X")
        except FileNotFoundError:
            return True
    assert wait_for(lambda: dead(conmon) and dead(container), 10)
    lines = _check_reports(pallet, "root filesystem mounted, container not running",
                           "cgroup of a container not running", f"network endpoint {cid}")
    assert all(line.startswith("Leftover ") for line in lines), lines
    _repaired(pallet)
    with open("/proc/self/mountinfo") as f:
        assert str(pallet.runroot / "containers" / cid) not in f.read()
    assert not (pallet.runroot / "network" / "endpoints" / cid).exists()
    pallet.ok("rm", cid)  # the record itself was never damage: rm takes it
    assert pallet("system", "check").code == 0


def test_repair_keeps_a_damaged_image_a_container_uses_unless_forced(pallet, busybox):
    cid = pallet.ok("create", "busybox", "true").out.strip()
    layer = next(d for d in (pallet.root / "layers").iterdir() if not d.name.startswith("."))
    os.rename(layer / "tar-split.gz", layer / "moved")  # the layer can no longer be read back
    r = pallet("system", "check", "--repair")
    assert r.code == 1 and "still present after repair attempt" in r.err, (r.out, r.err)
    assert f"Damaged container {cid}: its image {busybox} is damaged" in r.out
    assert f"Damaged image {busybox}:" in r.out and "Deleted damaged image" not in r.out
    assert pallet.ok("ps", "-aq", "--no-trunc").lines == [cid]
    assert pallet.ok("images", "--format", "{{.Repository}}").lines == ["busybox"]  # not even untagged
    r = pallet("system", "check", "--force")
    assert r.code == 0, r.err
    assert f"Deleted damaged container: {cid}" in r.out and f"Deleted damaged image: {busybox}" in r.out
    assert pallet.ok("ps", "-aq").out == "" and pallet.ok("images", "-q").out == ""


def test_check_finds_nft_rules_that_are_not_what_the_endpoints_call_for(pallet, busybox):
    """As a process killed between dropping the applied ruleset and writing the new one leaves it."""
    pallet.ok("run", "-d", "--name", "web", "-p", "127.0.0.1:18089:80", "busybox", "sleep", "600")
    assert pallet("system", "check", "--quick").code == 0
    (pallet.runroot / "network" / "ruleset.nft").unlink()
    _check_reports(pallet, "Leftover nft table", "rules that the endpoints no longer call for")
    _repaired(pallet)
    assert (pallet.runroot / "network" / "ruleset.nft").exists()
    pallet.ok("rm", "-f", "web")
    assert pallet("system", "check", "--quick").code == 0


def test_rmi_killed_before_its_sweep_leaves_layers_check_counts_past_max_age(pallet, busybox):
    _killed_at(pallet, "rmi:image-deleted", "rmi", "busybox")
    assert pallet.ok("images", "-q").out == ""
    assert pallet("system", "check").code == 0  # younger than --max (24h): maybe a pull's
    r = pallet("system", "check", "--max", "0s")
    assert r.code == 1 and "layer used by no image" in r.out, r.out
    r = pallet("system", "check", "--repair", "-m", "0s")
    assert r.code == 0 and r.out.startswith("Removed leftover sha256:"), (r.out, r.err)
    assert [d for d in (pallet.root / "layers").iterdir() if not d.name.startswith(".")] == []
