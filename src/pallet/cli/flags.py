"""A flag parser with pflag's (Docker's) rules, and the Command record.

Why not argparse: Docker's grammar stops at the first positional for
`run IMAGE CMD ARGS...`, accepts `-it`, `-p8080:80`, `--name=x`, repeated
list flags, and words its errors in a fixed way (`unknown flag: --foo`,
exit 125). Imitating that on argparse costs more than these ~150 lines.
"""
from __future__ import annotations

from ..record import dataclass, field
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import Any, Callable

from ..errors import UsageError


@dataclass
class Flag:
    long: str
    short: str | None = None
    kind: str = "bool"          # bool | str | list | int | float | count
    default: Any = None
    help: str = ""
    dest: str | None = None
    metavar: str | None = None
    hidden: bool = False

    @property
    def name(self) -> str:
        return self.dest or self.long.replace("-", "_")

    def initial(self) -> Any:
        if self.kind == "list":
            return list(self.default or [])
        if self.kind == "bool":
            return bool(self.default)
        if self.kind == "count":
            return 0
        return self.default


def F(long: str, short: str | None = None, kind: str = "bool", default: Any = None,
      help: str = "", **kw) -> Flag:
    return Flag(long, short, kind, default, help, **kw)


@dataclass
class Command:
    path: str                    # "image ls"
    usage: str                   # "[OPTIONS] [REPOSITORY[:TAG]]"
    summary: str
    handler: Callable
    flags: list[Flag] = field(default_factory=list)
    min_args: int = 0
    max_args: int | None = None
    interspersed: bool = True    # False: flags end at the first positional (run, exec)
    aliases: tuple[str, ...] = ()


class Options(dict):
    """Parsed flags; attribute access, plus which flags were given explicitly."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError as exc:
            raise AttributeError(key) from exc

    given: set

    def was_set(self, name: str) -> bool:
        return name in self.given


_BOOL_WORDS = {"true": True, "1": True, "t": True, "false": False, "0": False, "f": False}


def _convert(flag: Flag, raw: str, spelled: str) -> Any:
    try:
        if flag.kind == "int":
            return int(raw, 10)
        if flag.kind == "float":
            return float(raw)
        if flag.kind == "bool":
            return _BOOL_WORDS[raw.lower()]
    except (ValueError, KeyError):
        what = {"int": "strconv.ParseInt", "float": "strconv.ParseFloat",
                "bool": "strconv.ParseBool"}[flag.kind]
        raise UsageError(f'invalid argument "{raw}" for "{spelled}" flag: '
                         f'{what}: parsing "{raw}": invalid syntax') from None
    return raw


def _spelled(flag: Flag) -> str:
    return f"-{flag.short}, --{flag.long}" if flag.short else f"--{flag.long}"


def _store(opts: Options, flag: Flag, value: Any) -> None:
    opts.given.add(flag.name)
    if flag.kind == "list":
        opts[flag.name].append(value)
    elif flag.kind == "count":
        opts[flag.name] += 1
    else:
        opts[flag.name] = value


def parse(cmd: Command, argv: list[str]) -> tuple[Options, list[str]]:
    longs = {f.long: f for f in cmd.flags}
    shorts = {f.short: f for f in cmd.flags if f.short}
    opts = Options({f.name: f.initial() for f in cmd.flags})
    opts.given = set()
    args: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        i += 1
        if word == "--":
            args.extend(argv[i:])
            break
        if word.startswith("--") and len(word) > 2:
            name, eq, value = word[2:].partition("=")
            flag = longs.get(name)
            if flag is None:
                raise UsageError(f"unknown flag: --{name}")
            if flag.kind in ("bool", "count"):
                _store(opts, flag, _convert(flag, value, _spelled(flag)) if eq else True)
                continue
            if not eq:
                if i >= len(argv):
                    raise UsageError(f"flag needs an argument: --{name}")
                value = argv[i]
                i += 1
            _store(opts, flag, _convert(flag, value, _spelled(flag)))
            continue
        if word.startswith("-") and len(word) > 1:
            i = _parse_shorts(word, argv, i, shorts, opts)
            continue
        args.append(word)
        if not cmd.interspersed:
            args.extend(argv[i:])
            break
    return opts, args


def _parse_shorts(word: str, argv: list[str], i: int, shorts: dict, opts: Options) -> int:
    letters = word[1:]
    j = 0
    while j < len(letters):
        c = letters[j]
        flag = shorts.get(c)
        if flag is None:
            raise UsageError(f"unknown shorthand flag: '{c}' in {word}")
        rest = letters[j + 1:]
        if flag.kind in ("bool", "count"):
            if rest.startswith("="):
                _store(opts, flag, _convert(flag, rest[1:], _spelled(flag)))
                return i
            _store(opts, flag, True)
            j += 1
            continue
        if rest:
            value = rest[1:] if rest.startswith("=") else rest
        else:
            if i >= len(argv):
                raise UsageError(f"flag needs an argument: '{c}' in -{c}")
            value = argv[i]
            i += 1
        _store(opts, flag, _convert(flag, value, _spelled(flag)))
        return i
    return i


def help_text(cmd: Command, prog: str = "pallet") -> str:
    lines = [f"Usage:  {prog} {cmd.path} {cmd.usage}".rstrip(), "", cmd.summary]
    if cmd.aliases:
        lines += ["", "Aliases:", "  " + ", ".join(f"{prog} {a}" for a in (cmd.path,) + cmd.aliases)]
    visible = [f for f in cmd.flags if not f.hidden]
    if visible:
        lines += ["", "Options:"]
        lefts = []
        for f in visible:
            left = (f"  -{f.short}, --{f.long}" if f.short else f"      --{f.long}")
            if f.kind not in ("bool", "count"):
                left += " " + (f.metavar or {"int": "int", "float": "decimal", "list": "list"}.get(f.kind, "string"))
            lefts.append(left)
        width = max(len(left) for left in lefts) + 3  # pflag: the longest flag, then the help
        lines += [f"{left:<{width}}{f.help}" for left, f in zip(lefts, visible)]
    return "\n".join(lines) + "\n"
