"""Signal names as Docker accepts them: `KILL`, `SIGKILL`, `kill`, `9`."""
from __future__ import annotations

import signal as _signal

from ..errors import InvalidArgument


def parse_signal(text: str | int) -> int:
    """The signal number for a Docker-style name or number; InvalidArgument otherwise."""
    if isinstance(text, int):
        return text
    word = str(text).strip().upper()
    if word.isdigit():
        n = int(word)
        if 0 < n < 65:
            return n
        raise InvalidArgument(f"Invalid signal: {text}")
    if not word.startswith("SIG"):
        word = "SIG" + word
    try:
        return int(getattr(_signal.Signals, word))
    except AttributeError:
        if word.startswith("SIGRTMIN+") and word[9:].isdigit():
            return _signal.SIGRTMIN + int(word[9:])
        raise InvalidArgument(f"Invalid signal: {text}") from None


def signal_name(n: int) -> str:
    try:
        return _signal.Signals(n).name
    except ValueError:
        return str(n)
