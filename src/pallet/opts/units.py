"""Docker's units (go-units and Go's time.Duration): sizes and durations, both ways.

Owns the exact text Docker prints for sizes (``docker images`` SIZE, ``docker stats``)
and ages (``2 hours ago``, ``Up 5 minutes``), and the parsers for ``-m 512m``,
``--shm-size`` and Go durations (``--health-interval 1m30s``). Invariant: output
matches go-units byte for byte, including its quirks (999.5 kB prints ``1e+03kB``
because Go's ``%.3g`` switches to exponent form). Errors are ``InvalidArgument``
with Go's wording; callers add the ``invalid argument "x" for "-m" flag:`` prefix.
``--since``/``--until`` timestamps live in ``pallet.opts.timestamps``, which builds on this module.
Pure: imports only ``re`` and ``pallet.errors``.
"""
from __future__ import annotations

import re

from ..errors import InvalidArgument

_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
_BINARY_MULTIPLIERS = {c: 1024 ** (i + 1) for i, c in enumerate("kmgtp")}
# What Go's strconv.ParseFloat accepts in decimal form (no hex floats, no "_").
_GO_FLOAT = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"

NANOSECOND = 1
MICROSECOND = 1000 * NANOSECOND
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
_DURATION_UNITS = {"ns": NANOSECOND, "us": MICROSECOND, "\u00b5s": MICROSECOND,
                   "\u03bcs": MICROSECOND, "ms": MILLISECOND, "s": SECOND,
                   "m": MINUTE, "h": HOUR}
_MAX_DURATION = 1 << 63


def _scaled(size: float, base: float, units: tuple[str, ...]) -> tuple[float, str]:
    i = 0
    while size >= base and i < len(units) - 1:
        size /= base
        i += 1
    return size, units[i]


def human_size(size: float, precision: int = 3) -> str:
    """go-units HumanSizeWithPrecision: ``docker images`` uses 3 (``5.58MB``), ``system df`` 4."""
    value, unit = _scaled(float(size), 1000.0, _DECIMAL_UNITS)
    return f"{value:.{precision}g}{unit}"


def bytes_size(size: float) -> str:
    """go-units BytesSize, binary units as ``docker stats`` prints memory (``1.5MiB``)."""
    value, unit = _scaled(float(size), 1024.0, _BINARY_UNITS)
    return f"{value:.4g}{unit}"


def _parse_go_float(text: str) -> float:
    if text.isascii() and text.isdigit():  # "10" of the default "10m": no regex at start-up
        return float(text)
    if not re.fullmatch(_GO_FLOAT, text):
        raise InvalidArgument(f'strconv.ParseFloat: parsing "{text}": invalid syntax')
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InvalidArgument(f'strconv.ParseFloat: parsing "{text}": value out of range')
    return value


def parse_bytes(text: str) -> int:
    """go-units RAMInBytes: ``512m`` -> 536870912; k/m/g/t/p are powers of 1024."""
    sep = max(text.rfind(c) for c in "0123456789. ")
    if sep == -1:  # there must be at least one digit
        raise InvalidArgument(f"invalid size: '{text}'")
    number, suffix = (text[:sep + 1], text[sep + 1:]) if text[sep] != " " \
        else (text[:sep], text[sep + 1:])
    size = _parse_go_float(number)
    if size < 0:
        raise InvalidArgument(f"invalid size: '{text}'")
    if not suffix:
        return int(size)
    bad = InvalidArgument(f"invalid suffix: '{suffix}'")
    if len(suffix) > 3:
        raise bad
    suffix = suffix.lower()
    bad = InvalidArgument(f"invalid suffix: '{suffix}'")
    if suffix[0] == "b":
        if len(suffix) > 1:
            raise bad
        return int(size)
    multiplier = _BINARY_MULTIPLIERS.get(suffix[0])
    if multiplier is None or suffix[1:] not in ("", "b", "ib"):
        raise bad
    return int(size * multiplier)


def human_duration(seconds: float) -> str:
    """go-units HumanDuration: ``Less than a second`` ... ``About an hour`` ... ``2 years``."""
    ns = round(seconds * SECOND)
    whole_seconds = int(ns / SECOND)
    if whole_seconds < 1:
        return "Less than a second"
    if whole_seconds == 1:
        return "1 second"
    if whole_seconds < 60:
        return f"{whole_seconds} seconds"
    minutes = ns // MINUTE
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = (ns + HOUR // 2) // HOUR  # Go's Duration.Round(time.Hour): halves round up
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{ns // HOUR // 24 // 365} years"


def ago(timestamp: float, now: float) -> str:
    """The CREATED column: ``2 hours ago``."""
    return human_duration(now - timestamp) + " ago"


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_duration_ns(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds: ``1m30s`` -> 90_000_000_000."""
    invalid = InvalidArgument(f"time: invalid duration {_go_quote(text)}")
    rest, negative = text, False
    if rest[:1] in ("-", "+"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise invalid
    total = 0
    while rest:
        match = re.match(r"([0-9]*)(?:\.([0-9]*))?", rest)
        # Go stops reading fraction digits once they would overflow; 18 is that bound.
        whole, fraction = match.group(1), (match.group(2) or "")[:18]
        if not whole and not fraction:  # no digits at all, e.g. ".s" or "x"
            raise invalid
        rest = rest[match.end():]
        unit_match = re.match(r"[^0-9.]*", rest)
        unit_name = unit_match.group(0)
        if not unit_name:
            raise InvalidArgument(f"time: missing unit in duration {_go_quote(text)}")
        rest = rest[unit_match.end():]
        unit = _DURATION_UNITS.get(unit_name)
        if unit is None:
            raise InvalidArgument(
                f"time: unknown unit {_go_quote(unit_name)} in duration {_go_quote(text)}")
        value = int(whole or "0") * unit
        if fraction:  # Go computes the fractional part in float64, so do we
            value += int(int(fraction) * (unit / 10 ** len(fraction)))
        total += value
        if total > _MAX_DURATION:
            raise invalid
    if not negative and total > _MAX_DURATION - 1:
        raise invalid
    return -total if negative else total


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration, in seconds: ``1m30s`` -> 90.0."""
    return parse_duration_ns(text) / SECOND
