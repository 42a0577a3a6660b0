"""Dockerfile parsing: BuildKit's own parser (the `dockerfile` PyPI package) plus Docker's checks.

Owns: `parse(text, filename) -> Dockerfile` (parser directives, meta ARGs
before the first FROM, stages with their instructions) and `parse_line` for
ONBUILD triggers. The Go parser handles continuations, comments, JSON vs shell
form and heredocs; this module adds what Docker checks before building
anything: unknown instructions, missing arguments, a missing FROM, bad JSON.
Every error is an InvalidArgument naming the file, line and instruction.
Imports `dockerfile` lazily (a compiled extension: keep CLI start-up cheap).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import InvalidArgument

INSTRUCTIONS = frozenset({
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"})
_AT_LEAST_ONE = {"ADD", "ARG", "CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "RUN", "SHELL",
                 "USER", "VOLUME", "WORKDIR", "HEALTHCHECK", "STOPSIGNAL", "MAINTAINER", "ONBUILD"}
_EXACTLY_ONE = {"STOPSIGNAL", "USER", "WORKDIR", "MAINTAINER"}
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")


@dataclass(frozen=True)
class Heredoc:
    name: str
    content: str
    expand: bool          # False when the delimiter was quoted (<<"EOF")


@dataclass(frozen=True)
class Instruction:
    cmd: str                        # upper-case keyword
    args: tuple[str, ...]           # the parser's value list (JSON form: the decoded list)
    flags: tuple[str, ...]          # "--from=x", ...
    json: bool
    original: str                   # the instruction as written (continuations joined)
    line: int
    heredocs: tuple[Heredoc, ...] = ()
    trigger: "Instruction | None" = None   # ONBUILD's inner instruction
    end_line: int = 0                        # its last line (continuations), 0 if unknown

    def flag(self, name: str) -> str | None:
        """Value of --name=value (last one wins); None when absent."""
        found = None
        for f in self.flags:
            key, eq, value = f[2:].partition("=")
            if key == name:
                found = value if eq else "true"
        return found

    def flag_values(self, name: str) -> list[str]:
        return [f[2:].partition("=")[2] for f in self.flags if f[2:].partition("=")[0] == name]


@dataclass
class Stage:
    index: int
    name: str | None                # from `AS name`, lower-cased as Docker does
    base: str                       # unexpanded image reference
    platform: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)
    from_instruction: Instruction | None = None


@dataclass
class Dockerfile:
    filename: str
    escape: str
    meta_args: list[Instruction]
    stages: list[Stage]
    source: str = ""                # the text, for the lines an error shows

def parse(text: str, filename: str = "Dockerfile") -> Dockerfile:
    import dockerfile as gofile
    escape = _directives(text, filename)
    try:
        raw = gofile.parse_string(text)
    except gofile.GoParseError as exc:
        raise InvalidArgument(f"{filename}: dockerfile parse error: {exc}") from exc
    meta: list[Instruction] = []
    stages: list[Stage] = []
    for cmd in raw:
        ins = _convert(cmd, filename)
        if ins.cmd == "FROM":
            stages.append(_stage(ins, len(stages), filename))
        elif not stages:
            if ins.cmd != "ARG":
                raise _error(filename, ins, "no build stage in current context")
            meta.append(ins)
        else:
            stages[-1].instructions.append(ins)
    if not stages:
        raise InvalidArgument(f"{filename}: dockerfile has no FROM instruction (no build stage)")
    _check_unique_names(stages, filename)
    return Dockerfile(filename, escape, meta, stages, text)


def parse_line(text: str, filename: str = "ONBUILD") -> Instruction:
    """One instruction (an ONBUILD trigger), checked like any other."""
    import dockerfile as gofile
    try:
        raw = gofile.parse_string(text + "\n")
    except gofile.GoParseError as exc:
        raise InvalidArgument(f"{filename}: dockerfile parse error: {exc}") from exc
    if len(raw) != 1:
        raise InvalidArgument(f"{filename}: expected one instruction in {text!r}")
    return _convert(raw[0], filename)


def _directives(text: str, filename: str) -> str:
    """Parser directives at the top (`# escape=`, `# syntax=`); returns the escape character."""
    escape = "\\"
    for line in text.splitlines():
        m = _DIRECTIVE.match(line.strip())
        if not m:
            break
        key, value = m.group(1).lower(), m.group(2)
        if key == "escape":
            if value not in ("\\", "`"):
                raise InvalidArgument(f"{filename}:1: invalid escape token '{value}' does not match ` or \\")
            escape = value
    return escape


def _convert(cmd, filename: str) -> Instruction:
    name = cmd.cmd.upper()
    heredocs = tuple(Heredoc(h.name, h.content, not _quoted_heredoc(cmd.original, h.name))
                     for h in cmd.heredocs)
    trigger = None
    if name == "ONBUILD":
        if not cmd.sub_cmd:
            raise _error(filename, cmd, "ONBUILD requires at least one argument", name)
        body = cmd.original.split(None, 1)[1] if len(cmd.original.split(None, 1)) > 1 else ""
        trigger = Instruction(cmd.sub_cmd.upper(), tuple(cmd.value), tuple(cmd.flags), cmd.json, body,
                              cmd.start_line, heredocs)
        if trigger.cmd in ("ONBUILD", "FROM", "MAINTAINER"):
            raise _error(filename, cmd, f"{trigger.cmd} isn't allowed as an ONBUILD trigger", name)
        _check(trigger, filename)
    ins = Instruction(name, tuple(cmd.value), tuple(cmd.flags), cmd.json, cmd.original,
                      cmd.start_line, heredocs, trigger, cmd.end_line)
    if name != "ONBUILD":
        _check(ins, filename)
    return ins


def _quoted_heredoc(original: str, name: str) -> bool:
    return bool(re.search(r"<<-?\s*(['\"])" + re.escape(name) + r"\1", original))


def _check(ins: Instruction, filename: str) -> None:
    cmd, n = ins.cmd, len([a for a in ins.args if a != ""])
    if cmd not in INSTRUCTIONS:
        raise _error(filename, ins, f"unknown instruction: {cmd}")
    if cmd == "SHELL" and not ins.json:
        raise _error(filename, ins, "SHELL requires the arguments to be in JSON form")
    if cmd in ("COPY", "ADD"):
        if n < 2:
            if n == 1:
                raise _error(filename, ins, f"{cmd} requires at least two arguments, but only one was "
                                            "provided. Destination could not be determined.")
            raise _error(filename, ins, f"{cmd} requires at least two arguments")
    elif cmd == "FROM":
        if n not in (1, 3) or (n == 3 and ins.args[1].lower() != "as"):
            raise _error(filename, ins, "FROM requires either one or three arguments")
    elif cmd in _EXACTLY_ONE and n != 1 and not (cmd == "MAINTAINER" and n > 1):
        raise _error(filename, ins, f"{cmd} requires exactly one argument")
    elif cmd in _AT_LEAST_ONE and n == 0 and not ins.heredocs:
        raise _error(filename, ins, f"{cmd} requires at least one argument")
    if cmd == "ENV" and any(ins.args[i] == "" for i in range(0, len(ins.args), 2)):
        raise _error(filename, ins, "ENV names can not be blank")


def _stage(ins: Instruction, index: int, filename: str) -> Stage:
    name = ins.args[2].lower() if len(ins.args) == 3 else None
    if name is not None and not re.fullmatch(r"[a-z][a-z0-9-_.]*", name):
        raise _error(filename, ins, f"invalid name for build stage: {ins.args[2]!r}, "
                                    "name can't start with a number or contain symbols")
    return Stage(index, name, ins.args[0], ins.flag("platform"), ins.line, [], ins)


def _check_unique_names(stages: list[Stage], filename: str) -> None:
    seen = {}
    for s in stages:
        if s.name and s.name in seen:
            raise InvalidArgument(f"{filename}:{s.line}: duplicate stage name {s.name!r} "
                                  f"(first defined on line {seen[s.name]})")
        if s.name:
            seen[s.name] = s.line


def _error(filename: str, ins, message: str, cmd: str | None = None) -> InvalidArgument:
    line = getattr(ins, "line", None) or getattr(ins, "start_line", 0)
    text = getattr(ins, "original", "").split("\n", 1)[0]
    return InvalidArgument(f"{filename}:{line}: dockerfile parse error on line {line}: "
                           f"{message} ({text})")
