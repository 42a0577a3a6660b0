"""`pallet exec`: a process in a running container, its exit code passed through."""
from __future__ import annotations

import subprocess

from ..errors import Conflict


def _stream_or_pipe(stream):
    try:
        stream.fileno()
        return stream, False
    except (AttributeError, OSError, ValueError):
        return subprocess.PIPE, True


def run_exec(ctx, o, args) -> int:
    from ..opts.env import env_options
    from .containers import check_tty
    if not o.detach:
        check_tty(ctx, o.tty, o.interactive)
    svc = ctx.engine.containers
    record = svc.get(args[0])
    if not record["State"]["Running"]:
        raise Conflict(f"Container {record['Id']} is not running")
    if record["State"]["Paused"]:
        raise Conflict(f"Container {args[0]} is paused, unpause the container before exec")
    env = env_options(o.env, o.env_file)
    stdout, _ = _stream_or_pipe(ctx.stdout)
    stderr, _ = _stream_or_pipe(ctx.stderr)
    stdin = ctx.stdin if o.interactive else subprocess.DEVNULL
    if o.interactive:
        stdin, _ = _stream_or_pipe(ctx.stdin)
    if stdout is subprocess.PIPE or stderr is subprocess.PIPE:
        return _captured(ctx, svc, record, o, args, env)
    process = svc.exec_process(record, args[1:], env=env, workdir=o.workdir, user=o.user, tty=o.tty,
                               privileged=o.privileged)
    return svc.monitor_of(record["Id"]).runc.exec(record["Id"], process, detach=o.detach, stdin=stdin,
                                                  stdout=stdout, stderr=stderr,
                                                  guard=svc.exec_guard(record["Id"]))


def _captured(ctx, svc, record, o, args, env) -> int:
    """In-process callers (tests) have no file descriptors: relay through files."""
    import tempfile
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = svc.exec_process(record, args[1:], env=env, workdir=o.workdir, user=o.user,
                                   tty=o.tty, privileged=o.privileged)
        code = svc.monitor_of(record["Id"]).runc.exec(record["Id"], process, detach=o.detach,
                                                      stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                                      guard=svc.exec_guard(record["Id"]))
        out.seek(0)
        err.seek(0)
        getattr(ctx.stdout, "buffer", ctx.stdout).write(out.read())
        getattr(ctx.stderr, "buffer", ctx.stderr).write(err.read())
    return code
