"""`pallet compose watch`: docker compose v2's `develop.watch` rules (sync, sync+restart,
rebuild) applied to a running project as its files change, and the errors compose gives
before it watches anything. `watch` runs as a process of its own, ended by a signal as a
user ends it with ^C (compose exits 130; the containers keep running)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

from polling import wait_for
from test_compose import project  # noqa: F401 - the fixture


class WatchProcess:
    """`pallet compose watch` in the project directory, its output in files."""

    def __init__(self, project, *args):
        self.out_path, self.err_path = project.dir / "watch.out", project.dir / "watch.err"
        pallet = project.pallet
        cmd = [sys.executable, "-m", "pallet.cli.main", "--root", str(pallet.root), "--runroot",
               str(pallet.runroot), "compose", "watch", *args]
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=project.dir)

    @property
    def out(self) -> str:
        return self.out_path.read_text()

    @property
    def err(self) -> str:
        return self.err_path.read_text()

    def started(self) -> bool:
        return wait_for(lambda: "Watch enabled" in self.out or self.proc.poll() is not None, 120) \
            and self.proc.poll() is None

    def stop(self, sig=signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop(signal.SIGKILL)


def _write(project, text: str) -> None:
    (project.dir / "compose.yaml").write_text(textwrap.dedent(text))


def _cat(project, path: str) -> str | None:
    r = project("exec", "-T", "app", "cat", path)
    return r.out if r.code == 0 else None


def test_compose_watch_syncs_changes_deletes_removed_files_and_skips_ignored_ones(project):
    """`initial_sync` copies what is there first; then each change, as it comes; a second
    watch of the project is refused."""
    _write(project, """
        services:
          app:
            image: busybox
            stop_signal: SIGKILL
            command: ["sleep", "600"]
            develop:
              watch:
                - {action: sync, path: ./src, target: /app, ignore: ["*.tmp"], initial_sync: true}
        """)
    src = project.dir / "src"
    src.mkdir()
    (src / "before.txt").write_text("there before\n")
    (src / "before.tmp").write_text("ignored\n")
    with WatchProcess(project) as watch:
        assert watch.started(), watch.err
        second = project("watch")  # one watch of a project at a time, as compose's lock
        assert (second.code, second.err) == (1, 'cannot take exclusive lock for project "shop": '
                                                f"process with PID {watch.proc.pid} is still running\n")
        assert _cat(project, "/app/before.txt") == "there before\n"  # initial_sync
        assert _cat(project, "/app/before.tmp") is None
        (src / "hello.txt").write_text("hello\n")
        assert wait_for(lambda: _cat(project, "/app/hello.txt") == "hello\n", 30), watch.out + watch.err
        assert 'Syncing service "app" after 1 changes were detected' in watch.out
        (src / "scratch.tmp").write_text("ignored\n")
        (src / "sub").mkdir()
        (src / "sub" / "deep.txt").write_text("deep\n")
        assert wait_for(lambda: _cat(project, "/app/sub/deep.txt") == "deep\n", 30), watch.out + watch.err
        assert _cat(project, "/app/scratch.tmp") is None  # `ignore` is relative to the path
        (src / "hello.txt").unlink()
        assert wait_for(lambda: _cat(project, "/app/hello.txt") is None, 30), watch.out + watch.err
        assert watch.stop() == 130
    assert watch.out.rstrip().endswith("Watch disabled")
    assert project("ps", "--format", "{{.State}}").out == "running\n"  # watch leaves them running


def test_compose_watch_sync_restart_restarts_the_container_and_sync_exec_runs_its_command(project):
    _write(project, """
        services:
          app:
            image: busybox
            stop_signal: SIGKILL
            command: ["sleep", "600"]
            develop:
              watch:
                - {action: sync+restart, path: ./conf, target: /etc/app}
                - action: sync+exec
                  path: ./hooks
                  target: /hooks
                  exec: {command: "sh -c 'cat /hooks/in > /hooks/out'", environment: {X: "1"}}
        """)
    (project.dir / "conf").mkdir()
    (project.dir / "hooks").mkdir()

    def started_at():
        return json.loads(project.pallet.ok("inspect", "shop-app-1").out)[0]["State"]["StartedAt"]
    with WatchProcess(project, "--no-up") as watch:
        assert project("up", "-d").code == 0
        first = started_at()
        assert watch.started(), watch.err
        (project.dir / "conf" / "app.conf").write_text("level=2\n")
        assert wait_for(lambda: 'service(s) ["app"] restarted' in watch.out, 30), watch.out + watch.err
        assert started_at() != first
        assert _cat(project, "/etc/app/app.conf") == "level=2\n"
        (project.dir / "hooks" / "in").write_text("hooked\n")
        assert wait_for(lambda: _cat(project, "/hooks/out") == "hooked\n", 30), watch.out + watch.err
        assert watch.stop(signal.SIGTERM) == 130


def test_compose_watch_rebuild_recreates_the_container_with_the_new_image(project):
    _write(project, """
        services:
          app:
            build: ./web
            stop_signal: SIGKILL
            develop:
              watch:
                - {action: rebuild, path: ./web}
        """)
    web = project.dir / "web"
    web.mkdir()
    (web / "Dockerfile").write_text('FROM busybox\nCOPY msg /msg\nCMD ["sleep", "600"]\n')
    (web / "msg").write_text("one\n")
    with WatchProcess(project, "--quiet") as watch:
        assert watch.started(), watch.err
        before = project.pallet.ok("inspect", "shop-app-1").out
        assert _cat(project, "/msg") == "one\n"
        (web / "msg").write_text("two\n")
        assert wait_for(lambda: 'service(s) ["app"] successfully built' in watch.out and
                        _cat(project, "/msg") == "two\n", 60), watch.out + watch.err
        assert 'Rebuilding service(s) ["app"] after changes were detected...' in watch.out
        old, new = json.loads(before)[0], json.loads(project.pallet.ok("inspect", "shop-app-1").out)[0]
        assert new["Id"] != old["Id"] and new["Image"] != old["Image"]
        assert project.pallet("image", "inspect", old["Image"]).code == 1  # --prune (the default)
        assert watch.stop() == 130


def test_compose_watch_refuses_a_project_without_rules_or_a_rebuild_without_build(project):
    _write(project, """
        services:
          app: {image: busybox, command: ["sleep", "600"]}
        """)
    r = project("watch")
    assert (r.code, r.err) == (1, "none of the selected services is configured for watch, "
                                  "consider setting a 'develop' section\n")
    _write(project, """
        services:
          app:
            image: busybox
            develop: {watch: [{action: rebuild, path: .}]}
        """)
    r = project("watch")
    assert (r.code, r.err) == (1, "can't watch service \"app\" with action rebuild without a build context\n")
    _write(project, """
        services:
          app:
            image: busybox
            develop: {watch: [{action: sync, path: .}]}
        """)
    r = project("watch")
    assert r.code == 1 and "target is required for non-rebuild actions" in r.err
    assert project("ps", "-a", "-q").out == ""  # refused before anything was made


def test_compose_watch_sync_never_writes_outside_the_container(project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "secret").write_text("host secret\n")
    _write(project, f"""
        services:
          app:
            image: busybox
            stop_signal: SIGKILL
            command: ["sh", "-c", "mkdir -p /app && ln -s {outside} /app/out && exec sleep 600"]
            develop:
              watch:
                - {{action: sync, path: ./src, target: /app}}
                - {{action: sync, path: ./up, target: ../../../../../../../../{outside}/up}}
        """)
    src, up = project.dir / "src", project.dir / "up"
    src.mkdir()
    up.mkdir()
    with WatchProcess(project) as watch:
        assert watch.started(), watch.err
        assert wait_for(lambda: project("exec", "-T", "app", "test", "-L", "/app/out").code == 0, 30)
        (src / "out").mkdir()  # the container's /app/out is a symlink to a host-looking path
        (src / "out" / "pwned").write_text("x\n")
        os.symlink(tmp_path / "secret", src / "link")  # a host symlink leading out of the project
        assert wait_for(lambda: watch.out.count("Syncing service") >= 1, 30), watch.out + watch.err
        (up / "pwned").write_text("x\n")  # a target climbing out of the container's root
        assert wait_for(lambda: "its path escapes the container; nothing was copied" in watch.err, 30), watch.err
        (src / "last.txt").write_text("done\n")
        assert wait_for(lambda: _cat(project, "/app/last.txt") == "done\n", 30), watch.out + watch.err
        assert project("exec", "-T", "app", "readlink", "/app/link").out == f"{tmp_path}/secret\n"
        assert _cat(project, "/app/link") is None  # the link went in, not the host file it names
        assert watch.stop() == 130
    assert list(outside.iterdir()) == []  # nothing reached the host through either path
