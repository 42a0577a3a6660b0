"""``--filter name=value``: parsing, validation and Docker's matching rules.

Owns Docker's filters.Args semantics: names are lower-cased and trimmed, values
trimmed; a name may repeat (``-f label=a -f label=b``) and repeated values collapse.
Different names must all match (AND); for most names any one value may match (OR),
but every ``label`` value must match. Errors use Docker's words: the flag error
``bad format of filter (expected name=value)`` is a ``UsageError`` (exit 125; the
CLI adds ``invalid argument "x" for "-f, --filter" flag:``), an unknown name or
bad value is an ``InvalidArgument`` (``invalid filter 'foo'``, exit 1).
Pure: imports only ``re`` and ``pallet.errors``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ..errors import InvalidArgument, UsageError


def _invalid_filter(name: str, values: Iterable[str] | None = None) -> InvalidArgument:
    """Docker's invalidFilter error text: ``invalid filter 'name'`` or ``'name=a,b'``."""
    text = name if values is None else f"{name}={','.join(values)}"
    return InvalidArgument(f"invalid filter '{text}'")


def parse_filters(values: Iterable[str], allowed: Iterable[str] | None = None) -> dict[str, list[str]]:
    """``["dangling=true", "label=a"]`` -> ``{"dangling": ["true"], "label": ["a"]}``.

    ``allowed`` is the set of filter names the command accepts (None: any).
    """
    parsed: dict[str, list[str]] = {}
    for value in values:
        if value == "":  # Docker ignores an empty --filter
            continue
        if "=" not in value:
            raise UsageError("bad format of filter (expected name=value)")
        name, _, val = value.partition("=")
        name, val = name.strip().lower(), val.strip()
        bucket = parsed.setdefault(name, [])
        if val not in bucket:
            bucket.append(val)
    if allowed is not None:
        allowed = set(allowed)
        for name in parsed:
            if name not in allowed:
                raise _invalid_filter(name)
    return parsed


class Filters:
    """A parsed set of filters with the matching helpers services need."""

    def __init__(self, fields: Mapping[str, list[str]] | None = None):
        self.fields: dict[str, list[str]] = {k: list(v) for k, v in (fields or {}).items()}

    @classmethod
    def parse(cls, values: Iterable[str], allowed: Iterable[str] | None = None) -> Filters:
        return cls(parse_filters(values, allowed))

    def __bool__(self) -> bool:
        return bool(self.fields)

    def __contains__(self, name: str) -> bool:
        return name in self.fields

    def get(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    def exact_match(self, name: str, source: str) -> bool:
        """True when ``name`` is absent or one of its values equals ``source``."""
        values = self.fields.get(name)
        return not values or source in values

    def unique_exact_match(self, name: str, source: str) -> bool:
        """True when ``name`` is absent or given exactly once, equal to ``source``."""
        values = self.fields.get(name)
        return not values or values == [source]

    def match(self, name: str, source: str) -> bool:
        """Docker's Match: a value equal to ``source`` or a regexp found in it."""
        values = self.fields.get(name)
        if not values or source in values:
            return True
        for pattern in values:
            try:
                if re.search(pattern, source):
                    return True
            except re.error:
                continue  # Docker ignores a value that is not a valid regexp
        return False

    def fuzzy_match(self, name: str, source: str) -> bool:
        """Docker's FuzzyMatch: a value equal to ``source`` or a prefix of it (IDs)."""
        values = self.fields.get(name)
        return not values or any(source.startswith(v) for v in values)

    def match_label(self, labels: Mapping[str, str] | None, name: str = "label") -> bool:
        """Every ``label=key`` needs the key; every ``label=key=value`` needs that value."""
        values = self.fields.get(name)
        if not values:
            return True
        labels = labels or {}
        for value in values:
            key, has_value, expected = value.partition("=")
            if key not in labels or (has_value and labels[key] != expected):
                return False
        return True

    def bool_value(self, name: str, default: bool | None = None) -> bool | None:
        """``dangling=true|false|1|0``; conflicting or other values are ``invalid filter``."""
        values = self.fields.get(name)
        if values is None:
            return default
        is_true = "1" in values or "true" in values
        is_false = "0" in values or "false" in values
        if is_true == is_false:
            raise _invalid_filter(name, values)
        return is_true

    def validate(self, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for name in self.fields:
            if name not in allowed:
                raise _invalid_filter(name)
