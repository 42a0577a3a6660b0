"""``--since``/``--until`` values, as Docker's api/types/time.GetTimestamp reads them.

A value is, in this order of trial: a Go duration before ``now`` (``10m``, ``1h30m``;
``0`` is not one), an RFC 3339-like date (``2024-01-02``, ``2024-01-02T15:04``,
``2024-01-02T15:04:05.5Z``, local time when no zone is given), or unix seconds with
an optional fraction (``1700000000.5``). The date layouts are parsed by a tiny
replica of Go's time.Parse so that error messages are Go's own
(``parsing time "2020-13-01": month out of range``). Pure apart from reading the
local time zone.
"""
from __future__ import annotations

import re
import time

from ..errors import InvalidArgument
from .units import parse_duration_ns

_RFC3339_LOCAL = "2006-01-02T15:04:05"
_RFC3339_NANO_LOCAL = "2006-01-02T15:04:05.999999999"
_RFC3339 = "2006-01-02T15:04:05Z07:00"
_RFC3339_NANO = "2006-01-02T15:04:05.999999999Z07:00"
_STD = r"2006|01|02|15|04|05|\.999999999|Z07:00"
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def parse_timestamp(value: str, now: float) -> float:
    """Seconds since the epoch that ``value`` names, relative to ``now`` for durations."""
    if value != "0":
        try:
            return now - parse_duration_ns(value) / 1e9
        except InvalidArgument:
            pass
    in_location = not (any(c in value for c in "zZ+") or value.count("-") == 3)
    try:
        fields = _go_parse(_layout_for(value, in_location), value)
    except InvalidArgument:
        if "-" in value:  # it was meant as a date: Go's message is the useful one
            raise
        return _parse_unix(value)
    offset = time.localtime(now).tm_gmtoff if in_location else fields["offset"]
    return _epoch_seconds(fields) - offset + fields["nsec"] / 1e9


def _layout_for(value: str, in_location: bool) -> str:
    if "." in value:
        return _RFC3339_NANO_LOCAL if in_location else _RFC3339_NANO
    if "T" in value:
        colons = value.count(":")
        if not in_location and "z" not in value.lower() and colons > 0:
            colons -= 1  # the zone offset's colon is not part of the time
        zone = "" if in_location else "Z07:00"
        if colons == 0:
            return "2006-01-02T15" + zone
        if colons == 1:
            return "2006-01-02T15:04" + zone
        return _RFC3339_LOCAL if in_location else _RFC3339
    return "2006-01-02" if in_location else "2006-01-02Z07:00"


def _parse_unix(value: str) -> float:
    seconds, dot, fraction = value.partition(".")
    if not re.fullmatch(r"[+-]?[0-9]+", seconds) or (dot and not re.fullmatch(r"[+-]?[0-9]+", fraction)):
        raise InvalidArgument(f'failed to parse value as time or duration: "{value}"')
    nanos = int(fraction) * 10 ** (9 - len(fraction)) if dot else 0
    return int(seconds) + nanos / 1e9


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _go_parse(layout: str, value: str) -> dict:
    """Go's time.Parse for the handful of layouts above, with Go's error messages."""
    fields = {"year": 0, "month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0,
              "nsec": 0, "offset": 0}

    def fail(value_elem: str, layout_elem: str, message: str = "") -> InvalidArgument:
        if message:
            return InvalidArgument(f"parsing time {_quote(value)}{message}")
        return InvalidArgument(f"parsing time {_quote(value)} as {_quote(layout)}: "
                               f"cannot parse {_quote(value_elem)} as {_quote(layout_elem)}")

    rest, pos = value, 0
    for match in [*re.finditer(_STD, layout), None]:
        literal = layout[pos:match.start() if match else len(layout)]
        if not rest.startswith(literal):
            raise fail(rest, literal)
        rest = rest[len(literal):]
        if match is None:
            break
        pos, std, hold = match.end(), match.group(0), rest
        try:
            rest, out_of_range = _parse_element(std, rest, fields, layout[pos:])
        except ValueError:
            raise fail(hold, std) from None
        if out_of_range:
            raise fail(rest, std, f": {out_of_range} out of range")
    if rest:
        raise fail(rest, "", f": extra text: {_quote(rest)}")
    if not 1 <= fields["day"] <= _days_in(fields["month"], fields["year"]):
        raise fail(rest, "", ": day out of range")
    return fields


def _getnum(text: str, fixed: bool) -> tuple[int, str]:
    if not text[:1].isdigit() or not text[:1].isascii():
        raise ValueError
    if not text[1:2].isdigit() or not text[1:2].isascii():
        if fixed:
            raise ValueError
        return int(text[0]), text[1:]
    return int(text[:2]), text[2:]


def _parse_element(std: str, rest: str, fields: dict, layout_rest: str) -> tuple[str, str]:
    """Consume one layout element; return the remaining value and a range-error noun."""
    if std == "2006":
        if not re.match(r"[0-9]{4}", rest):
            raise ValueError
        fields["year"] = int(rest[:4])
        return rest[4:], ""
    if std in ("01", "02", "15", "04", "05"):
        number, rest = _getnum(rest, fixed=std != "15")
        key, limit = {"01": ("month", 13), "02": ("day", 32), "15": ("hour", 24),
                      "04": ("minute", 60), "05": ("second", 60)}[std]
        fields[key] = number
        if std == "01" and number == 0 or number >= limit:
            return rest, key
        if std == "05" and not layout_rest.startswith(".999999999"):
            rest = _fraction(rest, fields)  # Go accepts a fraction after seconds anyway
        return rest, ""
    if std == ".999999999":
        return _fraction(rest, fields), ""
    return _zone(rest, fields)


def _fraction(rest: str, fields: dict) -> str:
    match = re.match(r"[.,]([0-9]+)", rest)
    if match:
        digits = match.group(1)
        fields["nsec"] = int(digits[:9].ljust(9, "0"))
        rest = rest[match.end():]
    return rest


def _zone(rest: str, fields: dict) -> tuple[str, str]:
    if rest.startswith("Z"):
        return rest[1:], ""
    if len(rest) < 6 or rest[3] != ":" or rest[0] not in "+-":
        raise ValueError
    hours, _ = _getnum(rest[1:3], True)
    minutes, _ = _getnum(rest[4:6], True)
    sign = -1 if rest[0] == "-" else 1
    fields["offset"] = sign * (hours * 60 + minutes) * 60
    if hours > 24:
        return rest[6:], "time zone offset hour"
    if minutes > 60:
        return rest[6:], "time zone offset minute"
    return rest[6:], ""


def _days_in(month: int, year: int) -> int:
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 29 if month == 2 and leap else _DAYS_IN_MONTH[month - 1]


def _epoch_seconds(f: dict) -> int:
    """Days from civil (proleptic Gregorian, any year), then seconds; ignores the zone."""
    year, month = f["year"] - (f["month"] <= 2), f["month"]
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + f["day"] - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146097 + day_of_era - 719468
    return days * 86400 + f["hour"] * 3600 + f["minute"] * 60 + f["second"]
