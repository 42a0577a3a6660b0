"""`pallet` entry point: global options, verb dispatch, errors → exit codes.

This is the one place where exceptions become exit codes and messages.
Command modules are imported only when their verb is used, so `pallet --help`
and `pallet ps` do not pay for the build engine or httpx.
"""
from __future__ import annotations

import gc
import os
import sys

from . import deferred, module_finder

deferred.install()  # before anything imports pathlib
module_finder.install()  # pallet's own modules, found and loaded quicker

from ..errors import PalletError, UsageError  # noqa: E402
from . import flags as fl  # noqa: E402

PROG = "pallet"

# A CLI process lives for one command: collecting cycles while ~150 modules load costs more
# than the garbage is worth (long commands still collect, only less often).
gc.set_threshold(20_000, 50, 50)

# verb (or management noun) -> (module, summary). Order is the help order.
MODULES: dict[str, tuple[str, str]] = {
    "run": ("containers", "Create and run a new container from an image"),
    "exec": ("containers", "Execute a command in a running container"),
    "events": ("events", "Get real time events from the server"),
    "ps": ("containers", "List containers"),
    "build": ("build", "Build an image from a Dockerfile"),
    "pull": ("registry", "Download an image from a registry"),
    "push": ("registry", "Upload an image to a registry"),
    "images": ("images", "List images"),
    "search": ("registry", "Search for images in a registry (its catalog)"),
    "login": ("registry", "Log in to a registry"),
    "logout": ("registry", "Log out from a registry"),
    "version": ("system", "Show the pallet version information"),
    "info": ("system", "Display system-wide information"),
    "image": ("images,registry,build", "Manage images"),
    "container": ("containers,container_fs,container_ops", "Manage containers"),
    "volume": ("volumes", "Manage volumes"),
    "network": ("networks", "Manage networks"),
    "system": ("system,container_ops,events", "Manage pallet"),
    "builder": ("build", "Manage builds"),
    "context": ("contexts", "Manage contexts (Docker's, shared with the docker CLI)"),
    "compose": ("compose", "Define and run multi-container applications (docker compose v2)"),
    "buildx": ("build", "Docker Buildx-compatible build commands"),
    "manifest": ("registry", "Manage image manifests"),
    "attach": ("containers", "Attach to a running container"),
    "commit": ("container_fs", "Create a new image from a container's changes"),
    "cp": ("container_fs", "Copy files between a container and the host"),
    "create": ("containers", "Create a new container"),
    "diff": ("container_fs", "Inspect changes to files on a container's filesystem"),
    "export": ("container_fs", "Export a container's filesystem as a tar archive"),
    "history": ("images", "Show the history of an image"),
    "import": ("images", "Import the contents of a tarball to create an image"),
    "inspect": ("inspect", "Return low-level information on pallet objects"),
    "kill": ("containers", "Kill one or more running containers"),
    "load": ("images", "Load an image from a tar archive or STDIN"),
    "logs": ("containers", "Fetch the logs of a container"),
    "pause": ("containers", "Pause all processes within one or more containers"),
    "port": ("containers", "List port mappings or a specific mapping for the container"),
    "rename": ("containers", "Rename a container"),
    "restart": ("containers", "Restart one or more containers"),
    "rm": ("containers", "Remove one or more containers"),
    "rmi": ("images", "Remove one or more images"),
    "save": ("images", "Save one or more images to a tar archive"),
    "start": ("containers", "Start one or more stopped containers"),
    "stats": ("container_ops", "Display a live stream of container resource usage statistics"),
    "stop": ("containers", "Stop one or more running containers"),
    "tag": ("images", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"),
    "top": ("container_ops", "Display the running processes of a container"),
    "unpause": ("containers", "Unpause all processes within one or more containers"),
    "update": ("container_ops", "Update configuration of one or more containers"),
    "wait": ("containers", "Block until one or more containers stop, then print their exit codes"),
}

# Docker's shortcuts: top-level verb -> management command path.
SHORTCUTS = {
    "images": "image ls", "rmi": "image rm", "tag": "image tag", "import": "image import",
    "history": "image history", "save": "image save", "load": "image load",
    "build": "image build", "pull": "image pull", "push": "image push",
    "ps": "container ls", "run": "container run", "create": "container create",
    "start": "container start", "stop": "container stop", "restart": "container restart",
    "kill": "container kill", "rm": "container rm", "rename": "container rename",
    "wait": "container wait", "logs": "container logs", "exec": "container exec",
    "attach": "container attach", "commit": "container commit", "cp": "container cp",
    "diff": "container diff", "export": "container export", "pause": "container pause",
    "unpause": "container unpause", "port": "container port", "stats": "container stats",
    "top": "container top", "update": "container update", "events": "system events",
}

# Verbs whose own failures exit 125 (Docker: run/create), unless the error fixes a code.
RUN_PATHS = {"container run", "container create"}

GLOBAL_FLAGS = [
    fl.F("root", kind="str", help="Persistent storage root (env PALLET_ROOT, default /var/lib/pallet)"),
    fl.F("runroot", kind="str", help="Volatile state root (env PALLET_RUNROOT, default /run/pallet)"),
    fl.F("context", "c", kind="str", help='Name of the context to use to connect to an engine (overrides '
         'DOCKER_HOST env var and default context set with "pallet context use")'),
    fl.F("host", "H", kind="list", help="Engine API socket to connect to (unix:// or tcp://; default: the "
         "local store)"),
    fl.F("help", "h", help="Print usage"),
    fl.F("version", "v", help="Print version information and quit"),
    fl.F("debug", "D", help="Show tracebacks of internal errors"),
]


class Context:
    """What a command handler gets: streams, the paths, and a lazily built engine."""

    def __init__(self, root: str | None, runroot: str | None, debug: bool = False,
                 stdin=None, stdout=None, stderr=None):
        self.root, self.runroot, self.debug = root, runroot, debug
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self._engine = None
        self.context_flag: str | None = None  # --context
        self.host_flag: list[str] = []        # -H/--host

    @property
    def engine(self):
        if self._engine is None:
            from ..engine import Engine
            self._engine = Engine.at(self.root, self.runroot)
        return self._engine

    def out(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def err(self, text: str) -> None:
        self.stderr.write(text + "\n")


def _commands(verb: str) -> list[fl.Command]:
    """The Command records of a verb's module(s)."""
    out = []
    for name in MODULES[verb][0].split(","):
        __import__(f"pallet.cli.{name}")  # not importlib: its import alone costs ~1 ms
        out += sys.modules[f"pallet.cli.{name}"].COMMANDS
    return out


def _find_command(argv: list[str]) -> tuple[fl.Command | None, str, list[str]]:
    """Resolve argv to (command, the path the user typed, remaining args)."""
    if not argv:
        return None, "", argv
    verb = argv[0]
    if verb not in MODULES:
        raise UsageError(f"unknown command: {PROG} {verb}\n\nRun '{PROG} --help' for more information")
    table: dict[str, fl.Command] = {}
    for cmd in _commands(verb):
        for path in (cmd.path,) + cmd.aliases:
            table[path] = cmd
    if verb in SHORTCUTS and SHORTCUTS[verb] in table:
        return table[SHORTCUTS[verb]], verb, argv[1:]
    if verb in table:
        return table[verb], verb, argv[1:]
    if len(argv) > 1 and f"{verb} {argv[1]}" in table:
        return table[f"{verb} {argv[1]}"], f"{verb} {argv[1]}", argv[2:]
    return None, verb, argv[1:]


def _management_help(ctx: Context, noun: str) -> int:
    ctx.out(f"Usage:  {PROG} {noun} COMMAND\n\n{MODULES[noun][1]}\n\nCommands:")
    for cmd in _commands(noun):
        if cmd.path.startswith(noun + " "):
            ctx.out(f"  {cmd.path.split(' ', 1)[1]:<12}{cmd.summary}")
    ctx.out(f"\nRun '{PROG} {noun} COMMAND --help' for more information on a command.")
    return 0


def _top_help(ctx: Context) -> int:
    ctx.out(f"Usage:  {PROG} [OPTIONS] COMMAND\n\nA container engine with Docker's command line\n")
    ctx.out("Commands:")
    for verb, (_, summary) in MODULES.items():
        ctx.out(f"  {verb:<12}{summary}")
    ctx.out("\nGlobal Options:")
    for f in GLOBAL_FLAGS:
        ctx.out(f"      --{f.long:<22}{f.help}")
    return 0


def _usage_error(ctx: Context, path: str, cmd: fl.Command | None, message: str) -> int:
    ctx.err(message)
    if cmd is not None:
        ctx.err(f"\nUsage:  {PROG} {path} {cmd.usage}\n\nRun '{PROG} {path} --help' for more information")
    return 125


def _check_arity(cmd: fl.Command, path: str, args: list[str]) -> str | None:
    n = len(args)
    if n < cmd.min_args:
        if cmd.min_args == cmd.max_args:
            want = f"exactly {cmd.min_args} argument" + ("s" if cmd.min_args != 1 else "")
        else:
            want = f"at least {cmd.min_args} argument" + ("s" if cmd.min_args != 1 else "")
        return f"{PROG}: '{PROG} {path}' requires {want}"
    if cmd.max_args is not None and n > cmd.max_args:
        if cmd.max_args == 0:
            return f"{PROG}: '{PROG} {path}' accepts no arguments"
        want = (f"exactly {cmd.max_args}" if cmd.min_args == cmd.max_args else f"at most {cmd.max_args}")
        return f"{PROG}: '{PROG} {path}' requires {want} argument" + ("s" if cmd.max_args != 1 else "")
    return None


def run(argv: list[str], ctx: Context | None = None) -> int:
    """Run one pallet command line; returns the exit code. Used by main() and by tests."""
    gopts, rest = fl.parse(fl.Command("", "", "", None, GLOBAL_FLAGS, interspersed=False), argv)
    ctx = ctx or Context(gopts.root, gopts.runroot, gopts.debug)
    if ctx.root is None:
        ctx.root, ctx.runroot = gopts.root, gopts.runroot
    ctx.context_flag = gopts.context
    ctx.host_flag = list(gopts.host or [])
    if gopts.version:  # Docker's one line ("Docker version 28.2.2, build e6534b4"), not `version`
        from .. import __version__
        ctx.out(f"{PROG} version {__version__}")
        return 0
    if not rest or gopts.help:
        return _top_help(ctx)
    path = rest[0]
    cmd = None
    try:
        cmd, path, args = _find_command(rest)
        if cmd is None:
            if path in MODULES and (not args or args[0] in ("--help", "-h")):
                return _management_help(ctx, path)
            raise UsageError(f"unknown command: {PROG} {' '.join(rest[:2])}\n\n"
                             f"Run '{PROG} {rest[0]} --help' for more information")
        # -h is help unless the command gives it a meaning (run/create: --hostname, as Docker)
        short_help = None if any(f.short == "h" for f in cmd.flags) else "h"
        cmd_flags = cmd.flags + [fl.F("help", short_help, help="Print usage", dest="_help")]
        opts, args = fl.parse(fl.Command(cmd.path, cmd.usage, cmd.summary, None, cmd_flags,
                                         interspersed=cmd.interspersed), args)
        if opts._help:
            ctx.stdout.write(fl.help_text(cmd, PROG))
            return 0
        problem = _check_arity(cmd, path, args)
        if problem:
            ctx.err(f"{problem}\n\nUsage:  {PROG} {path} {cmd.usage}\n\n"
                    f"See '{PROG} {path} --help' for more information")
            return 1
        if not cmd.path.startswith("context ") and cmd.path != "system service":
            _choose_engine(ctx, cmd.path, path)
        code = cmd.handler(ctx, opts, args)
        return int(code or 0)
    except UsageError as exc:
        return _usage_error(ctx, path, cmd, str(exc))
    except PalletError as exc:
        ctx.err(f"Error: {exc}")
        if exc.exit_code is not None:
            return exc.exit_code
        return 125 if cmd is not None and cmd.path in RUN_PATHS else 1
    except KeyboardInterrupt as exc:  # ^C, or SIGTERM (`Terminated`): everything unwound
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line for the user, the traceback with --debug
        if ctx.debug or os.environ.get("PALLET_DEBUG"):
            raise
        from ..errors import translate
        known = translate(exc, ctx._engine.paths.db if getattr(ctx._engine, "paths", None) is not None else None)
        if known is not None:  # not a bug after all: a full disk
            ctx.err(f"Error: {known}")
            return 125 if cmd is not None and cmd.path in RUN_PATHS else 1
        ctx.err(f"Error: internal error: {type(exc).__name__}: {exc} (run with --debug for details)")
        return 125 if cmd is not None and cmd.path in RUN_PATHS else 1


def _choose_engine(ctx: Context, path: str, typed: str) -> None:
    """The one place a verb's engine is chosen: the local store, or, when -H, the context
    or DOCKER_HOST name another engine's socket, an Engine API client with the engine's
    methods (pallet.client); a verb the client does not drive is refused before anything
    runs (pallet.cli.contexts)."""
    from . import context_store
    if not ctx.host_flag and context_store.selected(ctx.context_flag) == context_store.DEFAULT \
            and not os.environ.get("DOCKER_HOST"):
        return  # the common case stays cheap: no context module, no client
    from .contexts import REMOTE_PATHS, endpoint, refuse
    chosen = endpoint(ctx)
    if chosen is None:
        return
    name, host, tls = chosen
    if path not in REMOTE_PATHS:
        raise refuse(name, host, typed)
    from ..client import connect
    ctx._engine = connect(host, tls, name)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so that it unwinds as on ^C: every `with`
    releases its lock, every `finally` runs (`commit` unpauses the container it froze,
    staged layers are released). The default action would end the process on the spot."""
    signal_name = "SIGTERM"  # what a foreground `run` passes on to its container


def _terminated(_signum, _frame) -> None:
    raise Terminated()


def main() -> None:
    import _signal  # not `signal`: its enum tables cost every command ~1 ms
    _signal.signal(_signal.SIGTERM, _terminated)
    try:
        code = run(sys.argv[1:])
        sys.stdout.flush()
    except BrokenPipeError:
        code = 0
    except UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        code = 125
    _exit(code)


def _exit(code: int) -> None:
    """Exit without the interpreter's teardown (~20 ms of module and object freeing for
    `pallet run`). Everything that matters is already durable: SQLite commits are in its
    WAL, files are written through `with` blocks, threads are daemons."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    main()
