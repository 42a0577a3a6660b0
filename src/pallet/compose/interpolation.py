"""Compose's variable substitution: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`,
`${VAR:?err}`, `${VAR?err}`, `${VAR:+x}`, `${VAR+x}` and `$$` for a literal `$`.

Owns the grammar (the spec's 12-interpolation.md, as compose-go reads it: defaults
may themselves hold substitutions) and its application to every string value of a
loaded file (keys are never substituted). An unset variable with no default becomes
"" and is reported once through `warn`, as docker compose warns. A `:?`/`?` that
fires, or a template that does not close, is InvalidArgument naming the path.
Pure.
"""
from __future__ import annotations

from collections.abc import Callable

from ..errors import InvalidArgument

Lookup = Callable[[str], "str | None"]


class _Missing(Exception):
    def __init__(self, name: str, message: str):
        super().__init__(name)
        self.name, self.message = name, message


def _name_end(text: str, i: int) -> int:
    j = i
    while j < len(text) and (text[j] == "_" or text[j].isalnum() and text[j].isascii()):
        j += 1
    return j if j > i and not text[i].isdigit() else i


def _closing(text: str, i: int) -> int:
    """Index of the `}` closing the `${` whose body starts at i (nested `${...}` skipped)."""
    depth = 1
    while i < len(text):
        if text.startswith("$$", i):
            i += 2
            continue
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _expand(text: str, lookup: Lookup, unset: list[str]) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        if text.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        if text.startswith("${", i):
            end = _closing(text, i + 2)
            if end < 0:
                raise ValueError(f'Invalid template: "{text}"')
            out.append(_braced(text[i + 2:end], lookup, unset, text))
            i = end + 1
            continue
        end = _name_end(text, i + 1)
        if end == i + 1:
            out.append("$")  # a lone `$` is kept, as compose-go does
            i += 1
            continue
        out.append(_plain(text[i + 1:end], lookup, unset))
        i = end
    return "".join(out)


def _plain(name: str, lookup: Lookup, unset: list[str]) -> str:
    value = lookup(name)
    if value is None:
        unset.append(name)
        return ""
    return value


def _braced(body: str, lookup: Lookup, unset: list[str], whole: str) -> str:
    end = _name_end(body, 0)
    name, rest = body[:end], body[end:]
    if not name:
        raise ValueError(f'Invalid template: "{whole}"')
    if not rest:
        return _plain(name, lookup, unset)
    for op in (":-", ":?", ":+", "-", "?", "+"):
        if rest.startswith(op):
            arg = rest[len(op):]
            break
    else:
        raise ValueError(f'Invalid template: "{whole}"')
    value = lookup(name)
    empty_counts = op.startswith(":")
    is_set = value is not None and (value != "" or not empty_counts)
    kind = op[-1]
    if kind == "-":
        return value if is_set else _expand(arg, lookup, unset)
    if kind == "+":
        return _expand(arg, lookup, unset) if is_set else ""
    if not is_set:
        raise _Missing(name, _expand(arg, lookup, unset))
    return value


def substitute(text: str, lookup: Lookup, where: str = "", warn=None) -> str:
    """One string, substituted; `where` names it in errors."""
    unset: list[str] = []
    try:
        out = _expand(text, lookup, unset)
    except _Missing as exc:
        detail = f": {exc.message}" if exc.message else ""
        raise InvalidArgument(f"error while interpolating {where}: required variable {exc.name} "
                              f"is missing a value{detail}") from None
    except ValueError as exc:
        raise InvalidArgument(f"error while interpolating {where}: {exc}") from None
    for name in unset:
        if warn is not None:
            warn(name)
    return out


def interpolate(tree, lookup: Lookup, warn=None, path: str = ""):
    """Every string value of a loaded YAML tree substituted (a new tree); keys left alone."""
    if isinstance(tree, dict):
        return {k: interpolate(v, lookup, warn, f"{path}.{k}" if path else str(k)) for k, v in tree.items()}
    if isinstance(tree, list):
        return [interpolate(v, lookup, warn, f"{path}[{i}]") for i, v in enumerate(tree)]
    if isinstance(tree, str) and "$" in tree:
        return substitute(tree, lookup, path, warn)
    return tree
