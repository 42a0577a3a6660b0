"""Parser for Docker's ``--format`` language: tokens to a Go-shaped node tree.

Owns the grammar of Go's text/template (actions, pipelines, commands,
if/else if/range/with/break/continue, variables, parenthesised pipelines,
chained fields) and its parse-time checks: undefined variables, undefined
functions, ``missing value for if``, ``unexpected "}" in operand`` and the
rest of Go's wording. ``define``/``template``/``block`` are not supported.

Invariants: every variable node carries the slot it reads or writes, resolved
lexically here, so the executor never looks a variable up by name; slot 0 is
``$`` (the data). Node ``str()`` is the source form Go prints in ``at <...>``.
"""
from __future__ import annotations

import re

from pallet.format import lexer as L
from pallet.format.lexer import TemplateSyntaxError, Token
from pallet.format.nodes import (
    ActionNode, BranchNode, ChainNode, CommandNode, DotNode, FieldNode, IdentifierNode,
    ListNode, LiteralNode, LoopControlNode, NilNode, Node, PipeNode, TextNode, VariableNode,
    EndOrElse)


def parse(text: str, functions) -> tuple[ListNode, int]:
    """Parse ``text``; return the tree and the number of variable slots it uses."""
    parser = _Parser(L.lex(text), functions)
    tree = parser.parse_top()
    return tree, parser.slots


class _Parser:
    def __init__(self, tokens: list[Token], functions):
        self.tokens, self.i = tokens, 0
        self.functions = functions
        self.vars: list[tuple[str, int]] = [("$", 0)]
        self.slots = 1
        self.range_depth = 0

    # -- token cursor ------------------------------------------------------
    def next(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind == L.ERROR:
            raise TemplateSyntaxError(tok.val, tok.pos)
        self.i += 1
        return tok

    def peek(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind == L.ERROR:
            raise TemplateSyntaxError(tok.val, tok.pos)
        return tok

    def next_non_space(self) -> Token:
        tok = self.next()
        while tok.kind == L.SPACE:
            tok = self.next()
        return tok

    def peek_non_space(self) -> Token:
        tok = self.next_non_space()
        self.i -= 1
        return tok

    def error(self, message: str, tok: Token | None = None):
        pos = tok.pos if tok else self.tokens[max(self.i - 1, 0)].pos
        raise TemplateSyntaxError(message, pos)

    def unexpected(self, tok: Token, context: str):
        self.error(f"unexpected {tok} in {context}", tok)

    def expect(self, kind: str, context: str) -> Token:
        tok = self.next_non_space()
        if tok.kind != kind:
            self.unexpected(tok, context)
        return tok

    # -- lists and actions -------------------------------------------------
    def parse_top(self) -> ListNode:
        root = ListNode(0)
        while self.peek().kind != L.EOF:
            node = self.text_or_action()
            if isinstance(node, EndOrElse):
                self.error(f"unexpected {{{{{node.kind}}}}}", self.tokens[self.i - 1])
            root.nodes.append(node)
        return root

    def item_list(self) -> tuple[ListNode, EndOrElse]:
        body = ListNode(self.peek_non_space().pos)
        while self.peek_non_space().kind != L.EOF:
            node = self.text_or_action()
            if isinstance(node, EndOrElse):
                return body, node
            body.nodes.append(node)
        self.error("unexpected EOF", self.peek())

    def text_or_action(self) -> Node:
        tok = self.next_non_space()
        if tok.kind == L.TEXT:
            return TextNode(tok.pos, tok.val)
        if tok.kind == L.LEFT_DELIM:
            return self.action()
        self.unexpected(tok, "input")

    def action(self) -> Node:
        tok = self.next_non_space()
        kind = tok.kind
        if kind in ("if", "range", "with"):
            return self.control(kind, tok)
        if kind == "end":
            self.expect(L.RIGHT_DELIM, "end")
            return EndOrElse(tok.pos, "end")
        if kind == "else":
            if self.peek_non_space().kind in ("if", "with"):
                return EndOrElse(tok.pos, "else")
            self.expect(L.RIGHT_DELIM, "else")
            return EndOrElse(tok.pos, "else")
        if kind in ("break", "continue"):
            if not self.range_depth:
                self.error(f"{{{{{kind}}}}} outside {{{{range}}}}", tok)
            self.expect(L.RIGHT_DELIM, kind)
            return LoopControlNode(tok.pos, kind)
        if kind in ("define", "template", "block"):
            self.error(f"{{{{{kind}}}}} is not supported", tok)
        self.i -= 1
        start = self.peek()
        return ActionNode(start.pos, self.pipeline("command", L.RIGHT_DELIM))

    def control(self, kind: str, tok: Token) -> BranchNode:
        depth = len(self.vars)
        pipe = self.pipeline(kind, L.RIGHT_DELIM)
        if kind == "range":
            self.range_depth += 1
        body, end = self.item_list()
        if kind == "range":
            self.range_depth -= 1
        else_body = None
        if end.kind == "else":
            nxt = self.peek_non_space()
            if kind in ("if", "with") and nxt.kind == kind:
                # "{{else if x}}" is "{{else}}{{if x}}...{{end}}{{end}}" with one shared end.
                self.next_non_space()
                else_body = ListNode(nxt.pos)
                else_body.nodes.append(self.control(kind, nxt))
            else:
                if nxt.kind in ("if", "with"):
                    self.unexpected(nxt, "else")
                else_body, end = self.item_list()
                if end.kind != "end":
                    self.error("expected end; found {{else}}", self.tokens[self.i - 1])
        del self.vars[depth:]
        return BranchNode(kind, tok.pos, pipe, body, else_body)

    # -- pipelines ---------------------------------------------------------
    def pipeline(self, context: str, end: str) -> PipeNode:
        pipe = PipeNode(self.peek_non_space().pos)
        self.declarations(pipe, context)
        while True:
            tok = self.next_non_space()
            if tok.kind == end:
                self.check_pipeline(pipe, context, tok)
                return pipe
            if tok.kind in _OPERAND_START:
                self.i -= 1
                pipe.cmds.append(self.command())
            else:
                self.unexpected(tok, context)

    def declarations(self, pipe: PipeNode, context: str) -> None:
        while self.peek_non_space().kind == L.VARIABLE:
            save = self.i
            var = self.next_non_space()
            nxt = self.peek_non_space()
            if nxt.kind in (L.DECLARE, L.ASSIGN):
                self.next_non_space()
                pipe.is_assign = nxt.kind == L.ASSIGN
                pipe.decl.append(self.declare(var, pipe.is_assign))
                return
            if nxt.kind == L.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(self.declare(var, False))
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().kind == L.VARIABLE:
                        continue
                    self.error("range can only initialize variables", nxt)
                self.error(f"too many declarations in {context}", nxt)
            self.i = save
            return

    def declare(self, tok: Token, assign: bool) -> VariableNode:
        if assign:
            return self.use_var(tok)
        slot = self.slots
        self.slots += 1
        self.vars.append((tok.val, slot))
        return VariableNode(tok.pos, [tok.val], slot)

    def use_var(self, tok: Token) -> VariableNode:
        idents = tok.val.split(".")
        for name, slot in reversed(self.vars):
            if name == idents[0]:
                return VariableNode(tok.pos, idents, slot)
        self.error(f"undefined variable {L.go_quote(idents[0])}", tok)

    def check_pipeline(self, pipe: PipeNode, context: str, tok: Token) -> None:
        if not pipe.cmds:
            self.error(f"missing value for {context}", tok)
        for index, cmd in enumerate(pipe.cmds[1:], start=2):
            if isinstance(cmd.args[0], (LiteralNode, DotNode, NilNode)):
                self.error(f"non executable command in pipeline stage {index}", tok)

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.kind == L.SPACE:
                continue
            if tok.kind in (L.RIGHT_DELIM, L.RIGHT_PAREN):
                self.i -= 1
            elif tok.kind != L.PIPE:
                self.unexpected(tok, "operand")
            break
        if not cmd.args:
            self.error("empty command", tok)
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None or self.peek().kind != L.FIELD:
            return node
        chain_pos = self.peek().pos
        fields = []
        while self.peek().kind == L.FIELD:
            fields.append(self.next().val[1:])
        if isinstance(node, FieldNode):
            return FieldNode(chain_pos, node.idents + fields)
        if isinstance(node, VariableNode):
            return VariableNode(chain_pos, node.idents + fields, node.slot)
        if isinstance(node, (LiteralNode, NilNode, DotNode)):
            self.error(f"unexpected . after term {L.go_quote(str(node))}")
        return ChainNode(chain_pos, node, fields)

    def term(self) -> Node | None:
        tok = self.next_non_space()
        kind = tok.kind
        if kind == L.IDENTIFIER:
            if tok.val not in self.functions:
                self.error(f"function {L.go_quote(tok.val)} not defined", tok)
            return IdentifierNode(tok.pos, tok.val)
        if kind == L.DOT:
            return DotNode(tok.pos)
        if kind == L.NIL:
            return NilNode(tok.pos)
        if kind == L.VARIABLE:
            return self.use_var(tok)
        if kind == L.FIELD:
            return FieldNode(tok.pos, [tok.val[1:]])
        if kind == L.BOOL:
            return LiteralNode(tok.pos, tok.val, tok.val == "true")
        if kind in (L.NUMBER, L.CHAR_CONSTANT):
            return LiteralNode(tok.pos, tok.val, self.number(tok))
        if kind == L.LEFT_PAREN:
            return self.pipeline("parenthesized pipeline", L.RIGHT_PAREN)
        if kind in (L.STRING, L.RAW_STRING):
            return LiteralNode(tok.pos, tok.val, self.unquote(tok))
        self.i -= 1
        return None

    def number(self, tok: Token):
        text = tok.val
        try:
            if tok.kind == L.CHAR_CONSTANT:
                value = _unescape(text[1:-1], "'")
                if len(value) != 1:
                    raise ValueError(text)
                return ord(value)
            if text.endswith("i"):
                raise ValueError(text)
            digits = text.replace("_", "")
            body = digits.lstrip("+-")
            if body[:2].lower() == "0x":
                if "." in body or "p" in body.lower():
                    return float.fromhex(digits)
                return int(digits, 16)
            if re.fullmatch(r"0[0-7]+", body):
                return int(digits, 8)
            if body[:2].lower() in ("0b", "0o"):
                return int(digits, 0)
            if any(c in body for c in ".eE"):
                return float(digits)
            return int(digits, 10)
        except ValueError:
            self.error(f"illegal number syntax: {L.go_quote(text)}", tok)

    def unquote(self, tok: Token) -> str:
        if tok.kind == L.RAW_STRING:
            return tok.val[1:-1].replace("\r", "")
        try:
            return _unescape(tok.val[1:-1], '"')
        except ValueError:
            self.error("invalid syntax", tok)


_OPERAND_START = frozenset((
    L.BOOL, L.CHAR_CONSTANT, L.DOT, L.FIELD, L.IDENTIFIER, L.NUMBER, L.NIL,
    L.RAW_STRING, L.STRING, L.VARIABLE, L.LEFT_PAREN))

_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.S)
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
                   "t": "\t", "v": "\v", "\\": "\\"}


def _unescape(body: str, quote: str) -> str:
    """Go's strconv.Unquote for the inside of a "..." or '...' literal."""
    if "\\" not in body:
        return body

    def replace(match: re.Match) -> str:
        esc = match.group(1)
        if esc in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[esc]
        if esc == quote:
            return quote
        if esc[0] in "xuU":
            return chr(int(esc[1:], 16))
        if esc[0] in "01234567" and len(esc) == 3:
            return chr(int(esc, 8))
        raise ValueError(esc)

    return _ESCAPE.sub(replace, body)
