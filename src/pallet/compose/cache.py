"""A loaded project remembered between commands, so `ps` or a no-op `up` skip YAML and schema.

Owns the cache's validity rule: an entry is keyed by what `load` decides before it parses
anything (the files found, the project directory, the options), and holds the digest of
every file the load then read (Compose files, `extends`/`include` targets, `.env`,
`env_file`s) and the value of every variable it looked up (None for unset); it is used
only while each file still has that digest and each variable that value (so an entry
never holds the rest of the environment), and the warnings the load gave are replayed. Entries are
JSON files under the store's runroot (`compose-projects/`); a bad or stale entry is
simply ignored. PyYAML (~20 ms to import) and jsonschema (~50 ms) stay unloaded on a hit.
"""
from __future__ import annotations

import os
from pathlib import Path

from .. import jsontext
from ..digest import _sha256
from .project import Project


def key(parts: dict) -> str:
    return _sha256(jsontext.dumps(parts, sort_keys=True).encode()).hexdigest()


def file_digest(path: str) -> str | None:
    """What a file must still be for an entry to hold: its bytes' sha256 (the files are small)."""
    try:
        with open(path, "rb") as f:
            return _sha256(f.read()).hexdigest()
    except OSError:
        return None


def lookup(directory: Path | None, entry_key: str, env: dict):
    """(Project, warnings) from a valid entry, or None."""
    if directory is None:
        return None
    try:
        entry = jsontext.loads((directory / entry_key).read_text())
        if any(env.get(name) != value for name, value in entry["env"].items()):
            return None
        if any(file_digest(p) != d for p, d in entry["inputs"].items()):
            return None
        return Project(**entry["project"]), entry["warnings"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(directory: Path | None, entry_key: str, project: Project, inputs: list[str], warnings: list[str],
          env: dict) -> None:
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        doc = {"inputs": {p: file_digest(p) for p in dict.fromkeys(inputs)},
               "project": {f: getattr(project, f) for f in Project.__dataclass_fields__},
               "warnings": warnings, "env": env}
        tmp = directory / f".{entry_key}.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # resolved environments
        with os.fdopen(fd, "w") as f:
            f.write(jsontext.dumps(doc))
        os.replace(tmp, directory / entry_key)
    except (OSError, TypeError, ValueError):
        pass  # only a cache
