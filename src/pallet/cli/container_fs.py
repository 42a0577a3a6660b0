"""`pallet container commit|cp|diff|export` (and the `commit`, `cp`, `diff`, `export` shortcuts).

Thin: decode flags and Docker's `CONTAINER:PATH` arguments, call ContainerFS, render.
"""
from __future__ import annotations

from .flags import Command, F


def _fs(ctx):
    return ctx.engine.container_fs


def _binary(stream):
    return getattr(stream, "buffer", stream)


def container_diff(ctx, o, args) -> int:
    for kind, path in _fs(ctx).diff(args[0]):
        ctx.out(f"{kind} {path}")
    return 0


def container_export(ctx, o, args) -> int:
    from ..errors import InvalidArgument
    fs = _fs(ctx)
    if o.output:
        import os
        tmp = f"{o.output}.pallet-tmp-{os.getpid()}"
        try:
            with open(tmp, "wb") as f:
                fs.export(args[0], f)
            os.replace(tmp, o.output)  # no half-written archive under the asked name
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return 0
    if ctx.stdout.isatty():
        raise InvalidArgument("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    out = _binary(ctx.stdout)
    ctx.stdout.flush()
    fs.export(args[0], out)
    out.flush()
    return 0


def container_commit(ctx, o, args) -> int:
    image_id = _fs(ctx).commit(args[0], args[1] if len(args) > 1 else None, o.author or "",
                               o.message or "", o.change, o.pause)
    ctx.out(image_id)
    return 0


def split_cp_arg(arg: str) -> tuple[str | None, str]:
    """Docker's splitCpArg: `CONTAINER:PATH` unless the argument is a local path."""
    if arg.startswith(("/", ".")) or ":" not in arg:
        return None, arg
    container, _, path = arg.partition(":")
    return container, path


def container_cp(ctx, o, args) -> int:
    from ..errors import InvalidArgument
    src_ctr, src = split_cp_arg(args[0])
    dst_ctr, dst = split_cp_arg(args[1])
    if src_ctr is None and dst_ctr is None:
        raise InvalidArgument("must specify at least one container source")
    if src_ctr is not None and dst_ctr is not None:
        raise InvalidArgument("copying between containers is not supported")
    if not (src if src_ctr else dst):
        raise InvalidArgument("filesystem path cannot be empty")  # Docker: `c:` names no path
    fs = _fs(ctx)
    if src_ctr is not None:
        if dst == "-":
            out = _binary(ctx.stdout)
            ctx.stdout.flush()
            fs.archive(src_ctr, src, out, follow=o.follow_link)
            out.flush()
        else:
            fs.copy_out(src_ctr, src, dst, archive=o.archive, follow=o.follow_link)
        return 0
    if src == "-":
        fs.extract_into(dst_ctr, _binary(ctx.stdin), dst, archive=o.archive)
    else:
        fs.copy_in(dst_ctr, src, dst, archive=o.archive, follow=o.follow_link)
    return 0


COMMANDS = [
    Command("container commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
            "Create a new image from a container's changes", container_commit, [
                F("author", "a", kind="str", help='Author (e.g., "John Hannibal Smith '
                                                  '<hannibal@a-team.com>")'),
                F("change", "c", kind="list", help="Apply Dockerfile instruction to the created image"),
                F("message", "m", kind="str", help="Commit message"),
                F("pause", "p", kind="bool", default=True,
                  help="Pause container during commit (default true)"),
            ], 1, 2),
    Command("container cp", "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
            "\tpallet cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
            "Copy files/folders between a container and the local filesystem", container_cp, [
                F("archive", "a", help="Archive mode (copy all uid/gid information)"),
                F("follow-link", "L", help="Always follow symbol link in SRC_PATH"),
                F("quiet", "q", help="Suppress progress output during copy"),
            ], 2, 2),
    Command("container diff", "CONTAINER",
            "Inspect changes to files or directories on a container's filesystem",
            container_diff, [], 1, 1),
    Command("container export", "[OPTIONS] CONTAINER", "Export a container's filesystem as a tar archive",
            container_export, [
                F("output", "o", kind="str", help="Write to a file, instead of STDOUT"),
            ], 1, 1),
]
