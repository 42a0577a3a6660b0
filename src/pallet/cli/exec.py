"""`pallet exec`: a process in a running container, its exit code passed through.

Thin: flags -> ExecRequest -> `engine.containers.exec`. What is left here is the
CLI's own stdio: in-process callers (tests) have streams without descriptors,
whose output is relayed through temporary files.
"""
from __future__ import annotations

from .terminal import check_tty, fileno


def run_exec(ctx, o, args) -> int:
    from ..opts.env import env_options
    from ..services.container_types import ExecRequest
    if not o.detach:
        check_tty(ctx.stdin, o.tty, o.interactive)
    req = ExecRequest(container=args[0], cmd=args[1:], env=env_options(o.env, o.env_file),
                      user=o.user, workdir=o.workdir, tty=o.tty, interactive=o.interactive,
                      detach=o.detach, privileged=o.privileged)
    svc = ctx.engine.containers
    if fileno(ctx.stdout) is None or fileno(ctx.stderr) is None:
        return _captured(ctx, svc, req)
    if fileno(ctx.stdin) is None:
        req.interactive = False  # nothing to hand on: the process reads /dev/null
    return svc.exec(req, stdin=ctx.stdin, stdout=ctx.stdout, stderr=ctx.stderr)


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
