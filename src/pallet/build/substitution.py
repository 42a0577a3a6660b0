"""Docker's variable substitution in Dockerfile words (BuildKit's shell lexer, rewritten).

Owns: `expand(word, env)` (one word, quotes removed: ENV/LABEL values, COPY
sources, WORKDIR, ...) and `expand_words(text, env)` (split on unquoted
whitespace: EXPOSE, VOLUME, and the like), plus `EXPANDED`, the instructions
Docker substitutes in. RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK are left to the
shell inside the container, as Docker does.

Grammar (as Docker's): `$NAME`, `${NAME}`, `${NAME:-word}` (word if unset or
empty), `${NAME-word}` (word if unset), `${NAME:+word}` (word if set and not
empty), `${NAME+word}` (word if set), `${NAME:?msg}` / `${NAME?msg}` (error);
single quotes are literal, double quotes keep `$` live; the escape character
(`\\` or the `# escape=` directive's) makes the next character literal.
A `$` not followed by a name stays a `$`. Pure; imports only pallet.errors.
"""
from __future__ import annotations

from ..errors import InvalidArgument

EXPANDED = frozenset({"ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER",
                      "VOLUME", "WORKDIR", "ARG", "ONBUILD"})


def expand(word: str, env: dict[str, str], escape: str = "\\") -> str:
    """One word with variables substituted and quotes removed."""
    return "".join(_Lexer(word, env, escape).words(split=False)[0])


def expand_words(text: str, env: dict[str, str], escape: str = "\\") -> list[str]:
    """Words split on unquoted whitespace, each substituted; empty words dropped."""
    return ["".join(w) for w in _Lexer(text, env, escape).words(split=True) if w]


class _Lexer:
    def __init__(self, text: str, env: dict[str, str], escape: str):
        self.text, self.env, self.escape = text, env, escape
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch

    def words(self, split: bool) -> list[list[str]]:
        out: list[list[str]] = [[]]
        quoted_empty = False
        while self.peek():
            ch = self.next()
            if split and ch in " \t\r\n":
                if out[-1] or quoted_empty:
                    out.append([])
                quoted_empty = False
                continue
            if ch == "'":
                out[-1].append(self._single_quoted())
                quoted_empty = True
            elif ch == '"':
                out[-1].append(self._double_quoted())
                quoted_empty = True
            elif ch == self.escape:
                out[-1].append(self.next())
            elif ch == "$":
                out[-1].append(self._dollar())
            else:
                out[-1].append(ch)
        if split and not out[-1] and len(out) > 1:
            out.pop()
        return out

    def _single_quoted(self) -> str:
        end = self.text.find("'", self.pos)
        if end < 0:
            raise InvalidArgument("unexpected end of statement while looking for matching single-quote")
        value, self.pos = self.text[self.pos:end], end + 1
        return value

    def _double_quoted(self) -> str:
        parts = []
        while True:
            ch = self.next()
            if not ch:
                raise InvalidArgument("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                return "".join(parts)
            if ch == self.escape:
                nxt = self.next()
                parts.append(nxt if nxt in ('"', "$", self.escape) else ch + nxt)
            elif ch == "$":
                parts.append(self._dollar())
            else:
                parts.append(ch)

    def _name(self) -> str:
        start = self.pos
        if self.peek().isdigit():
            self.pos += 1
            return self.text[start:self.pos]
        while self.peek() and (self.peek().isalnum() or self.peek() == "_"):
            self.pos += 1
        return self.text[start:self.pos]

    def _dollar(self) -> str:
        if self.peek() != "{":
            name = self._name()
            return self.env.get(name, "") if name else "$"
        self.pos += 1
        name = self._name()
        if not name:
            raise InvalidArgument(f"bad substitution: missing variable name in {self.text!r}")
        op = self.next()
        if op == "}":
            return self.env.get(name, "")
        colon = op == ":"
        if colon:
            op = self.next()
        if op not in ("-", "+", "?"):
            raise InvalidArgument(f"unsupported modifier ({op or 'EOF'}) in substitution: {self.text}")
        word = self._until_brace()
        is_set = name in self.env
        usable = is_set and (self.env[name] != "" or not colon)
        if op == "-":
            return self.env[name] if usable else word
        if op == "+":
            return word if usable else ""
        if not usable:
            raise InvalidArgument(f"{name}: {word or 'is not allowed to be unset'}")
        return self.env[name]

    def _until_brace(self) -> str:
        parts = []
        while True:
            ch = self.next()
            if not ch:
                raise InvalidArgument(f"missing '}}' in substitution: {self.text}")
            if ch == "}":
                return "".join(parts)
            if ch == self.escape:
                parts.append(self.next())
            elif ch == "'":
                parts.append(self._single_quoted())
            elif ch == '"':
                parts.append(self._double_quoted())
            elif ch == "$":
                parts.append(self._dollar())
            else:
                parts.append(ch)
