"""JSON text for the hot paths (`run`, `ps`, `start`), without importing the json package.

Owns nothing of JSON itself: `loads` and `dumps` drive `_json`, the C scanner and encoder
that the json package uses for these same calls, so the text is byte-for-byte what
``json.dumps``/``json.loads`` give for the arguments offered here. The json package is
avoided because it compiles regular expressions at import, and importing `re` (with
`enum`) is ~5 ms of every CLI start. Indented output and the rarer options stay with
the json package.

Errors are ValueError, as with the json package (its JSONDecodeError is one).
"""
from __future__ import annotations

import _json

_WHITESPACE = " \t\n\r"
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _DecoderContext:
    """The attributes `_json.make_scanner` reads (json.JSONDecoder's defaults)."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__
    memo: dict = {}


_scan = _json.make_scanner(_DecoderContext())


def loads(text: str | bytes | bytearray):
    if not isinstance(text, str):
        text = bytes(text).decode("utf-8-sig" if text[:3] == b"\xef\xbb\xbf" else "utf-8")
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        obj, end = _scan(text, start)
    except StopIteration as stop:
        raise ValueError(f"Expecting value: char {stop.value}") from None
    if text[end:].strip(_WHITESPACE):
        raise ValueError(f"Extra data: char {end}")
    return obj


def load(fp):
    return loads(fp.read())


def _unserialisable(obj):
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def dumps(obj, *, sort_keys: bool = False, compact: bool = False, ensure_ascii: bool = True) -> str:
    """``json.dumps(obj, sort_keys=…, ensure_ascii=…)``; `compact` means separators (",", ":")."""
    encode = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
    if isinstance(obj, str):
        return encode(obj)
    item, key = (",", ":") if compact else (", ", ": ")
    encoder = _json.make_encoder({}, _unserialisable, encode, None, key, item,
                                 sort_keys, False, True)
    return "".join(encoder(obj, 0))
