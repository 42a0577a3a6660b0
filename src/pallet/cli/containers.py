"""`pallet container ...` and its shortcuts (run, create, start, stop, ps, logs, exec, rm, ...).

Thin: decode flags into a request, call the ContainerService, render.
"""
from __future__ import annotations

from ..errors import NotFound, PalletError, UsageError
from .flags import Command, F
from .run_flags import RUN_FLAGS, create_request, print_warnings

PS_HEADERS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedSince": "CREATED",
              "RunningFor": "CREATED", "CreatedAt": "CREATED AT", "Status": "STATUS", "Ports": "PORTS",
              "Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS",
              "Size": "SIZE", "State": "STATE"}


def _binary(stream):
    return getattr(stream, "buffer", stream)


def _each(ctx, refs: list[str], action, echo: bool = True, summary: str | None = None,
          forgiven=lambda exc: False) -> int:
    """Docker's many-container verbs: act on each, print it, report failures and go on;
    `summary` (e.g. "failed to start containers") ends a failure report naming them all;
    a `forgiven(exc)` error is reported but does not fail the command."""
    failed = []
    for ref in refs:
        try:
            action(ref)
        except PalletError as exc:
            ctx.err(f"Error: {exc}")
            if not forgiven(exc):
                failed.append(ref)
            continue
        if echo:
            ctx.out(ref)
    if failed and summary:
        ctx.err(f"Error: {summary}: {', '.join(failed)}")
    return 1 if failed else 0


PULL_POLICIES = ("always", "missing", "never")


def _ensure_image(ctx, image: str, pull: str = "missing", platform: str | None = None) -> None:
    """Docker's --pull for run/create: `missing` pulls an image not stored (or stored for
    another --platform), `always` pulls first anyway, `never` refuses a missing image.
    (In Docker too the CLI pulls, when the daemon says the image is missing.)"""
    from ..reference import familiar, parse
    if pull not in PULL_POLICIES:
        raise UsageError(f"invalid pull option: '{pull}': must be one of \"always\", \"missing\" or \"never\"")
    if pull != "always" and ctx.engine.images.exists(image) \
            and ctx.engine.images.matches_platform(image, platform):
        return
    try:
        shown = familiar(str(parse(image).tagged()))
    except PalletError:
        shown = image
    if pull == "never":
        raise NotFound(f"No such image: {shown}")
    if pull == "missing":
        ctx.err(f"Unable to find image '{shown}' locally")
    from .registry import pull_for_run
    try:
        image = str(parse(image).tagged())  # Docker pulls "x:latest", without "Using default tag"
    except PalletError:
        pass
    pull_for_run(ctx, image, platform)


def container_create(ctx, o, args) -> int:
    req = create_request(o, args)
    _ensure_image(ctx, req.image, o.pull, o.platform)
    cid = ctx.engine.containers.create(req)
    print_warnings(ctx, req)
    _write_cidfile(o, cid)
    ctx.out(cid)
    return 0


def _write_cidfile(o, cid: str) -> None:
    if o.cidfile:
        with open(o.cidfile, "x") as f:
            f.write(cid)


def container_run(ctx, o, args) -> int:
    keys = None
    if not o.detach:
        _check_tty(ctx.stdin, o.tty, o.interactive)
        keys = _detach_keys(ctx, o.detach_keys, needed=o.tty and o.interactive)
    req = create_request(o, args)
    _ensure_image(ctx, req.image, o.pull, o.platform)
    svc = ctx.engine.containers
    cid = svc.create(req)
    print_warnings(ctx, req)
    _write_cidfile(o, cid)
    if o.detach:
        try:
            svc.start(cid)
        except PalletError:
            if req.auto_remove:
                svc.remove(cid, force=True)
            raise
        ctx.out(cid)
        return 0
    return _run_attached(ctx, svc, cid, req, keys, o.sig_proxy)


class _Relay:
    """What run/start/attach do with an Attachment: relay it through the CLI's streams, the
    terminal in raw mode with its size followed (`relaying`), and the CLI's signals sent on
    to the container (docker's --sig-proxy, off with a terminal, whose ^C is a byte for
    the container). `detached` says the user typed the detach keys (`keys`: resolved
    from --detach-keys/config.json before anything starts)."""

    def __init__(self, ctx, svc, cid: str, stdin: bool, sig_proxy: bool, keys: bytes | None = None):
        self.ctx, self.svc, self.cid, self.stdin, self.sig_proxy, self.keys = ctx, svc, cid, stdin, sig_proxy, keys
        self.detached = False

    def __call__(self, attachment) -> None:
        ctx = self.ctx
        with _terminal(ctx.stdin, attachment), \
                _ProxiedSignals(self.svc, self.cid, on=self.sig_proxy and not attachment.tty):
            self.detached = attachment.relay(_binary(ctx.stdout), _binary(ctx.stderr),
                                             _binary(ctx.stdin) if self.stdin else None, self.keys)


def _check_tty(stdin, tty: bool, interactive: bool) -> None:
    """terminal.check_tty, which has something to check only for -it: without one, `run`
    and `create` leave the terminal module unloaded."""
    if tty and interactive:
        from .terminal import check_tty
        check_tty(stdin, tty, interactive)


def _terminal(stdin, attachment):
    """terminal.relaying for a container with a terminal; nothing to do without one."""
    if not attachment.tty:
        return _NO_TERMINAL
    from .terminal import relaying
    return relaying(stdin, attachment)


class _NoTerminal:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False


_NO_TERMINAL = _NoTerminal()


def _detach_keys(ctx, flag: str | None, needed: bool = True) -> bytes | None:
    """--detach-keys, else config.json's detachKeys, else the default; checked (Docker's
    error) when given, read from the config only when a terminal attach will use them."""
    if not (flag or needed):
        return None
    from .dockerconfig import detach_keys
    return detach_keys(ctx, flag)


def _run_attached(ctx, svc, cid: str, req, keys: bytes | None, sig_proxy: bool = True) -> int:
    relay = _Relay(ctx, svc, cid, stdin=req.open_stdin, sig_proxy=sig_proxy, keys=keys)
    with svc.foreground(cid):
        try:
            svc.start(cid, attach_to=relay)
            if relay.detached:  # Docker: silent, exit 0; the exit command cleans up later
                return 0
            code = svc.wait(cid)
        except PalletError:
            if req.auto_remove:
                _remove_quietly(svc, cid)
            raise
        except KeyboardInterrupt as exc:  # before the relay began (or without the proxy)
            svc._signal(cid, getattr(exc, "signal_name", "SIGINT"))  # SIGTERM: main.Terminated
            code = svc.wait(cid)
        if req.auto_remove:
            _remove_quietly(svc, cid)
    return code


class _ProxiedSignals:
    """While a foreground `run` relays output, the signals the CLI receives go to the
    container (Docker's sig-proxy) and the relay goes on until the container exits, so a
    ^C shows what the container's SIGINT handler prints. `_signal` rather than `signal`,
    whose enum tables cost every `run` ~1 ms."""
    NAMES = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")

    def __init__(self, svc, cid: str, on: bool = True):
        self.svc, self.cid, self.on, self.saved = svc, cid, on, {}

    def __enter__(self):
        if not self.on:
            return self
        import _signal
        for name in self.NAMES:
            num = getattr(_signal, name)
            try:
                self.saved[num] = _signal.signal(num, self._forward)
            except ValueError:  # not the main thread: signals stay the CLI's
                break
        return self

    def _forward(self, signum, _frame) -> None:
        self.svc.forward_signal(self.cid, str(signum))

    def __exit__(self, *exc) -> None:
        if not self.saved:
            return
        import _signal
        for num, handler in self.saved.items():
            if handler is not None:  # None: set outside Python, cannot be put back
                _signal.signal(num, handler)


def _remove_quietly(svc, cid: str) -> None:
    try:
        svc.remove(cid, force=True)
    except NotFound:
        pass


def container_start(ctx, o, args) -> int:
    svc = ctx.engine.containers
    if o.attach or o.interactive:
        if len(args) > 1:
            raise PalletError("you cannot start and attach multiple containers at once")
        cid = svc.resolve(args[0])
        if o.interactive:  # docker/cli's CheckTty: a terminal's input must be one
            _check_tty(ctx.stdin, svc.get(cid)["Config"]["Tty"], True)
        relay = _Relay(ctx, svc, cid, stdin=o.interactive, sig_proxy=True,
                       keys=_detach_keys(ctx, o.detach_keys))
        svc.start(cid, attach_to=relay)
        return 0 if relay.detached else svc.wait(cid)  # Docker: detaching is exit 0
    return _each(ctx, args, lambda ref: svc.start(ref), summary="failed to start containers")


def _stop_timeout(ctx, o) -> int | None:
    """docker CLI 28: -t/--timeout; --time still works, with cobra's deprecation notice."""
    if o.was_set("time"):
        ctx.err("Flag --time has been deprecated, use --timeout instead")
        if not o.was_set("timeout"):
            return o.time
    return o.timeout


def container_stop(ctx, o, args) -> int:
    failed = []
    timeout = _stop_timeout(ctx, o)

    def report(ref, exc):
        ctx.err(f"Error: {exc}")
        failed.append(ref)
    for ref in ctx.engine.containers.stop_many(args, timeout, o.signal, on_error=report):
        ctx.out(ref)
    return 1 if failed else 0


def container_restart(ctx, o, args) -> int:
    svc = ctx.engine.containers
    timeout = _stop_timeout(ctx, o)
    return _each(ctx, args, lambda ref: svc.restart(ref, timeout))


def container_kill(ctx, o, args) -> int:
    svc = ctx.engine.containers
    return _each(ctx, args, lambda ref: svc.kill(ref, o.signal or "KILL"))


def container_rm(ctx, o, args) -> int:
    svc = ctx.engine.containers
    return _each(ctx, args, lambda ref: svc.remove(ref, force=o.force, volumes=o.volumes),
                 forgiven=lambda exc: o.force and isinstance(exc, NotFound))  # rm -f: already gone


def container_rename(ctx, o, args) -> int:
    if not args[0].strip() or not args[1].strip():  # docker/cli rename.go asks no daemon then
        raise PalletError("Neither old nor new names may be empty")
    try:
        ctx.engine.containers.rename(args[0], args[1])
    except PalletError as exc:
        ctx.err(f"Error: {exc}")
        raise PalletError(f"failed to rename container named {args[0]}") from None
    return 0


def container_wait(ctx, o, args) -> int:
    svc = ctx.engine.containers
    failed = False
    for ref in args:
        try:
            ctx.out(str(svc.wait(ref)))
        except PalletError as exc:
            ctx.err(f"Error: {exc}")
            failed = True
    return 1 if failed else 0


def container_pause(ctx, o, args) -> int:
    return _each(ctx, args, ctx.engine.containers.pause)


def container_unpause(ctx, o, args) -> int:
    return _each(ctx, args, ctx.engine.containers.unpause)


def container_cleanup(ctx, o, args) -> int:
    ctx.engine.containers.exited(args[0])  # conmon's exit command
    return 0


def container_ls(ctx, o, args) -> int:
    from .ps import check_format, list_rows
    if o.format:
        check_format(o.format)
    # docker/cli measures sizes for -s, and for a --format that reads .Size
    rows = list_rows(ctx.engine, o, size=o.size or ".Size" in (o.format or ""))
    if o.quiet:
        ctx.stdout.write("".join(r["ID"] + "\n" for r in rows))
        return 0
    from . import render
    render.rows(ctx, rows, o.format, "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t"
                "{{.Status}}\t{{.Ports}}\t{{.Names}}" + ("\t{{.Size}}" if o.size else ""), PS_HEADERS)
    return 0


def container_logs(ctx, o, args) -> int:
    from .logs import show_logs
    return show_logs(ctx, o, args[0])


def container_exec(ctx, o, args) -> int:
    from .exec import run_exec
    return run_exec(ctx, o, args)


def container_attach(ctx, o, args) -> int:
    svc = ctx.engine.containers
    cid = svc.resolve(args[0])
    with svc.attach(cid) as attachment:  # a stopped container is refused first, as in Docker
        _check_tty(ctx.stdin, attachment.tty, not o.no_stdin)
        relay = _Relay(ctx, svc, cid, stdin=not o.no_stdin, sig_proxy=o.sig_proxy,
                       keys=_detach_keys(ctx, o.detach_keys))
        relay(attachment)
    if relay.detached:  # Docker's CLI returns moby's EscapeError here: its text, exit 1
        ctx.err("read escape sequence")
        return 1
    return svc.wait(cid)


def container_port(ctx, o, args) -> int:
    ports = ctx.engine.containers.ports(args[0])
    if len(args) > 1:
        port, _, proto = args[1].partition("/")
        binds = ports.get(f"{port}/{proto or 'tcp'}")
        if not binds:
            raise NotFound(f"No public port '{args[1]}' published for {args[0]}")
        ctx.stdout.write("".join(f"{b['HostIp']}:{b['HostPort']}\n" for b in binds))
        return 0

    def order(key):
        port, _, proto = key.partition("/")
        return (int(port), proto)
    for key in sorted(ports, key=order):
        for b in ports[key] or []:
            ctx.out(f"{key} -> {b['HostIp']}:{b['HostPort']}")
    return 0


def container_inspect(ctx, o, args) -> int:
    from .inspect import inspect_objects
    return inspect_objects(ctx, args, o.format, kinds=("container",))


FORMAT = F("format", "f", kind="str", help="Format output using a custom template")
TIMEOUT = F("timeout", "t", kind="int", help="Seconds to wait before killing the container")
TIME = F("time", kind="int", hidden=True,
         help="Seconds to wait before killing the container (deprecated: use --timeout)")
MANY = "[OPTIONS] CONTAINER [CONTAINER...]"

COMMANDS = [
    Command("container run", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create and run a new container from an image",
            container_run, RUN_FLAGS, 1, interspersed=False),
    Command("container create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container",
            container_create, RUN_FLAGS, 1, interspersed=False),
    Command("container start", MANY, "Start one or more stopped containers", container_start, [
        F("attach", "a", help="Attach STDOUT/STDERR and forward signals"),
        F("interactive", "i", help="Attach container's STDIN"),
        F("detach-keys", kind="str", help="Override the key sequence for detaching a container"),
    ], 1),
    Command("container stop", MANY, "Stop one or more running containers", container_stop, [
        F("signal", "s", kind="str", help="Signal to send to the container"), TIMEOUT, TIME], 1),
    Command("container restart", MANY, "Restart one or more containers", container_restart, [
        F("signal", "s", kind="str", help="Signal to send to the container"), TIMEOUT, TIME], 1),
    Command("container kill", MANY, "Kill one or more running containers", container_kill, [
        F("signal", "s", kind="str", help='Signal to send to the container (default "KILL")')], 1),
    Command("container rm", MANY, "Remove one or more containers", container_rm, [
        F("force", "f", help="Force the removal of a running container (uses SIGKILL)"),
        F("link", "l", help="Remove the specified link"),
        F("volumes", "v", help="Remove anonymous volumes associated with the container"),
    ], 1, aliases=("container remove",)),
    Command("container rename", "CONTAINER NEW_NAME", "Rename a container", container_rename, [], 2, 2),
    Command("container wait", MANY, "Block until one or more containers stop, then print their exit codes",
            container_wait, [], 1),
    Command("container pause", MANY, "Pause all processes within one or more containers", container_pause, [], 1),
    Command("container unpause", MANY, "Unpause all processes within one or more containers",
            container_unpause, [], 1),
    Command("container cleanup", "CONTAINER", "Release a stopped container's runtime resources (run by the monitor)",
            container_cleanup, [], 1, 1),
    Command("container ls", "[OPTIONS]", "List containers", container_ls, [
        F("all", "a", help="Show all containers (default shows just running)"),
        F("filter", "f", kind="list", help="Filter output based on conditions provided"),
        F("format", kind="str", help="Format output using a custom template"),
        F("last", "n", kind="int", default=-1, help="Show n last created containers (includes all states)"),
        F("latest", "l", help="Show the latest created container (includes all states)"),
        F("no-trunc", help="Don't truncate output"),
        F("quiet", "q", help="Only display container IDs"),
        F("size", "s", help="Display total file sizes"),
    ], 0, 0, aliases=("container list", "container ps")),
    Command("container logs", "[OPTIONS] CONTAINER", "Fetch the logs of a container", container_logs, [
        F("details", help="Show extra details provided to logs"),
        F("follow", "f", help="Follow log output"),
        F("since", kind="str", help="Show logs since timestamp or relative (e.g. 42m for 42 minutes)"),
        F("tail", "n", kind="str", default="all", help="Number of lines to show from the end of the logs"),
        F("timestamps", "t", help="Show timestamps"),
        F("until", kind="str", help="Show logs before a timestamp or relative (e.g. 42m for 42 minutes)"),
    ], 1, 1),
    Command("container exec", "[OPTIONS] CONTAINER COMMAND [ARG...]", "Execute a command in a running container",
            container_exec, [
                F("detach", "d", help="Detached mode: run command in the background"),
                F("detach-keys", kind="str", help="Override the key sequence for detaching a container"),
                F("env", "e", kind="list", help="Set environment variables"),
                F("env-file", kind="list", help="Read in a file of environment variables"),
                F("interactive", "i", help="Keep STDIN open even if not attached"),
                F("privileged", help="Give extended privileges to the command"),
                F("tty", "t", help="Allocate a pseudo-TTY"),
                F("user", "u", kind="str", help="Username or UID (format: <name|uid>[:<group|gid>])"),
                F("workdir", "w", kind="str", help="Working directory inside the container"),
            ], 2, interspersed=False),
    Command("container attach", "[OPTIONS] CONTAINER", "Attach local standard input, output, and error streams "
            "to a running container", container_attach, [
                F("no-stdin", help="Do not attach STDIN"),
                F("sig-proxy", kind="bool", default=True, help="Proxy all received signals to the process"),
                F("detach-keys", kind="str", help="Override the key sequence for detaching a container"),
            ], 1, 1),
    Command("container port", "CONTAINER [PRIVATE_PORT[/PROTO]]", "List port mappings or a specific mapping "
            "for the container", container_port, [], 1, 2),
    Command("container inspect", "[OPTIONS] CONTAINER [CONTAINER...]",
            "Display detailed information on one or more containers", container_inspect,
            [FORMAT, F("size", "s", help="Display total file sizes")], 1),
]
