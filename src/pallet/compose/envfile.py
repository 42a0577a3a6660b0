"""Compose's dotenv files: `.env` (for interpolation) and a service's `env_file`.

Owns the format compose-go reads (a superset of `docker run --env-file`):
`KEY=VALUE`, an optional `export ` prefix, `#` comments (a ` #` after an
unquoted value starts one), single quotes taken literally, double quotes with
`\\n`/`\\t`/`\\"` escapes and `${VAR}` substitution, and a bare `KEY` that takes
its value from the environment (absent when that has none).
Errors are InvalidArgument naming the file and line. Pure but for reading the file.
"""
from __future__ import annotations

from collections.abc import Callable

from ..errors import InvalidArgument, NotFound

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "$": "$"}


def read(path: str, lookup: Callable[[str], str | None]) -> dict[str, str | None]:
    """The variables of one file, in order; a bare KEY without a value in `lookup` maps to None."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
    except FileNotFoundError:
        raise NotFound(f"env file {path} not found: stat {path}: no such file or directory") from None
    except OSError as exc:
        raise InvalidArgument(f"env file {path}: {exc.strerror}") from None
    out: dict[str, str | None] = {}

    def seen(name: str) -> str | None:  # earlier lines count, as compose-go resolves them
        return out[name] if out.get(name) is not None else lookup(name)
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[7:].lstrip()
        key, eq, raw = stripped.partition("=")
        key = key.strip()
        if not key or any(c.isspace() for c in key):
            raise InvalidArgument(f"{path}:{number}: unexpected character in variable name {key!r}")
        if not eq:
            out[key] = lookup(key)
            continue
        out[key] = _value(raw.strip(), seen, path, number)
    return out


def _value(raw: str, lookup, path: str, number: int) -> str:
    from .interpolation import substitute
    if raw[:1] == "'":
        end = raw.find("'", 1)
        if end < 0:
            raise InvalidArgument(f"{path}:{number}: unterminated quoted value")
        return raw[1:end]
    if raw[:1] == '"':
        out, i = [], 1
        while i < len(raw) and raw[i] != '"':
            if raw[i] == "\\" and i + 1 < len(raw):
                out.append(_ESCAPES.get(raw[i + 1], "\\" + raw[i + 1]))
                i += 2
                continue
            out.append(raw[i])
            i += 1
        if i >= len(raw):
            raise InvalidArgument(f"{path}:{number}: unterminated quoted value")
        return substitute("".join(out), lookup, f"{path}:{number}")
    comment = raw.find(" #")
    if comment >= 0:
        raw = raw[:comment].rstrip()
    return substitute(raw, lookup, f"{path}:{number}")
