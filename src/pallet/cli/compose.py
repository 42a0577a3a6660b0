"""`pallet compose`: docker compose v2's command line over pallet.compose.

Thin: the global flags load the project (pallet.compose.loader), each verb decodes its
flags, calls ComposeService and renders. Output as docker compose prints it without
a terminal: progress events on stderr (` Container p-web-1  Started`), warnings as
`WARN[0000] ...`, errors as one plain line. docker compose exits 1 for its own errors
and for flag errors (not 125: its flag-error function says so), passes through the
code of `exec`/`run`, and `up --exit-code-from`.
The verbs live in pallet.cli.compose_verbs.
"""
from __future__ import annotations

import os
import sys

from ..errors import PalletError, UsageError
from . import flags as fl
from .flags import Command, F

GLOBAL_FLAGS = [
    F("file", "f", kind="list", help="Compose configuration files"),
    F("project-name", "p", kind="str", help="Project name"),
    F("project-directory", kind="str", help="Specify an alternate working directory "
      "(default: the path of the, first specified, Compose file)"),
    F("env-file", kind="list", help="Specify an alternate environment file"),
    F("profile", kind="list", help="Specify a profile to enable"),
    F("ansi", kind="str", default="auto", help='Control when to print ANSI control characters ("never"|"always"|"auto")'),
    F("progress", kind="str", help='Set type of progress output (auto, tty, plain, json, quiet)'),
    F("parallel", kind="int", default=-1, help="Control max parallelism, -1 for unlimited"),
    F("dry-run", help="Execute command in dry run mode"),
    F("compatibility", help="Run compose in backward compatibility mode"),
    F("all-resources", help="Include all resources, even those not used by services"),
    F("version", "v", help="Show the Docker Compose version information"),
]


class ComposeContext:
    """What a compose verb gets: the CLI context, the global options, the project on demand."""

    def __init__(self, ctx, gopts):
        self.ctx, self.g = ctx, gopts
        self._service = None
        self.interpolate = True  # `config --no-interpolate` turns it off

    @property
    def engine(self):
        return self.ctx.engine

    def warn(self, text: str) -> None:
        self.ctx.err(f"WARN[0000] {text}")

    def event(self, resource: str, status: str) -> None:
        if self.g.progress != "quiet":
            self.ctx.err(f" {resource}  {status}")  # compose's plain writer: Println("", ID, Text, Status)

    def options(self):
        from ..services.compose_types import ProjectOptions
        return ProjectOptions(files=list(self.g.file), project_name=self.g.project_name,
                              project_directory=self.g.project_directory, env_files=list(self.g.env_file),
                              profiles=list(self.g.profile), stdin=self.ctx.stdin, interpolate=self.interpolate,
                              cache_dir=self.engine.paths.runroot / "compose-cache"
                              if os.geteuid() == 0 or self.ctx.runroot else None)

    def service(self, services: list[str] = ()):
        """The project's use cases (engine.compose), loaded once per command."""
        if self._service is None:
            self._service = self.engine.compose(self.options(), list(services), event=self.event, warn=self.warn,
                                                build_output=self.build_line)
        return self._service

    def project(self, services: list[str] = ()):
        return self.service(services).project

    def build_line(self, line: str) -> None:
        if self.g.progress != "quiet":
            self.ctx.stderr.write(line if line.endswith("\n") else line + "\n")

    @property
    def color(self) -> bool:
        if self.g.ansi == "always":
            return True
        if self.g.ansi == "never":
            return False
        try:
            return self.ctx.stdout.isatty()
        except (AttributeError, ValueError):
            return False


def _verbs() -> dict[str, Command]:
    from . import compose_observe, compose_verbs
    return {c.path: c for c in sorted(compose_verbs.VERBS + compose_observe.VERBS, key=lambda c: c.path)}


def _usage(ctx) -> int:
    ctx.out("Usage:  pallet compose [OPTIONS] COMMAND\n\nDefine and run multi-container applications "
            "with pallet\n\nOptions:")
    for f in GLOBAL_FLAGS:
        left = f"  -{f.short}, --{f.long}" if f.short else f"      --{f.long}"
        ctx.out(f"{left:<30}{f.help}")
    ctx.out("\nCommands:")
    for name, cmd in _verbs().items():
        ctx.out(f"  {name:<12}{cmd.summary}")
    ctx.out("\nRun 'pallet compose COMMAND --help' for more information on a command.")
    return 0


def compose(ctx, gopts, args) -> int:
    if gopts.version and not args:
        args = ["version"]
    if not args:
        return _usage(ctx)
    verbs = _verbs()
    cmd = verbs.get(args[0])
    if cmd is None:
        _usage(ctx)
        ctx.err(f'unknown docker command: "compose {args[0]}"')
        return 1
    cmd_flags = cmd.flags + [F("help", "h", help="Print usage", dest="_help")]
    try:
        opts, rest = fl.parse(Command(cmd.path, cmd.usage, cmd.summary, None, cmd_flags,
                                      interspersed=cmd.interspersed), args[1:])
    except UsageError as exc:  # docker compose's flag errors exit 1
        ctx.err(str(exc))
        return 1
    if opts._help:
        ctx.stdout.write(fl.help_text(Command(f"compose {cmd.path}", cmd.usage, cmd.summary, None, cmd.flags)))
        return 0
    if len(rest) < cmd.min_args or (cmd.max_args is not None and len(rest) > cmd.max_args):
        ctx.err(f"'pallet compose {cmd.path}' requires " + (
            f"at least {cmd.min_args} argument" if len(rest) < cmd.min_args else
            f"at most {cmd.max_args} arguments") + f"\n\nUsage:  pallet compose {cmd.path} {cmd.usage}")
        return 1
    if gopts.dry_run:
        ctx.err("--dry-run is not supported by pallet compose")
        return 1
    cc = ComposeContext(ctx, gopts)
    try:
        return int(cmd.handler(cc, opts, rest) or 0)
    except PalletError as exc:  # docker compose prints its error alone, exits 1 (or the code it fixes)
        ctx.err(str(exc))
        return exc.exit_code if exc.exit_code not in (None, 125) else 1


COMMANDS = [
    Command("compose", "[OPTIONS] COMMAND", "Define and run multi-container applications", compose,
            GLOBAL_FLAGS, 0, interspersed=False),
]

_ = sys
