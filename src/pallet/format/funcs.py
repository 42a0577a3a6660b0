"""The functions a ``--format`` template can call.

Owns Go text/template's built-ins (and/or are evaluated lazily by the
executor; the rest are here) and docker/cli's additions (``json``, ``join``,
``split``, ``title``, ``lower``, ``upper``, ``pad``, ``truncate``), plus the
header variants docker uses when it renders a table's header row. Each entry
is ``name -> (callable, min_args, max_args or None)``.

A function signals a Go "error calling f: ..." with ``CallError`` and a Go
argument type mismatch ("wrong type for value; ...") with ``ArgTypeError``;
the executor adds position and context.
"""
from __future__ import annotations

from collections.abc import Mapping

from pallet.format.printf import sprint, sprintf, sprintln
from pallet.format.values import MISSING, go_type_name, is_true, to_json


class CallError(Exception):
    """A function failed: Go reports ``error calling NAME: MESSAGE``."""


class ArgTypeError(Exception):
    """An argument has the wrong type for the function's Go signature."""


def _string(value) -> str:
    if isinstance(value, str):
        return value
    if value is MISSING or value is None:
        raise ArgTypeError("invalid value; expected string")
    raise ArgTypeError(f"wrong type for value; expected string; got {go_type_name(value)}")


def _integer(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        got = "<nil>" if value is None or value is MISSING else go_type_name(value)
        raise ArgTypeError(f"wrong type for value; expected int; got {got}")
    return int(value)


def _string_list(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [v if isinstance(v, str) else sprint(v) for v in value]
    raise ArgTypeError(f"wrong type for value; expected []string; got {go_type_name(value)}")


# -- Go built-ins ------------------------------------------------------------

def go_len(item) -> int:
    if item is None or item is MISSING:
        raise CallError("len of nil pointer")
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, (list, tuple, Mapping, bytes)):
        return len(item)
    raise CallError(f"len of type {go_type_name(item)}")


def go_index(item, *indexes):
    for index in indexes:
        if item is None or item is MISSING:
            return ""  # docker's typed data: a nil map indexes to its zero value
        if isinstance(item, Mapping):
            if index in item:
                item = item[index]
            else:
                item = _zero_of_values(item)
        elif isinstance(item, (list, tuple, str)):
            position = _index_int(index)
            if not 0 <= position < len(item):
                raise CallError(f"index out of range: {position}")
            item = item[position] if not isinstance(item, str) else item.encode()[position]
        else:
            raise CallError(f"can't index item of type {go_type_name(item)}")
    return item


def _index_int(index) -> int:
    if isinstance(index, bool) or not isinstance(index, int):
        raise CallError(f"cannot index slice/array with type {go_type_name(index)}")
    return index


def _zero_of_values(mapping: Mapping):
    """Go returns the element type's zero value for a missing key."""
    if all(isinstance(v, str) for v in mapping.values()):
        return ""
    return None


def go_slice(item, *indexes):
    if not isinstance(item, (str, list, tuple)):
        raise CallError(f"can't slice item of type {go_type_name(item)}")
    if len(indexes) > 3 or (len(indexes) == 3 and isinstance(item, str)):
        raise CallError(f"too many slice indexes: {len(indexes)}")
    bounds = [_index_int(i) for i in indexes]
    size = len(item.encode()) if isinstance(item, str) else len(item)
    start = bounds[0] if bounds else 0
    end = bounds[1] if len(bounds) > 1 else size
    if not 0 <= start <= end <= size:
        raise CallError(f"index out of range: {end if end > size else start}")
    if isinstance(item, str):
        return item.encode()[start:end].decode(errors="replace")
    return item[start:end]


def _basic_kind(value):
    if value is None or value is MISSING:
        return None
    for kind in (bool, int, float, complex, str):
        if isinstance(value, kind):
            return kind
    return object


def go_eq(arg1, *others) -> bool:
    if not others:
        raise CallError("missing argument for comparison")
    kind1 = _basic_kind(arg1)
    for arg in others:
        kind2 = _basic_kind(arg)
        if kind1 is not kind2:
            if kind1 is not None and kind2 is not None:
                raise CallError("incompatible types for comparison")
            continue
        if arg1 == arg:
            return True
    return False


def go_ne(arg1, arg2) -> bool:
    return not go_eq(arg1, arg2)


def go_lt(arg1, arg2) -> bool:
    kind1, kind2 = _basic_kind(arg1), _basic_kind(arg2)
    if kind1 in (bool, complex, object, None) or kind2 in (bool, complex, object, None):
        if kind1 is kind2 or kind1 is None or kind2 is None:
            raise CallError("invalid type for comparison")
        raise CallError("incompatible types for comparison")
    if kind1 is not kind2:
        raise CallError("incompatible types for comparison")
    return arg1 < arg2


def go_le(arg1, arg2) -> bool:
    return go_lt(arg1, arg2) or go_eq(arg1, arg2)


def go_gt(arg1, arg2) -> bool:
    return not go_le(arg1, arg2)


def go_ge(arg1, arg2) -> bool:
    return not go_lt(arg1, arg2)


def go_not(arg) -> bool:
    return not is_true(arg)


def go_html(*args) -> str:
    text = sprint(*args)
    for old, new in (("&", "&amp;"), ("'", "&#39;"), ("<", "&lt;"), (">", "&gt;"),
                     ('"', "&#34;"), ("\x00", "\ufffd")):
        text = text.replace(old, new)
    return text


def go_js(*args) -> str:
    out = []
    for ch in sprint(*args):
        if ch in "\\'\"":
            out.append("\\" + ch)
        elif ch in "<>&=" or ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def go_urlquery(*args) -> str:
    from urllib.parse import quote_plus  # only templates that ask for it pay the import
    return quote_plus(sprint(*args), safe="")


def go_call(fn, *args):
    if not callable(fn):
        raise CallError(f"non-function of type {go_type_name(fn)}")
    try:
        return fn(*args)
    except Exception as exc:  # the called function's failure, reported Go's way
        raise CallError(str(exc)) from exc


# -- docker/cli templates.go ---------------------------------------------------

def title(source) -> str:
    """strings.Title: upper-case the first letter of every word."""
    out, previous = [], " "
    for ch in _string(source):
        if _is_separator(previous):
            upper = ch.upper()
            out.append(upper if len(upper) == 1 else ch)
        else:
            out.append(ch)
        previous = ch
    return "".join(out)


def _is_separator(ch: str) -> bool:
    if ch.isascii():
        return not (ch.isalnum() or ch == "_")
    if ch.isalpha() or ch.isdigit():
        return False
    return ch.isspace()


def split(source, sep) -> list[str]:
    source, sep = _string(source), _string(sep)
    return list(source) if sep == "" else source.split(sep)


def pad(source, prefix, suffix) -> str:
    source = _string(source)
    if source == "":
        return source
    return " " * _integer(prefix) + source + " " * _integer(suffix)


def truncate(source, length) -> str:
    source, length = _string(source), _integer(length)
    if len(source) < length:
        return source
    if length < 0:
        raise CallError(f"slice bounds out of range [:{length}]")
    return source[:length]


def _header_identity(value, *_ignored) -> str:
    return _string(value)


BUILTINS = {
    "and": (None, 1, None), "or": (None, 1, None),  # short-circuit: done by the executor
    "not": (go_not, 1, 1), "len": (go_len, 1, 1), "index": (go_index, 1, None),
    "slice": (go_slice, 1, None), "print": (sprint, 0, None),
    "printf": (lambda fmt, *a: sprintf(_string(fmt), *a), 1, None),
    "println": (sprintln, 0, None), "eq": (go_eq, 1, None), "ne": (go_ne, 2, 2),
    "lt": (go_lt, 2, 2), "le": (go_le, 2, 2), "gt": (go_gt, 2, 2), "ge": (go_ge, 2, 2),
    "html": (go_html, 0, None), "js": (go_js, 0, None), "urlquery": (go_urlquery, 0, None),
    "call": (go_call, 1, None),
}

DOCKER_FUNCS = {
    **BUILTINS,
    "json": (to_json, 1, 1), "split": (split, 2, 2),
    "join": (lambda items, sep: _string(sep).join(_string_list(items)), 2, 2),
    "title": (title, 1, 1), "lower": (lambda s: _string(s).lower(), 1, 1),
    "upper": (lambda s: _string(s).upper(), 1, 1), "pad": (pad, 3, 3),
    "truncate": (truncate, 2, 2),
}

# docker renders a table's header with these so "{{json .Names}}" heads its
# column with "NAMES"; pad stays real to keep the header aligned.
HEADER_FUNCS = {
    **DOCKER_FUNCS,
    "json": (_header_identity, 1, 1), "split": (_header_identity, 2, 2),
    "join": (_header_identity, 2, 2), "title": (_header_identity, 1, 1),
    "lower": (_header_identity, 1, 1), "upper": (_header_identity, 1, 1),
    "truncate": (_header_identity, 2, 2),
}
