"""``-e``/``--env`` and ``--env-file``, and how Docker merges environments.

Owns three steps, as Docker splits them:

1. the CLI reads ``--env-file`` files then ``-e`` values into ``Config.Env``
   (``env_options``); ``KEY`` alone takes the host's value, and stays a bare
   ``KEY`` when the host has none;
2. the daemon merges that list with the image's ``Env`` (``merge_env``): the
   user's entries first, then image entries whose key the user did not name;
3. the process gets ``PATH``/``HOSTNAME``/``TERM`` defaults replaced or extended
   by ``Config.Env`` (``process_env``); a bare ``KEY`` unsets, so ``-e KEY`` with
   no host value removes the image's ``KEY`` and is absent from the process.

Errors are ``UsageError`` (Docker's CLI rejects them: exit 125) in Docker's
wording. Reads only the files named and ``os.environ``.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

from ..errors import UsageError

_WHITESPACE = " \t"
_UTF8_BOM = b"\xef\xbb\xbf"

Lookup = Callable[[str], "str | None"]


def _key(entry: str) -> str:
    return entry.split("=", 1)[0]


def parse_env(value: str, lookup: Lookup | None = None) -> str:
    """One ``-e`` value (Docker's ValidateEnv): ``KEY=VAL`` as is, ``KEY`` from the host."""
    key, has_value, _ = value.partition("=")
    if not key:
        raise UsageError(f'invalid argument "{value}" for "-e, --env" flag: invalid environment variable: {value}')
    if has_value:
        return value
    host_value = (lookup or os.environ.get)(key)
    return value if host_value is None else f"{key}={host_value}"


def read_env_file(path: str, lookup: Lookup | None = None) -> list[str]:
    """Docker's env-file rules: ``#`` comments and blank lines skipped, value kept verbatim."""
    data = _read(path)
    entries: list[str] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw[:-1] if raw.endswith(b"\r") else raw
        if number == 1:
            raw = raw.removeprefix(_UTF8_BOM)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            shown = " ".join(str(b) for b in raw)
            raise UsageError(
                f"env file {path} contains invalid utf8 bytes at line {number}: [{shown}]") from None
        entry = _env_file_line(text.lstrip(), path, lookup)
        if entry is not None:
            entries.append(entry)
    return entries


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except IsADirectoryError as exc:
        raise UsageError(f"read {path}: is a directory") from exc
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise UsageError(f"open {path}: {reason}") from exc


def _env_file_line(line: str, path: str, lookup: Lookup | None) -> str | None:
    if not line or line.startswith("#"):
        return None
    variable, has_value, value = line.partition("=")
    variable = variable.lstrip(_WHITESPACE)
    if any(c in variable for c in _WHITESPACE):
        raise UsageError(
            f"invalid env file ({path}): variable '{variable}' contains whitespaces")
    if not variable:
        raise UsageError(f"invalid env file ({path}): no variable name on line '{line}'")
    if has_value:
        return f"{variable}={value}"
    host_value = (lookup or os.environ.get)(variable)
    return line if host_value is None else f"{variable}={host_value}"


def env_options(env: Iterable[str] = (), env_files: Iterable[str] = (),
                lookup: Lookup | None = None) -> list[str]:
    """``Config.Env`` from ``--env-file`` files (first) and ``-e`` values (after, so they win)."""
    out: list[str] = []
    for path in env_files:
        out.extend(read_env_file(path, lookup))
    out.extend(parse_env(value, lookup) for value in env)
    return out


def merge_env(image_env: Iterable[str] | None, overrides: Iterable[str] | None) -> list[str]:
    """The container's ``Config.Env``: user entries (later wins, first position kept),
    then the image's entries for keys the user did not name, in image order."""
    merged: dict[str, str] = {}
    for entry in overrides or ():
        merged[_key(entry)] = entry
    for entry in image_env or ():
        merged.setdefault(_key(entry), entry)
    return list(merged.values())


def process_env(defaults: Iterable[str], config_env: Iterable[str]) -> list[str]:
    """The process environment: ``defaults`` (``PATH=...``, ``HOSTNAME=...``) replaced or
    extended by ``config_env``; a bare ``KEY`` removes it (Docker's ReplaceOrAppendEnvValues)."""
    merged: dict[str, str | None] = {_key(e): e for e in defaults}
    for entry in config_env:
        key = _key(entry)
        merged[key] = entry if "=" in entry else None
    return [e for e in merged.values() if e is not None]


def env_dict(env: Iterable[str]) -> Mapping[str, str]:
    """``["A=1", "B"]`` -> ``{"A": "1"}``: bare keys carry no value and are left out."""
    return {k: v for k, sep, v in (e.partition("=") for e in env) if sep}
