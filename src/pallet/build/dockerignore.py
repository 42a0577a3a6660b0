"""`.dockerignore`: Docker's pattern language and its match rule (moby's patternmatcher).

Owns: `read_patterns(text)` and `Matcher`. A pattern is a Go `filepath.Match`
pattern over `/`-separated paths relative to the context root, plus `**`
(any number of directories). A leading `/` and `./` are dropped, paths are
cleaned; `!pattern` re-includes. The LAST matching pattern decides, and a
path is also excluded when one of its parent directories matches (so `dir`
excludes everything in it, and `!dir/keep` can bring one file back).
Pure; imports only the stdlib and pallet.errors.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from ..errors import InvalidArgument


def read_patterns(text: str) -> list[str]:
    """Lines of a .dockerignore: comments (#) and blank lines dropped, whitespace trimmed."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        out.append(line)
    return out


@dataclass(frozen=True)
class _Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern


def _clean(pattern: str) -> str:
    cleaned = posixpath.normpath(pattern)
    cleaned = cleaned.lstrip("/")
    return "." if cleaned in ("", ".") else cleaned


def compile_pattern(pattern: str) -> re.Pattern:
    """A Go filepath.Match pattern (plus `**`) as an anchored regex, as patternmatcher does."""
    out, i, n = ["^"], 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                out.append(".*" if i >= n else "(.*/)?")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            i += 1
            if i >= n:
                raise InvalidArgument(f"syntax error in pattern: {pattern}")
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise InvalidArgument(f"syntax error in pattern: {pattern}")
            body = pattern[i + 1:end]
            if body.startswith("^"):
                body = "!" + body[1:]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    try:
        return re.compile("".join(out), re.S)
    except re.error as exc:
        raise InvalidArgument(f"syntax error in pattern: {pattern}") from exc


class Matcher:
    def __init__(self, patterns: list[str]):
        self.patterns: list[_Pattern] = []
        for raw in patterns:
            exclusion = raw.startswith("!")
            body = raw[1:].strip() if exclusion else raw
            if not body:
                raise InvalidArgument('illegal exclusion pattern: "!"')
            cleaned = _clean(body)
            self.patterns.append(_Pattern(cleaned, exclusion, compile_pattern(cleaned)))

    @property
    def has_exclusions(self) -> bool:
        return any(p.exclusion for p in self.patterns)

    def excluded(self, rel: str) -> bool:
        """Is this context path (relative, `/`-separated) left out of the build?"""
        rel = posixpath.normpath(rel).lstrip("/")
        parents = _parents(rel)
        matched = False
        for p in self.patterns:
            if p.regex.match(rel) or any(p.regex.match(d) for d in parents):
                matched = not p.exclusion
        return matched

    def may_contain_included(self, rel_dir: str) -> bool:
        """Could an exception pattern bring back something under this excluded directory?"""
        prefix = rel_dir.rstrip("/") + "/"
        for p in self.patterns:
            if p.exclusion and (p.text.startswith(prefix) or "*" in p.text or "?" in p.text):
                return True
        return False


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]
