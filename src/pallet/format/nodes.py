"""The syntax tree of a ``--format`` template, shaped like Go's text/template/parse.

Owns the node classes only. ``str(node)`` is the source form Go prints in an
execution error's ``at <...>``; ``pos`` is the node's byte offset in the
template, from which the error's line and column are derived.
"""
from __future__ import annotations


class Node:
    __slots__ = ("pos",)


class ListNode(Node):
    __slots__ = ("nodes",)

    def __init__(self, pos: int):
        self.pos, self.nodes = pos, []


class TextNode(Node):
    __slots__ = ("text",)

    def __init__(self, pos: int, text: str):
        self.pos, self.text = pos, text


class PipeNode(Node):
    __slots__ = ("decl", "is_assign", "cmds")

    def __init__(self, pos: int):
        self.pos, self.decl, self.is_assign, self.cmds = pos, [], False, []

    def __str__(self) -> str:
        text = " | ".join(str(c) for c in self.cmds)
        if self.decl:
            names = ", ".join(str(v) for v in self.decl)
            text = f"{names} {'=' if self.is_assign else ':='} {text}"
        return text


class CommandNode(Node):
    __slots__ = ("args",)

    def __init__(self, pos: int):
        self.pos, self.args = pos, []

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, PipeNode) else str(a) for a in self.args)


class ActionNode(Node):
    __slots__ = ("pipe",)

    def __init__(self, pos: int, pipe: PipeNode):
        self.pos, self.pipe = pos, pipe

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


class FieldNode(Node):
    __slots__ = ("idents",)

    def __init__(self, pos: int, idents: list[str]):
        self.pos, self.idents = pos, idents

    def __str__(self) -> str:
        return "." + ".".join(self.idents)


class VariableNode(Node):
    __slots__ = ("idents", "slot")

    def __init__(self, pos: int, idents: list[str], slot: int):
        self.pos, self.idents, self.slot = pos, idents, slot

    def __str__(self) -> str:
        return ".".join(self.idents)


class ChainNode(Node):
    __slots__ = ("node", "fields")

    def __init__(self, pos: int, node: Node, fields: list[str]):
        self.pos, self.node, self.fields = pos, node, fields

    def __str__(self) -> str:
        inner = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return inner + "".join("." + f for f in self.fields)


class IdentifierNode(Node):
    __slots__ = ("name",)

    def __init__(self, pos: int, name: str):
        self.pos, self.name = pos, name

    def __str__(self) -> str:
        return self.name


class DotNode(Node):
    def __init__(self, pos: int):
        self.pos = pos

    def __str__(self) -> str:
        return "."


class NilNode(Node):
    def __init__(self, pos: int):
        self.pos = pos

    def __str__(self) -> str:
        return "nil"


class LiteralNode(Node):
    """A bool, number, char constant or string literal, already evaluated."""
    __slots__ = ("source", "value")

    def __init__(self, pos: int, source: str, value):
        self.pos, self.source, self.value = pos, source, value

    def __str__(self) -> str:
        return self.source


class BranchNode(Node):
    """``if``, ``range`` or ``with``: ``kind`` says which."""
    __slots__ = ("kind", "pipe", "body", "else_body")

    def __init__(self, kind: str, pos: int, pipe: PipeNode, body, else_body):
        self.kind, self.pos, self.pipe = kind, pos, pipe
        self.body, self.else_body = body, else_body

    def __str__(self) -> str:
        return "{{" + f"{self.kind} {self.pipe}" + "}}"


class LoopControlNode(Node):
    """``break`` or ``continue`` inside a range."""
    __slots__ = ("kind",)

    def __init__(self, pos: int, kind: str):
        self.pos, self.kind = pos, kind


class EndOrElse(Node):
    """An {{end}} or {{else}}: closes the list being parsed, never kept in the tree."""
    __slots__ = ("kind",)

    def __init__(self, pos: int, kind: str):
        self.pos, self.kind = pos, kind
