"""FamiliarMatch, the `reference=` filter of image lists: Go's path.Match of a pattern on
a reference's familiar forms (distribution/reference). Apart from pallet.reference, which
every command loads, because only an image list with that filter needs it. Pure."""
from __future__ import annotations

from .errors import PalletError
from .reference import familiar, split_name


def familiar_match(pattern: str, full: str) -> bool:
    """distribution/reference FamiliarMatch: Go's path.Match of `pattern` on the familiar
    string (``busybox:latest``), else on the familiar name (``busybox``). So ``*`` is one
    path element: it matches ``busybox`` but not ``team/app``. A malformed pattern is the
    daemon's plain error (a 500), "syntax error in pattern"."""
    return path_match(pattern, familiar(full)) or path_match(pattern, split_name(full)[0])


_ANY = object()  # `?`: one character, not '/'


def path_match(pattern: str, name: str) -> bool:
    """Go's path.Match: `*` is any run of non-'/' characters, `?` one non-'/' character,
    `[...]` / `[^...]` a class of characters and ranges (which may hold '/'), `\\c` the
    character c; the whole of `name` must match. Go's own algorithm, not a regex: after a
    star, the first place where the next fixed-length chunk fits is kept (no backtracking
    into the star), and any malformed pattern is an error, whatever the name."""
    chunks = _chunks(pattern)
    for n, (star, tokens) in enumerate(chunks):
        last = n == len(chunks) - 1
        if star and not tokens:  # a trailing star takes the rest of the element
            return "/" not in name
        rest = _match_chunk(tokens, name)
        if rest is not None and (not rest or not last):
            name = rest
            continue
        rest = _after_star(tokens, name, last) if star else None
        if rest is None:
            return False
        name = rest
    return not name


def _after_star(tokens: list, name: str, last: bool) -> str | None:
    """The rest of `name` once the star has taken 1, 2, ... characters (never a '/') and
    the chunk fits; the last chunk must also end the name."""
    for skip in range(len(name)):
        if name[skip] == "/":
            return None
        rest = _match_chunk(tokens, name[skip + 1:])
        if rest is not None and not (last and rest):
            return rest
    return None


def _match_chunk(tokens: list, text: str) -> str | None:
    """The rest of `text` after `tokens` (each matches one character), or None."""
    if len(text) < len(tokens):
        return None
    for token, char in zip(tokens, text):
        if token is _ANY:
            if char == "/":
                return None
        elif isinstance(token, tuple):
            negated, ranges = token
            if any(lo <= char <= hi for lo, hi in ranges) == negated:
                return None
        elif token != char:
            return None
    return text[len(tokens):]


def _chunks(pattern: str) -> list[tuple[bool, list]]:
    """(star before it, its tokens) for each chunk: the runs between stars, split where
    Go's scanChunk splits (a '*' inside [...] or after '\\' is no star)."""
    out = []
    while pattern:
        star = pattern.startswith("*")
        pattern = pattern.lstrip("*")
        i, in_class = 0, False
        while i < len(pattern) and (pattern[i] != "*" or in_class):
            if pattern[i] == "\\":
                i += 1
            elif pattern[i] in "[]":
                in_class = pattern[i] == "["
            i += 1
        out.append((star, _tokens(pattern[:i])))
        pattern = pattern[i:]
    return out


def _bad_pattern() -> PalletError:
    return PalletError("syntax error in pattern")  # Go's path.ErrBadPattern


def _tokens(chunk: str) -> list:
    out, i = [], 0
    while i < len(chunk):
        char = chunk[i]
        if char == "[":
            token, i = _char_class(chunk, i + 1)
            out.append(token)
            continue
        if char == "\\":
            i += 1
            if i == len(chunk):
                raise _bad_pattern()
        out.append(_ANY if char == "?" else chunk[i])
        i += 1
    return out


def _char_class(chunk: str, i: int) -> tuple[tuple, int]:
    """The class starting at chunk[i] (after its '['): ((negated, ranges), index after ']')."""
    negated = chunk.startswith("^", i)
    i += negated
    ranges: list[tuple[str, str]] = []
    while not (chunk.startswith("]", i) and ranges):  # a class is never empty
        lo, i = _class_char(chunk, i)
        hi = lo
        if chunk[i] == "-":
            hi, i = _class_char(chunk, i + 1)
        ranges.append((lo, hi))
    return (negated, tuple(ranges)), i + 1


def _class_char(chunk: str, i: int) -> tuple[str, int]:
    """Go's getEsc: one character of a class, maybe escaped; never a bare '-' or ']', and
    never the chunk's last (the class would be unclosed)."""
    if i >= len(chunk) or chunk[i] in "-]":
        raise _bad_pattern()
    if chunk[i] == "\\":
        i += 1
    if i + 1 >= len(chunk):
        raise _bad_pattern()
    return chunk[i], i + 1
