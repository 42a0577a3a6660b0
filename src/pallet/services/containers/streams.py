"""What flows in and out of a running container: `exec`, `logs`, `attach`.

Owns Docker's rules for each (exec only in a running, unpaused container; logs of
the rotated files, then the live one, tail counted across both; attach only to a
running container). The edges hand in their own streams (exec) or get back
records (logs), an `Attachment` (attach) or an `ExecTerminal` (exec -it) to relay.
"""
from __future__ import annotations

import os

from ...errors import Conflict, PalletError
from ..container_types import ExecRequest, LogsRequest


def exec_create(svc, req: ExecRequest) -> ExecRequest:
    """An exec instance (`POST /containers/{id}/exec`): `req` for the container's full ID
    with a new exec ID, its exec_create event recorded, as dockerd's ContainerExecCreate."""
    return _created(svc, exec_target(svc, req.container), req)


def _created(svc, record: dict, req: ExecRequest) -> ExecRequest:
    from ...record import replace
    req = replace(req, container=record["Id"], exec_id=os.urandom(32).hex())
    svc.events().container_exec("exec_create", record, req.exec_id, req.cmd)
    return req


def exec_in(svc, req: ExecRequest, stdin=None, stdout=None, stderr=None) -> int:
    """Run `req.cmd` in the container; its exit code (0 at once with `detach`). The streams
    are files with a descriptor, or None (runc's own stdio); stdin is ignored without
    `interactive`."""
    import subprocess
    record, process, exec_id = _exec_process(svc, req)
    cid = record["Id"]
    code = svc.monitor_of(cid).runc.exec(cid, process, detach=req.detach,
                                         stdin=stdin if req.interactive else subprocess.DEVNULL,
                                         stdout=stdout, stderr=stderr, guard=svc.exec_guard(cid))
    if not req.detach:  # a detached process ends unwatched: nobody is left to see it die
        svc.events().container_exec("exec_die", record, exec_id, exitCode=code)
    return code


def exec_terminal(svc, req: ExecRequest):
    """`exec -it` as an attachment to relay (`runtime.exec_terminal.ExecTerminal`): the
    edge relays it (detach keys included), resizes it, then asks `wait()` for the code;
    a detach (`relay` true) is an exec_detach event, the code an exec_die."""
    record, process, exec_id = _exec_process(svc, req)
    cid = record["Id"]
    terminal = svc.monitor_of(cid).runc.exec_terminal(cid, process, size=req.console_size,
                                                      guard=svc.exec_guard(cid))
    return _RecordedTerminal(terminal, lambda stage, **extra: svc.events().container_exec(
        stage, record, exec_id, **extra))


class _RecordedTerminal:
    """An `exec -it` terminal whose detach and exit are recorded, as dockerd logs them
    (exec_detach, exec_die); everything else is the terminal's own."""

    def __init__(self, terminal, record_event):
        self._terminal, self._record = terminal, record_event

    def __getattr__(self, name):
        return getattr(self._terminal, name)

    def relay(self, *args, **kwargs) -> bool:
        detached = self._terminal.relay(*args, **kwargs)
        if detached:
            self._record("exec_detach")
        return detached

    def wait(self) -> int:  # the exit is seen only by a caller that waits for it
        code = self._terminal.wait()
        self._record("exec_die", exitCode=code)
        return code

    def __enter__(self):
        self._terminal.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._terminal.__exit__(*exc)


def _exec_process(svc, req: ExecRequest) -> tuple[dict, dict, str]:
    """The record, the OCI process and the exec ID of an exec about to start, with its
    exec_create (unless `exec_create` made the instance) and exec_start events recorded.
    As dockerd, exec_start comes before the start can fail (an unknown user, a missing
    command), and only a process that ran has an exec_die."""
    record = exec_target(svc, req.container)
    if req.exec_id is None:  # `pallet exec`: create and start in one call
        req = _created(svc, record, req)
    svc.events().container_exec("exec_start", record, req.exec_id, req.cmd)
    process = svc.exec_process(record, req.cmd, env=req.env, workdir=req.workdir, user=req.user,
                               tty=req.tty, privileged=req.privileged)
    return record, process, req.exec_id


def exec_target(svc, ref: str) -> dict:
    """The record of a container a process may join: running and not paused (checked by
    `exec` itself, and by `POST /containers/{id}/exec` before an instance is made)."""
    record = svc.get(ref)
    if not record["State"]["Running"]:
        raise Conflict(f"Container {record['Id']} is not running")
    if record["State"]["Paused"]:
        raise Conflict(f"Container {ref} is paused, unpause the container before exec")
    return record


def logs(svc, req: LogsRequest):
    """The container's log records (`.stream`, `.data`, `.time`, `.timestamp()`), oldest
    first: the rotated files, then the live log, followed while the container runs."""
    from datetime import datetime, timezone
    from .config import check_logs_readable
    record = svc.get(req.container)
    check_logs_readable(record)  # --log-driver none keeps nothing to read
    cid = record["Id"]

    def when(ts: float | None):
        return None if ts is None else datetime.fromtimestamp(ts, timezone.utc)

    def running() -> bool:
        try:
            return svc.get(cid)["State"]["Running"]
        except PalletError:  # removed meanwhile: stop following
            return False
    return _records(record["LogPath"], when(req.since), when(req.until), req.tail, req.follow, running)


def _records(log_path: str, since, until, tail, follow, running):
    from ...runtime.logs import read_logs
    from .log_rotation import log_files
    *rotated, live = log_files(log_path)
    old = [r for p in rotated for r in read_logs(p, since=since, until=until)]
    if not follow:
        records = old + list(read_logs(live, since=since, until=until))
        yield from (records if tail is None else records[-tail:] if tail > 0 else [])
        return
    live_count = sum(1 for _ in read_logs(live, since=since, until=until)) if tail is not None else 0
    if tail is None:
        yield from old
    elif tail > live_count:
        yield from old[-(tail - live_count):]
    yield from read_logs(live, since=since, until=until, tail=tail, follow=True, running=running)


def attach(svc, ref: str):
    """An `Attachment` to a running container's stdio (conmon's attach socket)."""
    from ...runtime.attach import Attachment, connect
    from ...runtime.monitor import attach_path
    record = svc.get(ref)
    cid = record["Id"]
    if not record["State"]["Running"]:
        raise Conflict("You cannot attach to a stopped container, start it first")
    return Attachment(connect(attach_path(svc.userdata(cid))), svc.userdata(cid),
                      open_stdin=record["Config"]["OpenStdin"], tty=record["Config"]["Tty"])
