"""`--change`/`-c` for import and commit: Dockerfile instructions applied to a config.

Docker accepts CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME,
WORKDIR (and STOPSIGNAL, HEALTHCHECK for commit). Pure: returns a new config.
"""
from __future__ import annotations

import copy
import json
import shlex

from ..errors import InvalidArgument

ALLOWED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "USER", "VOLUME",
           "WORKDIR", "STOPSIGNAL")


def _json_or_shell(rest: str, shell: list[str]) -> list[str]:
    rest = rest.strip()
    if rest.startswith("["):
        try:
            value = json.loads(rest)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
        except ValueError:
            pass
    return [*shell, rest]


def _pairs(rest: str, instruction: str) -> list[tuple[str, str]]:
    words = shlex.split(rest)
    if not words:
        raise InvalidArgument(f"{instruction} requires at least one argument")
    if "=" not in words[0]:  # legacy form: ENV KEY value with spaces
        key, _, value = rest.strip().partition(" ")
        if not value.strip():
            raise InvalidArgument(f"{instruction} names can not be blank" if not key
                                  else f"{instruction} requires at least two arguments")
        return [(key, value.strip())]
    out = []
    for w in words:
        key, eq, value = w.partition("=")
        if not eq or not key:
            raise InvalidArgument(f"{instruction} names can not be blank" if not key
                                  else f"Syntax error - can't find = in \"{w}\". Must be of the form: name=value")
        out.append((key, value))
    return out


def _set_env(cfg: dict, key: str, value: str) -> None:
    env = [e for e in cfg.get("Env") or [] if e.split("=", 1)[0] != key]
    cfg["Env"] = env + [f"{key}={value}"]


def apply_changes(config: dict, changes: list[str]) -> dict:
    """Apply `-c` instructions to an OCI config's `config` section (Docker's field names)."""
    cfg = copy.deepcopy(config)
    for change in changes:
        instruction, _, rest = change.strip().partition(" ")
        op = instruction.upper()
        if op not in ALLOWED:
            raise InvalidArgument(f"{instruction.lower()} is not a valid change command")
        _apply_one(cfg, op, rest)
    return cfg


def _apply_one(cfg: dict, op: str, rest: str) -> None:
    shell = cfg.get("Shell") or ["/bin/sh", "-c"]
    if op == "CMD":
        cfg["Cmd"] = _json_or_shell(rest, shell)
    elif op == "ENTRYPOINT":
        cfg["Entrypoint"] = _json_or_shell(rest, shell)
        cfg.pop("Cmd", None) if not rest.strip() else None
    elif op == "ENV":
        for k, v in _pairs(rest, "ENV"):
            _set_env(cfg, k, v)
    elif op == "LABEL":
        cfg.setdefault("Labels", {}).update(dict(_pairs(rest, "LABEL")))
    elif op == "EXPOSE":
        for port in rest.split():
            key = port if "/" in port else f"{port}/tcp"
            cfg.setdefault("ExposedPorts", {})[key.lower()] = {}
    elif op == "VOLUME":
        paths = _json_or_shell(rest, []) if rest.strip().startswith("[") else rest.split()
        for p in paths:
            cfg.setdefault("Volumes", {})[p] = {}
    elif op == "USER":
        cfg["User"] = rest.strip()
    elif op == "WORKDIR":
        cfg["WorkingDir"] = rest.strip()
    elif op == "STOPSIGNAL":
        cfg["StopSignal"] = rest.strip()
    elif op == "ONBUILD":
        cfg.setdefault("OnBuild", []).append(rest.strip())
