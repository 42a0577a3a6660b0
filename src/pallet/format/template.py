"""Docker's ``--format`` language: a faithful subset of Go's text/template.

Public API: ``compile_template(text) -> Template`` (cached) and
``Template.render(data) -> str``. Supported: fields and chained fields
(dict keys, attributes, methods with arguments), ``$`` and variables,
if/else if/else, range (lists, maps in sorted key order, ints) with
break/continue, with, pipelines, parenthesised pipelines, literals, comments,
trim markers, Go's built-in functions and docker/cli's (see ``funcs``).

Data model (see ``values``): a dict is a Go map (a missing key renders
``<no value>``), any other object is a struct (a missing field is an error),
a bound method is a Go method and takes template arguments.

Errors: parse and execution errors raise ``pallet.errors.InvalidArgument``
worded like Go's (``template: :1: unexpected "}" in operand``,
``template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type X``).

Invariant: a template is parsed and compiled to closures once; rendering
walks no syntax tree. Must not import anything heavier than ``re``/``json``.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from types import BuiltinMethodType, MethodType

from pallet.errors import InvalidArgument
from pallet.format import nodes as P
from pallet.format.parse import parse
from pallet.format.funcs import DOCKER_FUNCS, HEADER_FUNCS, ArgTypeError, CallError
from pallet.format.lexer import TemplateSyntaxError, go_quote
from pallet.format.values import MISSING, go_type_name, is_true, sorted_keys, sprint_value

__all__ = ["Template", "compile_template", "MISSING"]

_NOFINAL = object()  # no value piped in from a previous command (Go's missingVal)
_SCALARS = (str, int, float, bool, list, tuple, bytes)


class _ExecError(Exception):
    def __init__(self, node: P.Node, message: str):
        super().__init__(message)
        self.node, self.message = node, message


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _State:
    __slots__ = ("vars", "funcs", "missing_error")

    def __init__(self, slots: int, data, funcs, missing_error: bool):
        self.vars = [MISSING] * slots
        self.vars[0] = data
        self.funcs, self.missing_error = funcs, missing_error


class Template:
    """A parsed, compiled template; ``render`` may be called any number of times."""

    def __init__(self, text: str, name: str = ""):
        self.text, self.name = text, name
        try:
            tree, self._slots = parse(text, DOCKER_FUNCS)
        except TemplateSyntaxError as exc:
            line = 1 + text.count("\n", 0, exc.pos)
            raise InvalidArgument(f"template: {name}:{line}: {exc}") from None
        self._run = _compile_list(tree)

    def render(self, data, *, header: bool = False, missing_key_error: bool = False) -> str:
        """Execute on ``data``; ``header`` swaps in docker's table-header functions."""
        out: list[str] = []
        self.execute(data, out, header=header, missing_key_error=missing_key_error)
        return "".join(out)

    def execute(self, data, out: list[str], *, header: bool = False,
                missing_key_error: bool = False) -> None:
        """Like ``render`` but appends to ``out``, which keeps the text written
        before an error (docker prints a table header up to its first error)."""
        funcs = HEADER_FUNCS if header else DOCKER_FUNCS
        dot = MISSING if data is None else data
        state = _State(self._slots, dot, funcs, missing_key_error)
        try:
            self._run(state, dot, out)
        except _ExecError as exc:
            raise InvalidArgument(self._exec_message(exc)) from None

    def _exec_message(self, exc: _ExecError) -> str:
        pos = exc.node.pos
        line = 1 + self.text.count("\n", 0, pos)
        column = pos - (self.text.rfind("\n", 0, pos) + 1)
        return (f"template: {self.name}:{line}:{column}: executing {go_quote(self.name)} "
                f"at <{exc.node}>: {exc.message}")


@functools.lru_cache(maxsize=256)
def compile_template(text: str) -> Template:
    """Parse and compile ``text`` once; the same text returns the same Template."""
    return Template(text)


# -- compilation: nodes to closures -------------------------------------------

def _compile_list(node: P.ListNode | None):
    if node is None:
        return None
    steps = [_compile_node(n) for n in node.nodes]
    if len(steps) == 1:
        return steps[0]

    def run(st, dot, out):
        for step in steps:
            step(st, dot, out)
    return run


def _compile_node(node: P.Node):
    if isinstance(node, P.TextNode):
        text = node.text
        return lambda st, dot, out: out.append(text)
    if isinstance(node, P.ActionNode):
        return _compile_action(node)
    if isinstance(node, P.BranchNode):
        if node.kind == "range":
            return _compile_range(node)
        return _compile_if_with(node)
    if isinstance(node, P.LoopControlNode):
        signal = _Break if node.kind == "break" else _Continue

        def loop_control(st, dot, out):
            raise signal()
        return loop_control
    raise AssertionError(f"unknown node {node!r}")


def _compile_action(node: P.ActionNode):
    pipe = _compile_pipe(node.pipe)
    if node.pipe.decl:
        return lambda st, dot, out: pipe(st, dot)

    def action(st, dot, out):
        value = pipe(st, dot)
        out.append(value if type(value) is str else sprint_value(value))
    return action


def _compile_if_with(node: P.BranchNode):
    pipe = _compile_pipe(node.pipe)
    body, else_body = _compile_list(node.body), _compile_list(node.else_body)
    is_with = node.kind == "with"

    def branch(st, dot, out):
        value = pipe(st, dot)
        if is_true(value):
            body(st, value if is_with else dot, out)
        elif else_body is not None:
            else_body(st, dot, out)
    return branch


def _compile_range(node: P.BranchNode):
    pipe = _compile_pipe(node.pipe, assign=False)
    body, else_body = _compile_list(node.body), _compile_list(node.else_body)
    slots = [v.slot for v in node.pipe.decl]

    def range_(st, dot, out):
        ran = False
        for key, elem in _range_items(pipe(st, dot), node):
            ran = True
            if slots:
                st.vars[slots[-1]] = elem
                if len(slots) == 2:
                    st.vars[slots[0]] = key
            try:
                body(st, elem, out)
            except _Break:
                break
            except _Continue:
                continue
        if not ran and else_body is not None:
            else_body(st, dot, out)
    return range_


def _range_items(value, node):
    if isinstance(value, (list, tuple)):
        return enumerate(value)
    if isinstance(value, Mapping):
        return ((k, value[k]) for k in sorted_keys(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return ((i, i) for i in range(value))
    if value is None or value is MISSING:
        return ()
    raise _ExecError(node.pipe, f"range can't iterate over {sprint_value(value)}")


def _compile_pipe(pipe: P.PipeNode, assign: bool = True):
    cmds = [_compile_command(c) for c in pipe.cmds]
    slots = [v.slot for v in pipe.decl] if assign else []
    if len(cmds) == 1 and not slots:
        only = cmds[0]
        return lambda st, dot: only(st, dot, _NOFINAL)

    def run_pipe(st, dot):
        value = _NOFINAL
        for cmd in cmds:
            value = cmd(st, dot, value)
        for slot in slots:
            st.vars[slot] = value
        return value
    return run_pipe


def _compile_command(cmd: P.CommandNode):
    first, arg_nodes = cmd.args[0], cmd.args[1:]
    arg_fns = [_compile_arg(a) for a in arg_nodes]
    if isinstance(first, P.FieldNode):
        return _compile_field_command(first, arg_fns)
    if isinstance(first, P.ChainNode):
        inner = _compile_arg(first.node)
        return lambda st, dot, final: _field_chain(
            st, dot, inner(st, dot), first, first.fields, arg_fns, final)
    if isinstance(first, P.VariableNode):
        return _compile_variable_command(first, arg_fns)
    if isinstance(first, P.IdentifierNode):
        return lambda st, dot, final: _call_function(st, dot, first, cmd, arg_fns, final)
    value_of = _compile_arg(first)

    def operand(st, dot, final):
        if arg_fns or final is not _NOFINAL:
            raise _ExecError(first, f"can't give argument to non-function {first}")
        if isinstance(first, P.NilNode):
            raise _ExecError(first, "nil is not a command")
        return value_of(st, dot)
    return operand


def _compile_field_command(node: P.FieldNode, arg_fns):
    idents = node.idents
    if len(idents) == 1 and not arg_fns:
        name = idents[0]

        def field(st, dot, final):  # the hot path: {{.ID}} on a dict row
            if final is _NOFINAL and isinstance(dot, dict) and name in dot:
                return dot[name]  # row types subclass dict; their methods are not keys
            return _field_chain(st, dot, dot, node, idents, arg_fns, final)
        return field
    return lambda st, dot, final: _field_chain(st, dot, dot, node, idents, arg_fns, final)


def _compile_variable_command(node: P.VariableNode, arg_fns):
    slot, fields = node.slot, node.idents[1:]
    if fields:
        return lambda st, dot, final: _field_chain(
            st, dot, st.vars[slot], node, fields, arg_fns, final)

    def variable(st, dot, final):
        if arg_fns or final is not _NOFINAL:
            raise _ExecError(node, f"can't give argument to non-function {node}")
        return st.vars[slot]
    return variable


def _compile_arg(node: P.Node):
    """An argument to a function or method: evaluated on its own, never called with args."""
    if isinstance(node, P.LiteralNode):
        value = node.value
        return lambda st, dot: value
    if isinstance(node, P.DotNode):
        return lambda st, dot: dot
    if isinstance(node, P.NilNode):
        return lambda st, dot: None
    if isinstance(node, P.PipeNode):
        return _compile_pipe(node)
    if isinstance(node, P.IdentifierNode):
        return lambda st, dot: _call_function(st, dot, node, node, [], _NOFINAL)
    command = P.CommandNode(node.pos)
    command.args.append(node)
    compiled = _compile_command(command)
    return lambda st, dot: compiled(st, dot, _NOFINAL)


# -- execution ------------------------------------------------------------------

def _field_chain(st, dot, receiver, node, idents, arg_fns, final):
    last = len(idents) - 1
    for i, name in enumerate(idents):
        if i < last:
            receiver = _field(st, dot, node, name, receiver, (), _NOFINAL)
        else:
            receiver = _field(st, dot, node, name, receiver, arg_fns, final)
    return receiver


def _field(st, dot, node, name, receiver, arg_fns, final):
    has_args = bool(arg_fns) or final is not _NOFINAL
    if isinstance(receiver, Mapping) and type(receiver) is not dict and name in type(receiver).__dict__ \
            and not name.startswith("_"):
        # a row type (a dict subclass) with Go-style methods, e.g. ps rows' {{.Label "k"}}
        attr = getattr(receiver, name)
        return _call(st, dot, node, node, name, attr, _arity(attr), arg_fns, final, True)
    if isinstance(receiver, Mapping):
        if has_args:
            raise _ExecError(node, f"{name} is not a method but has arguments")
        try:
            return receiver[name]
        except KeyError:
            go_type = getattr(receiver, "_go_type", None)
            if go_type:  # a row docker/cli formats from a struct: an unknown field is an error
                raise _ExecError(node, f"can't evaluate field {name} in type {go_type}") from None
            if st.missing_error:
                raise _ExecError(node, f"map has no entry for key {go_quote(name)}") from None
            return MISSING
    if receiver is MISSING or receiver is None:
        # A nil map (Labels: null) reads as a missing key, as docker's typed data does.
        if st.missing_error:
            raise _ExecError(node, f"nil pointer evaluating interface {{}}.{name}")
        return MISSING
    if isinstance(receiver, _SCALARS) or name.startswith("_"):
        raise _ExecError(node, f"can't evaluate field {name} in type {go_type_name(receiver)}")
    try:
        attr = getattr(receiver, name)
    except AttributeError:
        raise _ExecError(
            node, f"can't evaluate field {name} in type {go_type_name(receiver)}") from None
    if isinstance(attr, (MethodType, BuiltinMethodType)):
        return _call(st, dot, node, node, name, attr, _arity(attr), arg_fns, final, True)
    if has_args:
        raise _ExecError(node, f"{name} has arguments but cannot be invoked as function")
    return attr


def _call_function(st, dot, ident: P.IdentifierNode, cmd, arg_fns, final):
    name = ident.name
    fn, low, high = st.funcs[name]
    if fn is None:  # and / or: evaluate lazily, stop at the deciding argument
        _check_arity(ident, name, low, high, len(arg_fns) + (final is not _NOFINAL), len(arg_fns))
        want = name == "or"
        value = MISSING
        for arg in arg_fns:
            value = arg(st, dot)
            if is_true(value) == want:
                return value
        return final if final is not _NOFINAL else value
    return _call(st, dot, ident, cmd, name, fn, (low, high), arg_fns, final, False)


def _call(st, dot, node, call_node, name, fn, arity, arg_fns, final, foreign):
    count = len(arg_fns) + (final is not _NOFINAL)
    _check_arity(node, name, arity[0], arity[1], count, len(arg_fns))
    args = [arg(st, dot) for arg in arg_fns]
    if final is not _NOFINAL:
        args.append(final)
    try:
        return fn(*args)
    except ArgTypeError as exc:
        raise _ExecError(node, str(exc)) from None
    except CallError as exc:
        raise _ExecError(call_node, f"error calling {name}: {exc}") from None
    except (_ExecError, _Break, _Continue):
        raise
    except Exception as exc:  # a method's own failure is Go's "error calling" at this seam
        if not foreign:
            raise
        raise _ExecError(call_node, f"error calling {name}: {exc}") from exc


def _check_arity(node, name, low, high, count, explicit):
    if high is None:
        if count < low:
            raise _ExecError(
                node, f"wrong number of args for {name}: want at least {low} got {explicit}")
    elif not low <= count <= high:
        raise _ExecError(node, f"wrong number of args for {name}: want {high} got {count}")


_ARITY_CACHE: dict = {}


def _arity(method) -> tuple[int, int | None]:
    """How many template arguments a Python method takes (self excluded)."""
    func = getattr(method, "__func__", None)
    code = getattr(func, "__code__", None)
    if code is None:
        return 0, None
    cached = _ARITY_CACHE.get(code)
    if cached is None:
        positional = code.co_argcount - 1
        defaults = len(func.__defaults__ or ())
        variadic = bool(code.co_flags & 0x04)
        cached = (positional - defaults, None if variadic else positional)
        _ARITY_CACHE[code] = cached
    return cached
