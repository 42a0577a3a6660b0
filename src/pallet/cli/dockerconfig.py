"""What the CLI reads from Docker's client config (`$DOCKER_CONFIG/config.json`, else
`~/.docker/config.json`): `detachKeys`, the user's default detach sequence.

As docker/cli: a missing file is an empty config; one that does not parse is a warning
on stderr ("WARNING: Error loading config file: ...") and an empty config.
(Credentials in the same file are the registry's: `pallet.registry.auth`.)
"""
from __future__ import annotations

import os

from ..errors import PalletError


def config_path() -> str:
    base = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(base, "config.json")


def load(ctx) -> dict:
    import json  # only for a terminal attach (`run -it`), never on `run --rm`'s hot path
    path = config_path()
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read() or b"{}")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        ctx.err(f"WARNING: Error loading config file: {path}: {exc}")
        return {}
    return doc if isinstance(doc, dict) else {}


def detach_keys(ctx, flag: str | None, word: str = "detach") -> bytes:
    """The detach sequence for an attach: `--detach-keys`, else config.json's
    `detachKeys`, else ctrl-p,ctrl-q; an invalid one is Docker's one-line error (exit 1)."""
    from ..opts.detachkeys import parse_detach_keys
    text = flag or load(ctx).get("detachKeys")
    try:
        return parse_detach_keys(text if isinstance(text, str) else None, word)
    except PalletError as exc:
        exc.exit_code = 1  # the daemon's answer in Docker, for run too
        raise
