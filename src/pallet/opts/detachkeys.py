"""Docker's detach keys: `--detach-keys` and config.json's `detachKeys` (moby/term's ToBytes).

A comma-separated list of keys, each `ctrl-<c>` for c in a-z, `@`, `[`, `\\`, `]`, `^`,
`_` (the control code it names), `DEL`, or one plain character standing for itself.
The default is ctrl-p,ctrl-q. An empty text means "not given" (Docker tests for ""),
so the default applies. Pure: no terminal, no I/O.
"""
from __future__ import annotations

from ..errors import InvalidArgument

DEFAULT_DETACH_KEYS = b"\x10\x11"  # ctrl-p, ctrl-q
_CTRL = "@abcdefghijklmnopqrstuvwxyz[\\]^_"  # ctrl-@ is 0, ctrl-a 1, ... ctrl-_ 31


def parse_detach_keys(text: str | None, word: str = "detach") -> bytes:
    """The bytes of the sequence `text` names (the default for None or ""). An unknown key
    is the daemon's InvalidArgument "Invalid detach keys (TEXT) provided"; exec's daemon
    says "escape keys" (`word="escape"`)."""
    if not text:
        return DEFAULT_DETACH_KEYS
    codes = bytearray()
    for key in text.split(","):
        code = _code(key)
        if code is None:
            raise InvalidArgument(f"Invalid {word} keys ({text}) provided")
        codes.append(code)
    return bytes(codes)


def _code(key: str) -> int | None:
    raw = key.encode()
    if len(raw) == 1:  # one byte, as Go counts a string's length: "é" is two
        return raw[0]
    if key == "DEL":
        return 127
    if key.startswith("ctrl-") and len(key) == 6 and key[5] in _CTRL:
        return _CTRL.index(key[5])
    return None
