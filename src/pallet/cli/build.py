"""`pallet build` / `pallet image build` (and `buildx build`), `pallet builder prune`.

Thin: flags -> one BuildService call -> its events rendered (pallet.cli.build_progress).
As Docker since 23, the output is BuildKit's, on stderr: `--progress=plain` (and `auto`
when stderr is not a terminal) prints `#5 [2/3] COPY app /app`, `#5 CACHED`,
`#5 DONE 0.3s`; `tty` (and `auto` on a terminal) draws the live display. A step
that runs again says why (`#5 cache miss: app/main.py changed`). `--progress=classic`
prints the classic builder's text on stdout, as the Engine API's build stream has it:

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

PROGRESS_MODES = ("auto", "plain", "tty", "quiet", "classic")


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


def _run_limits(o):
    """--add-host, --ulimit, --shm-size, --security-opt, --memory: for every RUN container."""
    if not (o.add_host or o.ulimit or o.shm_size or o.security_opt or o.memory):
        return None
    from ..services.build_types import RunLimits
    from .run_flags import _flag_bytes, _security_opts
    for item in o.add_host:
        name, sep, addr = item.partition(":")
        if not sep or not name or not addr:
            raise UsageError(f'invalid argument "{item}" for "--add-host" flag: bad format for '
                             f'add-host: "{item}"')
    return RunLimits(list(o.add_host), list(o.ulimit), _flag_bytes(o.shm_size, "shm-size"),
                     _security_opts(o.security_opt), _flag_bytes(o.memory, "memory"))


def _printer(ctx, mode: str):
    from . import build_progress
    tty = ctx.stderr.isatty()
    if mode == "tty" and not tty:  # buildx's words when told to draw on something else
        raise InvalidArgument("failed to get console: provided file is not a console")
    if mode == "plain" or not tty:
        return build_progress.PlainPrinter(ctx.stderr)
    import shutil
    return build_progress.TtyPrinter(ctx.stderr, shutil.get_terminal_size((80, 24)).columns)


def image_build(ctx, o, args) -> int:
    from ..errors import PalletError
    from ..services.build_types import BuildSource
    if o.progress not in PROGRESS_MODES:
        raise InvalidArgument(f'invalid progress mode "{o.progress}": use auto, plain, tty, quiet '
                              "or classic")
    if o.network not in (None, "default", "none", "host"):
        raise InvalidArgument(f"network mode {o.network!r} is not supported by pallet build: "
                              "use none or host")
    quiet = o.quiet or o.progress == "quiet"
    build_args = _key_values(o.build_arg, "build-arg", from_env=True)
    _check_tags(o.tag)
    run_limits, labels, secrets = _run_limits(o), _key_values(o.label, "label"), _secrets(o.secret)
    stdin = _binary(ctx.stdin) or ctx.stdin
    options = dict(tags=o.tag, build_args=build_args, target=o.target, no_cache=o.no_cache,
                   labels=labels, network=o.network, secrets=secrets,
                   source_date_epoch=_epoch(build_args), run_limits=run_limits, pull=o.pull,
                   platform=o.platform, cache_from=o.cache_from)
    source = BuildSource(args[0], o.file, stdin)
    if quiet:
        result = ctx.engine.builds.build(source, lambda _event: None, False, **options)
    elif o.progress == "classic":  # the service's classic form: lines, and RUN's bytes
        from .build_progress import ClassicPrinter
        classic = ClassicPrinter(ctx.stdout)
        result = ctx.engine.builds.build(source, classic.line, classic, **options)
    else:
        printer = _printer(ctx, o.progress)
        try:
            result = ctx.engine.builds.build(source, printer, True, **options)
        except PalletError as exc:
            if isinstance(exc, UsageError):
                raise
            printer.fail(exc)  # BuildKit's summary and `ERROR: failed to solve: ...`
            return 1
        printer.finish()
    if o.iidfile:
        with open(o.iidfile, "w") as f:
            f.write(result.image_id)
    if quiet:
        ctx.out(result.image_id)
        return 0
    if o.progress != "classic":
        return 0
    if result.unused_args:
        ctx.err(f"[Warning] One or more build-args [{' '.join(result.unused_args)}] were not consumed")
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
    F("add-host", kind="list", help='Add a custom host-to-IP mapping ("host:ip")'),
    F("build-arg", kind="list", help="Set build-time variables"),
    F("cache-from", kind="list", help="Images to consider as cache sources (their inline cache)"),
    F("file", "f", "str", help="Name of the Dockerfile (Default is 'PATH/Dockerfile')", metavar="string"),
    F("force-rm", help="Always remove intermediate containers", hidden=True),
    F("iidfile", kind="str", help="Write the image ID to the file"),
    F("label", kind="list", help="Set metadata for an image"),
    F("load", help="Shorthand for --output=type=docker (buildx)", hidden=True),
    F("memory", "m", kind="str", help="Memory limit"),
    F("network", kind="str", help="Set the networking mode for the RUN instructions during build"),
    F("no-cache", help="Do not use cache when building the image"),
    F("platform", kind="str", help="Set platform if server is multi-platform capable (the host's only)"),
    F("progress", kind="str", default="auto",
      help='Set type of progress output ("auto", "plain", "tty", "quiet", "classic"). Use plain to '
           "show container output"),
    F("pull", help="Always attempt to pull a newer version of the image"),
    F("quiet", "q", help="Suppress the build output and print image ID on success"),
    F("rm", default=True, help="Remove intermediate containers after a successful build", hidden=True),
    F("secret", kind="list", help='Secret to expose to the build (format: "id=mysecret[,src=/local/secret]")'),
    F("security-opt", kind="list", help="Security options"),
    F("shm-size", kind="str", help='Size of "/dev/shm"'),
    F("tag", "t", "list", help='Name and optionally a tag in the "name:tag" format', metavar="list"),
    F("target", kind="str", help="Set the target build stage to build."),
    F("ulimit", kind="list", help="Ulimit options"),
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
