"""Attach, terminals, exec -t and logs of live containers, through real conmon and runc."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

from test_runtime import output, rootfs, rt  # noqa: F401  (fixtures)

from pallet.runtime import attach, logs
from pallet.runtime.monitor import attach_path
from pallet.runtime.spec import exec_process


def _frames(sock) -> list[tuple[int, bytes]]:
    got = []
    while frame := sock.recv(attach.FRAME_MAX + 1):
        got.append((frame[0], frame[1:]))
    return got


def test_run_it_is_interactive_through_the_attach_socket(rt):
    container_id, bundle = rt.create(["sh"], terminal=True, stdin=True)
    try:
        sock = attach.connect(attach_path(bundle))
        rt.monitor.start(container_id)
        attach.resize(bundle, 40, 123)
        sock.sendall(b"stty size; tty; echo hel''lo; exit 5\n")
        frames = _frames(sock)
        text = b"".join(data for _, data in frames)
        assert {stream for stream, _ in frames} == {attach.STDOUT_FRAME}  # a tty has one stream
        assert b"40 123\r\n" in text
        assert b"/dev/pts/0\r\nhello\r\n" in text
        assert rt.monitor.wait_exit(container_id, bundle, timeout=10) == 5
    finally:
        rt.monitor.delete(container_id, force=True)


def test_attach_without_tty_keeps_stdout_and_stderr_apart_and_forwards_stdin(rt):
    container_id, bundle = rt.create(["sh", "-c", "read line; echo got-$line; echo oops >&2"],
                                     stdin=True)
    try:
        sock = attach.connect(attach_path(bundle))
        rt.monitor.start(container_id)
        stdin_r, stdin_w = os.pipe()
        os.write(stdin_w, b"abc\n")
        os.close(stdin_w)
        out, err = io.BytesIO(), io.BytesIO()
        with os.fdopen(stdin_r, "rb") as stdin:
            attach.relay(sock, out, err, stdin)
        assert out.getvalue() == b"got-abc\n"
        assert err.getvalue() == b"oops\n"
        assert rt.monitor.wait_exit(container_id, bundle, timeout=10) == 0
    finally:
        rt.monitor.delete(container_id, force=True)


def test_exec_t_gets_a_terminal(rt):
    container_id, bundle = rt.create(["sleep", "100"])
    master, slave = os.openpty()
    try:
        rt.monitor.start(container_id)
        base = json.loads((Path(bundle) / "config.json").read_text())["process"]
        code = rt.runc.exec(container_id, exec_process(base, ["sh", "-c", "tty; exit 4"], terminal=True),
                            stdin=slave, stdout=slave, stderr=slave)
        assert code == 4
        assert b"/dev/pts/" in os.read(master, 4096)
    finally:
        os.close(master)
        os.close(slave)
        rt.monitor.delete(container_id, force=True)


def test_logs_follow_streams_until_the_container_exits(rt):
    container_id, bundle = rt.create(["sh", "-c", "echo one; sleep 0.3; echo two >&2"])
    try:
        rt.monitor.start(container_id)
        records = list(logs.read_logs(
            bundle / "ctr.log", follow=True, poll=0.02,
            running=lambda: rt.monitor.exit_code(container_id) is None))
        assert [(r.stream, r.data) for r in records] == [("stdout", b"one\n"),
                                                         ("stderr", b"two\n")]
        assert records[0].time < records[1].time
    finally:
        rt.monitor.delete(container_id, force=True)


def test_output_without_trailing_newline_is_kept(rt):
    code, records = rt.run(["printf", "no-newline"])
    assert code == 0
    assert output(records) == "no-newline"


def test_resources_reach_the_cgroup(rt):
    from pallet.runtime.spec import Resources
    code, records = rt.run(
        ["sh", "-c", "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes"],
        resources=Resources(pids_limit=50, memory=64 * 1024 * 1024))
    assert code == 0, output(records, "stderr")
    assert output(records).split() == ["50", str(64 * 1024 * 1024)]


def _rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_conmon_stays_small(rt):
    """One conmon per container: its resident memory stays far below a daemon's (timings
    are bench/'s business, not a test's)."""
    container_id, bundle = rt.create(["sleep", "100"])
    try:
        rt.monitor.start(container_id)
        rss = _rss_kib(rt.monitor.conmon_pid(bundle))
    finally:
        rt.monitor.delete(container_id, force=True)
    assert 0 < rss < 16 * 1024
