"""`pallet exec`: a process in a running container, its exit code passed through.

Thin: flags -> ExecRequest -> `engine.containers.exec`. What is left here is the
CLI's own stdio: in-process callers (tests) have streams without descriptors,
whose output is relayed through temporary files.
"""
from __future__ import annotations

import os

from .terminal import check_tty, fileno, relaying, terminal_size


def run_exec(ctx, o, args) -> int:
    from ..opts.env import env_options
    from ..services.container_types import ExecRequest
    keys = None
    if not o.detach:
        check_tty(ctx.stdin, o.tty, o.interactive)
    if o.detach_keys or (o.tty and o.interactive and not o.detach):
        from .dockerconfig import detach_keys  # Docker checks them at exec create, -d too
        keys = detach_keys(ctx, o.detach_keys, word="escape")
    req = ExecRequest(container=args[0], cmd=args[1:], env=env_options(o.env, o.env_file),
                      user=o.user, workdir=o.workdir, tty=o.tty, interactive=o.interactive,
                      detach=o.detach, privileged=o.privileged)
    svc = ctx.engine.containers
    if fileno(ctx.stdout) is None or fileno(ctx.stderr) is None:
        return _captured(ctx, svc, req)
    stdin_fd = fileno(ctx.stdin)
    if o.tty and o.interactive and not o.detach and stdin_fd is not None and os.isatty(stdin_fd):
        req.console_size = terminal_size(ctx.stdout)
        return _in_terminal(ctx, svc, req, keys)
    if stdin_fd is None:
        req.interactive = False  # nothing to hand on: the process reads /dev/null
    return svc.exec(req, stdin=ctx.stdin, stdout=ctx.stdout, stderr=ctx.stderr)


def _in_terminal(ctx, svc, req, keys: bytes | None) -> int:
    """exec -it on the user's terminal: raw, resized, detachable (Docker's detach prints
    moby's EscapeError text and exits 1; the process runs on)."""
    def binary(stream):
        return getattr(stream, "buffer", stream)
    with svc.exec_terminal(req) as attachment:
        with relaying(ctx.stdin, attachment):
            detached = attachment.relay(binary(ctx.stdout), binary(ctx.stderr), binary(ctx.stdin), keys)
        if detached:
            ctx.err("read escape sequence")
            return 1
        return attachment.wait()


def _captured(ctx, svc, req) -> int:
    import tempfile
    req.interactive = False
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        code = svc.exec(req, stdout=out, stderr=err)
        out.seek(0)
        err.seek(0)
        getattr(ctx.stdout, "buffer", ctx.stdout).write(out.read())
        getattr(ctx.stderr, "buffer", ctx.stderr).write(err.read())
    return code
