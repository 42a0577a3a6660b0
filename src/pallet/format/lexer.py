"""Lexer for Docker's ``--format`` language (Go text/template syntax).

Owns the split of a template into text and action tokens, with Go's rules:
``{{``/``}}`` delimiters, trim markers (``{{- `` and `` -}}`` need the
whitespace next to the dash), comments ``{{/* */}}``, and the token kinds of
Go's text/template/parse lexer. Each token keeps its byte offset (``pos``) in
the template text, from which error messages derive line and column.

Invariant: the token list ends with exactly one ``EOF`` token or the lexer
raised ``TemplateSyntaxError``. Imports nothing beyond ``re``.
"""
from __future__ import annotations

import re

SPACE_CHARS = " \t\r\n"

# Token kinds (the names follow Go's itemType).
TEXT, LEFT_DELIM, RIGHT_DELIM, SPACE, FIELD, VARIABLE, DOT, IDENTIFIER = (
    "text", "{{", "}}", "space", "field", "variable", "dot", "identifier")
STRING, RAW_STRING, CHAR_CONSTANT, NUMBER, BOOL, NIL = (
    "string", "raw string", "char constant", "number", "bool", "nil")
CHAR, DECLARE, ASSIGN, PIPE, LEFT_PAREN, RIGHT_PAREN, EOF, ERROR = (
    "char", ":=", "=", "|", "(", ")", "EOF", "error")
KEYWORDS = frozenset(
    ("if", "else", "end", "range", "with", "break", "continue",
     "define", "template", "block"))

_NUMBER = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?"
    r"|0[bB][01_]+|0[oO][0-7_]+"
    r"|(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]+)?)i?")
_WORD = re.compile(r"[^\W]*")  # letters, digits, underscore (Go's isAlphaNumeric)
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_CHAR_CONST = re.compile(r"'(?:[^'\\\n]|\\.)*'")
_TERMINATORS = SPACE_CHARS + ".,|:()"


class TemplateSyntaxError(Exception):
    """A parse error; ``pos`` locates it for the line number of the message."""

    def __init__(self, message: str, pos: int):
        super().__init__(message)
        self.pos = pos


class Token:
    __slots__ = ("kind", "val", "pos")

    def __init__(self, kind: str, val: str, pos: int):
        self.kind, self.val, self.pos = kind, val, pos

    def __str__(self) -> str:  # how Go's parser names a token in errors
        if self.kind == EOF:
            return "EOF"
        if self.kind in KEYWORDS:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.val!r}, {self.pos})"


def go_quote(text: str) -> str:
    """Go's %q for a string: double quotes, backslash escapes."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def lex(text: str) -> list[Token]:
    """Tokens up to EOF, or up to an ERROR token: like Go's lexer, a lexical
    error only surfaces when the parser reaches it, so an earlier syntax error
    is reported first."""
    tokens: list[Token] = []
    try:
        _lex_all(text, tokens)
    except TemplateSyntaxError as exc:
        tokens.append(Token(ERROR, str(exc), exc.pos))
    return tokens


def _lex_all(text: str, tokens: list[Token]) -> None:
    pos, n = 0, len(text)
    trim_next = False
    while pos <= n:
        start = text.find("{{", pos)
        end = n if start < 0 else start
        chunk = text[pos:end]
        if trim_next:
            stripped = chunk.lstrip(SPACE_CHARS)
            pos += len(chunk) - len(stripped)
            chunk = stripped
        if start >= 0 and text.startswith("-", start + 2) and \
                start + 3 < n and text[start + 3] in SPACE_CHARS:
            chunk = chunk.rstrip(SPACE_CHARS)
        if chunk:
            tokens.append(Token(TEXT, chunk, pos))
        if start < 0:
            break
        pos, trim_next = _lex_action(text, start, tokens)
    tokens.append(Token(EOF, "", n))


def _lex_action(text: str, start: int, tokens: list[Token]) -> tuple[int, bool]:
    """Lex one ``{{ ... }}``; return the offset after it and its right trim flag."""
    pos = start + 2
    if text.startswith("-", pos) and pos + 1 < len(text) and text[pos + 1] in SPACE_CHARS:
        pos += 2
    if text.startswith("/*", pos):
        return _lex_comment(text, pos)
    tokens.append(Token(LEFT_DELIM, "{{", start))
    depth = 0
    n = len(text)
    while True:
        if text.startswith("}}", pos) or _at_trim_right(text, pos):
            trim = not text.startswith("}}", pos)
            if depth:
                raise TemplateSyntaxError("unclosed left paren", pos)
            tokens.append(Token(RIGHT_DELIM, "}}", pos))
            return pos + (4 if trim else 2), trim
        if pos >= n:
            raise TemplateSyntaxError("unclosed action", pos)
        ch = text[pos]
        if ch in SPACE_CHARS:
            end = pos
            while end < n and text[end] in SPACE_CHARS:
                end += 1
            if _at_trim_right(text, end - 1) and end - 1 > pos:
                end -= 1  # leave the space that belongs to " -}}"
            elif _at_trim_right(text, end - 1):
                continue
            tokens.append(Token(SPACE, text[pos:end], pos))
            pos = end
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise TemplateSyntaxError("unexpected right paren", pos)
        pos = _lex_token(text, pos, tokens)


def _at_trim_right(text: str, pos: int) -> bool:
    return (pos < len(text) and text[pos] in SPACE_CHARS
            and text.startswith("-}}", pos + 1))


def _lex_comment(text: str, pos: int) -> tuple[int, bool]:
    close = text.find("*/", pos + 2)
    if close < 0:
        raise TemplateSyntaxError("unclosed comment", pos)
    after = close + 2
    if text.startswith("}}", after):
        return after + 2, False
    if _at_trim_right(text, after):
        return after + 4, True
    raise TemplateSyntaxError("comment ends before closing delimiter", pos)


def _lex_token(text: str, pos: int, tokens: list[Token]) -> int:
    ch = text[pos]
    nxt = text[pos + 1] if pos + 1 < len(text) else ""
    if ch == ":" and nxt == "=":
        tokens.append(Token(DECLARE, ":=", pos))
        return pos + 2
    if ch in "=|()":
        kind = {"=": ASSIGN, "|": PIPE, "(": LEFT_PAREN, ")": RIGHT_PAREN}[ch]
        tokens.append(Token(kind, ch, pos))
        return pos + 1
    if ch == '"':
        return _lex_quoted(text, pos, _STRING, STRING, "unterminated quoted string", tokens)
    if ch == "'":
        return _lex_quoted(text, pos, _CHAR_CONST, CHAR_CONSTANT,
                           "unterminated character constant", tokens)
    if ch == "`":
        close = text.find("`", pos + 1)
        if close < 0:
            raise TemplateSyntaxError("unterminated raw quoted string", pos)
        tokens.append(Token(RAW_STRING, text[pos:close + 1], pos))
        return close + 1
    if ch == "$" or (ch == "." and not nxt.isdigit()):
        return _lex_field_or_variable(text, pos, tokens)
    if ch in "+-." or ch.isdigit():
        return _lex_number(text, pos, tokens)
    if ch == "_" or ch.isalnum():
        return _lex_identifier(text, pos, tokens)
    if ch.isascii() and ch.isprintable():
        tokens.append(Token(CHAR, ch, pos))
        return pos + 1
    raise TemplateSyntaxError(f"unrecognized character in action: {_go_rune(ch)}", pos)


def _lex_quoted(text, pos, pattern, kind, error, tokens) -> int:
    match = pattern.match(text, pos)
    if not match:
        raise TemplateSyntaxError(error, pos)
    tokens.append(Token(kind, match.group(), pos))
    return match.end()


def _lex_field_or_variable(text: str, pos: int, tokens: list[Token]) -> int:
    end = _WORD.match(text, pos + 1).end()
    if end == pos + 1:  # a bare "." or "$"
        kind = VARIABLE if text[pos] == "$" else DOT
    else:
        kind = VARIABLE if text[pos] == "$" else FIELD
    _check_terminator(text, end)
    tokens.append(Token(kind, text[pos:end], pos))
    return end


def _lex_identifier(text: str, pos: int, tokens: list[Token]) -> int:
    end = _WORD.match(text, pos).end()
    _check_terminator(text, end)
    word = text[pos:end]
    if word in KEYWORDS:
        kind = word
    elif word in ("true", "false"):
        kind = BOOL
    elif word == "nil":
        kind = NIL
    else:
        kind = IDENTIFIER
    tokens.append(Token(kind, word, pos))
    return end


def _lex_number(text: str, pos: int, tokens: list[Token]) -> int:
    match = _NUMBER.match(text, pos)
    end = match.end() if match else pos
    if end == pos or (end < len(text) and (text[end].isalnum() or text[end] == "_")):
        stop = end
        while stop < len(text) and (text[stop].isalnum() or text[stop] in "_.+-"):
            stop += 1
        raise TemplateSyntaxError(f"bad number syntax: {go_quote(text[pos:max(stop, pos + 1)])}", pos)
    tokens.append(Token(NUMBER, text[pos:end], pos))
    return end


def _check_terminator(text: str, pos: int) -> None:
    if pos >= len(text) or text[pos] in _TERMINATORS or text.startswith("}}", pos):
        return
    raise TemplateSyntaxError(f"bad character {_go_rune(text[pos])}", pos)


def _go_rune(ch: str) -> str:
    """Go's %#U: U+002D '-'."""
    return f"U+{ord(ch):04X} '{ch}'"
