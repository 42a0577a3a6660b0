"""`pallet image ...` and its shortcuts (images, rmi, tag, import, history, save, load).

Thin: decode flags, call one ImageService method, render. No behaviour here.
"""
from __future__ import annotations

import time

from .flags import Command, F
from . import render


def _filters(values: list[str]) -> dict[str, list[str]]:
    from ..opts.filters import parse_filters
    return parse_filters(values)


def images_ls(ctx, o, args) -> int:
    svc = ctx.engine.images
    # docker/cli: -q is the ID of every row (an image with two tags twice), and only where the
    # format is the table; `needDigest` is a plain substring test of the format
    quiet = o.quiet and o.format in (None, "", "table")
    rows = svc.list_rows(o.all, _filters(o.filter), args[0] if args else None, show_digests=o.digests,
                         need_digest=o.digests or (not quiet and "{{.Digest}}" in (o.format or "")))
    if o.no_trunc:
        for r in rows:
            r["ID"] = r["_id"]
    if quiet:
        ctx.stdout.write("".join(r["ID"] + "\n" for r in rows))
        return 0
    cols = "{{.Repository}}\t{{.Tag}}\t" + ("{{.Digest}}\t" if o.digests else "") + \
        "{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    render.rows(ctx, rows, o.format, "table " + cols, render.IMAGE_HEADERS, "*formatter.imageContext")
    return 0


def image_rm(ctx, o, args) -> int:
    from ..errors import PalletError
    svc = ctx.engine.images
    failed = False
    for name in args:
        try:
            res = svc.remove(name, force=o.force, prune=not o.no_prune)
        except PalletError as exc:  # Docker reports each name and goes on
            ctx.err(f"Error: {exc}")
            failed = True
            continue
        for u in res.untagged:
            ctx.out(f"Untagged: {u}")
        for d in res.deleted:
            ctx.out(f"Deleted: {d}")
    return 1 if failed else 0


def image_tag(ctx, o, args) -> int:
    ctx.engine.images.tag(args[0], args[1])
    return 0


def image_import(ctx, o, args) -> int:
    source = args[0]
    target = args[1] if len(args) > 1 else None
    images = ctx.engine.images
    if source.startswith(("http://", "https://")):
        image_id = images.import_url(source, target, o.change, o.message, o.platform)
    else:
        stream, close = _open_source(ctx, source)
        try:  # docker's CLI streams a local file to the daemon, which then knows it only as "-"
            image_id = images.import_tar(stream, "-", target, o.change, o.message, o.platform)
        finally:
            close()
    ctx.out(image_id)
    return 0


def _open_source(ctx, source: str):
    from ..errors import InvalidArgument, NotFound
    if source == "-":
        stream = getattr(ctx.stdin, "buffer", ctx.stdin)
        return stream, lambda: None
    try:
        f = open(source, "rb")
    except FileNotFoundError as exc:
        raise NotFound(f"open {source}: no such file or directory") from exc
    except IsADirectoryError as exc:
        raise InvalidArgument(f"{source} is a directory: import takes a tar archive") from exc
    return f, f.close


def image_inspect(ctx, o, args) -> int:
    from .inspect import inspect_objects
    return inspect_objects(ctx, args, o.format, kinds=("image",))


def image_history(ctx, o, args) -> int:
    from ..opts.units import ago, human_size
    from ..dockerjson.columns import created_seconds
    entries = ctx.engine.images.history(args[0])
    rows = []
    for h in entries:
        created = created_seconds(h["Created"])
        by = h["CreatedBy"]
        if not o.no_trunc and len(by) > 45:
            by = by[:44] + "…"
        image_id = h["ID"] if o.no_trunc or h["ID"] == "<missing>" else h["ID"][7:19]
        rows.append({"ID": image_id, "CreatedSince": ago(created, time.time()) if o.human and created else h["Created"],
                     "CreatedAt": _rfc3339_seconds(h["Created"]), "CreatedBy": by,
                     "Size": human_size(h["Size"]) if o.human else str(h["Size"]),
                     "Comment": h["Comment"]})
    if o.quiet:
        ctx.stdout.write("".join(r["ID"] + "\n" for r in rows))
        return 0
    render.rows(ctx, rows, o.format,
                "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
                render.HISTORY_HEADERS, "*image.historyContext")
    return 0


def image_save(ctx, o, args) -> int:
    from ..errors import InvalidArgument
    if not o.output and ctx.stdout.isatty():
        raise InvalidArgument("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    svc = ctx.engine.transfer
    if o.output:
        svc.save_to_path(args, o.output)
    else:
        out = getattr(ctx.stdout, "buffer", ctx.stdout)
        svc.save(args, out)
        out.flush()
    return 0


def image_load(ctx, o, args) -> int:
    svc = ctx.engine.transfer
    if o.input:
        from ..errors import NotFound
        try:
            f = open(o.input, "rb")
        except FileNotFoundError as exc:
            raise NotFound(f"open {o.input}: no such file or directory") from exc
        with f:
            loaded = svc.load(f)
    else:
        stdin = getattr(ctx.stdin, "buffer", ctx.stdin)
        if hasattr(stdin, "isatty") and stdin.isatty():
            from ..errors import InvalidArgument
            raise InvalidArgument("requested load from stdin, but stdin is empty")
        loaded = svc.load(stdin)
    for line in loaded:  # docker load prints them even with -q
        ctx.out(line)
    return 0


def image_prune(ctx, o, args) -> int:
    from ..opts.units import human_size
    if not o.force and not render.confirm(ctx, "WARNING! This will remove all dangling images." if not o.all
                                          else "WARNING! This will remove all images without at least one container associated to them."):
        return 0
    untagged, deleted, freed = ctx.engine.images.prune(o.all)
    if untagged or deleted:
        ctx.out("Deleted Images:")
        for u in untagged:
            ctx.out(f"untagged: {u}")
        for d in deleted:
            ctx.out(f"deleted: {d}")
        ctx.out("")
    ctx.out(f"Total reclaimed space: {human_size(freed)}")
    return 0


FORMAT = F("format", kind="str", help="Format output using a custom template")
COMMANDS = [
    Command("image ls", "[OPTIONS] [REPOSITORY[:TAG]]", "List images", images_ls, [
        F("all", "a", help="Show all images (default hides intermediate images)"),
        F("digests", help="Show digests"),
        F("filter", "f", kind="list", help="Filter output based on conditions provided"),
        FORMAT,
        F("no-trunc", help="Don't truncate output"),
        F("quiet", "q", help="Only show image IDs"),
        F("tree", help="List multi-platform images as a tree (EXPERIMENTAL)", hidden=True),
    ], max_args=1, aliases=("image list",)),
    Command("image rm", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", image_rm, [
        F("force", "f", help="Force removal of the image"),
        F("no-prune", help="Do not delete untagged parents"),
    ], min_args=1, aliases=("image remove",)),
    Command("image tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
            "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", image_tag, [], 2, 2),
    Command("image import", "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
            "Import the contents from a tarball to create a filesystem image", image_import, [
                F("change", "c", kind="list", help="Apply Dockerfile instruction to the created image"),
                F("message", "m", kind="str", default="", help="Set commit message for imported image"),
                F("platform", kind="str", help="Set platform if server is multi-platform capable"),
            ], 1, 2),
    Command("image inspect", "[OPTIONS] IMAGE [IMAGE...]",
            "Display detailed information on one or more images", image_inspect,
            [F("format", "f", kind="str", help="Format output using a custom template")], 1),
    Command("image history", "[OPTIONS] IMAGE", "Show the history of an image", image_history, [
        F("format", kind="str", help="Format output using a custom template"),
        F("human", "H", kind="bool", default=True, help="Print sizes and dates in human readable format"),
        F("no-trunc", help="Don't truncate output"),
        F("quiet", "q", help="Only show image IDs"),
    ], 1, 1),
    Command("image save", "[OPTIONS] IMAGE [IMAGE...]",
            "Save one or more images to a tar archive (streamed to STDOUT by default)", image_save, [
                F("output", "o", kind="str", help="Write to a file, instead of STDOUT"),
                F("platform", kind="str", help="Save only the given platform variant"),
            ], 1),
    Command("image load", "[OPTIONS]", "Load an image from a tar archive or STDIN", image_load, [
        F("input", "i", kind="str", help="Read from tar archive file, instead of STDIN"),
        F("quiet", "q", help="Suppress the load output"),
        F("platform", kind="str", help="Load only the given platform variant"),
    ], 0, 0),
    Command("image prune", "[OPTIONS]", "Remove unused images", image_prune, [
        F("all", "a", help="Remove all unused images, not just dangling ones"),
        F("filter", kind="list", help="Provide filter values (e.g. \"until=<timestamp>\")"),
        F("force", "f", help="Do not prompt for confirmation"),
    ], 0, 0),
]


def _rfc3339_seconds(created: str) -> str:
    """docker/cli's history CreatedAt: RFC 3339 to the second."""
    head, dot, rest = created.partition(".")
    return head + "Z" if dot and rest.endswith("Z") else created
