"""`pallet build` / `pallet image build` (and `buildx build`), `pallet builder prune`.

Thin: flags -> one BuildService call -> lines. Output is the classic builder's
plain format, whatever --progress says (auto, plain and tty print the same):

    Step 2/9 : COPY app /app
     ---> Cache miss: app/main.py changed
     ---> 3f2a9c1b7d4e
    Step 3/9 : RUN make
     ---> Using cache
     ---> 9b1c...
    Successfully built 9b1c5e7a0f3d
    Successfully tagged myapp:1.0

` ---> Using cache` marks a reused step (BuildKit says CACHED); ` ---> Cache
miss: <why>` names the source file, build arg, instruction or parent that
changed. With -q only the image ID is printed. SOURCE_DATE_EPOCH (environment
or --build-arg) makes the image reproducible (see pallet.build.executor).
"""
from __future__ import annotations

import os

from ..errors import InvalidArgument, UsageError
from .flags import Command, F

PROGRESS_MODES = ("auto", "plain", "tty", "quiet", "rawjson")


def _key_values(values: list[str], what: str, from_env: bool = False) -> dict[str, str]:
    out = {}
    for item in values:
        key, eq, value = item.partition("=")
        if not key:
            raise UsageError(f'invalid argument "{item}" for "--{what}" flag: {what} key cannot be empty')
        if not eq:
            if not from_env:
                out[key] = ""
            elif key in os.environ:
                out[key] = os.environ[key]
            continue
        out[key] = value
    return out


def _secrets(values: list[str]) -> dict[str, str | bytes]:
    """--secret id=ID[,src=FILE|,env=VAR] as BuildKit reads it: id -> a host file, or the
    value of an environment variable (`env=`, or a variable named ID when no src is given)."""
    out: dict[str, str | bytes] = {}
    for spec in values:
        fields = dict(p.partition("=")[::2] for p in spec.split(","))
        sid = fields.get("id")
        src = fields.get("src") or fields.get("source")
        env = fields.get("env")
        if not sid:
            raise UsageError(f'invalid argument "{spec}" for "--secret" flag: secret id is required')
        if fields.get("type") == "env" and not env:
            env = src or sid
        if env or (not src and sid in os.environ):
            name = env or sid
            if name not in os.environ:
                raise InvalidArgument(f"secret {sid}: environment variable {name} is not set")
            out[sid] = os.environ[name].encode()
            continue
        src = src or sid
        if not os.path.isfile(src):
            raise InvalidArgument(f"failed to stat secret source {src}: no such file")
        out[sid] = os.path.abspath(src)
    return out


def _epoch(build_args: dict[str, str]) -> int | None:
    raw = build_args.get("SOURCE_DATE_EPOCH") or os.environ.get("SOURCE_DATE_EPOCH")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidArgument(f"invalid SOURCE_DATE_EPOCH: {raw}") from None


def _binary(stream):
    return getattr(stream, "buffer", None)


def _check_tags(tags: list[str]) -> None:
    """docker/cli checks -t values as it reads its flags: a bad one is a flag error (125)."""
    from .. import reference
    for tag in tags:
        try:
            reference.parse_repository_tag(tag)
        except InvalidArgument as exc:
            raise UsageError(f'invalid argument "{tag}" for "-t, --tag" flag: {exc}') from None


def image_build(ctx, o, args) -> int:
    from ..services.build_types import BuildSource
    if o.progress not in PROGRESS_MODES:
        raise InvalidArgument(f'invalid progress mode "{o.progress}": use auto, plain or tty')
    if o.network not in (None, "default", "none", "host"):
        raise InvalidArgument(f"network mode {o.network!r} is not supported by pallet build: "
                              "use none or host")
    quiet = o.quiet or o.progress == "quiet"
    build_args = _key_values(o.build_arg, "build-arg", from_env=True)

    def emit(line: str) -> None:
        if not quiet:
            ctx.stdout.write(line + "\n")
            ctx.stdout.flush()
    _check_tags(o.tag)
    stdin = _binary(ctx.stdin) or ctx.stdin
    result = ctx.engine.builds.build(
        BuildSource(args[0], o.file, stdin), emit, None if quiet else _binary(ctx.stdout),
        tags=o.tag, build_args=build_args, target=o.target, no_cache=o.no_cache,
        labels=_key_values(o.label, "label"), network=o.network, secrets=_secrets(o.secret),
        source_date_epoch=_epoch(build_args))
    if result.unused_args:
        ctx.err(f"[Warning] One or more build-args [{' '.join(result.unused_args)}] were not consumed")
    if o.iidfile:
        with open(o.iidfile, "w") as f:
            f.write(result.image_id)
    if quiet:
        ctx.out(result.image_id)
        return 0
    ctx.out(f"Successfully built {result.image_id.split(':', 1)[1][:12]}")
    from ..reference import familiar
    for tag in result.tags:
        ctx.out(f"Successfully tagged {familiar(tag)}")
    return 0


def builder_prune(ctx, o, args) -> int:
    from ..opts.units import human_size
    from . import render
    if not o.force and not render.confirm(ctx, "WARNING! This will remove all dangling build cache."):
        return 0
    entries, freed = ctx.engine.builds.prune()
    if entries:
        ctx.out(f"Deleted build cache objects: {entries}")
    ctx.out(f"Total reclaimed space: {human_size(freed)}")
    return 0


BUILD_FLAGS = [
    F("tag", "t", "list", help='Name and optionally a tag in the "name:tag" format', metavar="list"),
    F("file", "f", "str", help="Name of the Dockerfile (Default is 'PATH/Dockerfile')", metavar="string"),
    F("build-arg", kind="list", help="Set build-time variables"),
    F("target", kind="str", help="Set the target build stage to build."),
    F("no-cache", help="Do not use cache when building the image"),
    F("quiet", "q", help="Suppress the build output and print image ID on success"),
    F("label", kind="list", help="Set metadata for an image"),
    F("iidfile", kind="str", help="Write the image ID to the file"),
    F("progress", kind="str", default="auto",
      help='Set type of progress output ("auto", "plain", "tty"). Use plain to show container output'),
    F("network", kind="str", help="Set the networking mode for the RUN instructions during build"),
    F("secret", kind="list", help='Secret to expose to the build (format: "id=mysecret[,src=/local/secret]")'),
    F("pull", help="Always attempt to pull a newer version of the image", hidden=True),
    F("rm", default=True, help="Remove intermediate containers after a successful build", hidden=True),
    F("force-rm", help="Always remove intermediate containers", hidden=True),
    F("platform", kind="str", help="Set platform if server is multi-platform capable", hidden=True),
    F("load", help="Shorthand for --output=type=docker (buildx)", hidden=True),
    F("cache-from", kind="list", help="Images to consider as cache sources", hidden=True),
]

COMMANDS = [
    Command("image build", "[OPTIONS] PATH | URL | -", "Build an image from a Dockerfile", image_build,
            BUILD_FLAGS, min_args=1, max_args=1),
    Command("buildx build", "[OPTIONS] PATH | URL | -", "Start a build", image_build,
            BUILD_FLAGS, min_args=1, max_args=1),
    Command("builder prune", "", "Remove build cache", builder_prune,
            [F("all", "a", help="Remove all unused build cache, not just dangling ones"),
             F("force", "f", help="Do not prompt for confirmation"),
             F("filter", kind="list", help="Provide filter values (e.g. \"until=24h\")"),
             F("keep-storage", kind="str", help="Amount of disk space to keep for cache", hidden=True)],
            max_args=0),
]
