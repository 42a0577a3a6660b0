"""Go's fmt.Sprintf, fmt.Sprint and fmt.Sprintln for the template functions.

Owns verb handling (%v %s %d %q %t %x %X %o %b %c %U %e %f %g %T %%), flags
(``-+# 0``), width and precision (``*`` too), and Go's inline error forms:
``%!d(string=x)``, ``%!s(MISSING)``, ``%!(EXTRA int=2)``, ``%!(NOVERB)``.
Never raises for a bad verb or argument: Go reports those in the output.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from pallet.format.lexer import go_quote
from pallet.format.values import MISSING, format_float, go_type_name, sprint_value

_DIRECTIVE = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?(.?)", re.S)


def sprintf(fmt: str, *args) -> str:
    out: list[str] = []
    pos, argi = 0, 0
    while True:
        pct = fmt.find("%", pos)
        if pct < 0:
            out.append(fmt[pos:])
            break
        out.append(fmt[pos:pct])
        match = _DIRECTIVE.match(fmt, pct)
        flags, width, precision, verb = match.groups()
        pos = match.end()
        width, argi = _star(width, args, argi)
        if precision is not None:
            precision, argi = _star(precision or "0", args, argi)
        if verb == "%":
            out.append("%")
            continue
        if not verb:
            out.append("%!(NOVERB)")
            break
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        text = _format_one(verb, flags, precision, args[argi])
        argi += 1
        out.append(_pad(text, flags, width, verb))
    if argi < len(args):
        extra = ", ".join(_typed(a) for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _star(spec, args, argi):
    if spec is None:
        return None, argi
    if spec == "*":
        if argi < len(args) and isinstance(args[argi], int):
            return args[argi], argi + 1
        return None, argi + 1
    return int(spec), argi


def _typed(value) -> str:
    if value is None or value is MISSING:
        return "<nil>"
    return f"{go_type_name(value)}={sprint_value(value)}"


def _bad(verb: str, value) -> str:
    if value is None or value is MISSING:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({_typed(value)})"


def _pad(text: str, flags: str, width, verb: str) -> str:
    if width is None or len(text) >= width:
        return text
    if "-" in flags:
        return text + " " * (width - len(text))
    if "0" in flags and verb in "dboxXeEfFgG" and not text.startswith("%!"):
        sign = text[0] if text[:1] in "+- " else ""
        return sign + text[len(sign):].rjust(width - len(sign), "0")
    return text.rjust(width)


def _format_one(verb: str, flags: str, precision, value) -> str:
    if verb == "T":
        return "<nil>" if value is None or value is MISSING else go_type_name(value)
    if verb == "v":
        if isinstance(value, str) and "#" in flags:
            return go_quote(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _number(value, "d" if isinstance(value, int) else "g", flags, precision)
        return sprint_value(value)
    if isinstance(value, (list, tuple)) and verb in "sdqxXobeEfFgGt":
        return "[" + " ".join(_format_one(verb, flags, precision, v) for v in value) + "]"
    if isinstance(value, Mapping) and verb in "sdq":
        return "map[" + " ".join(
            f"{_format_one(verb, flags, precision, k)}:{_format_one(verb, flags, precision, value[k])}"
            for k in sorted(value)) + "]"
    if isinstance(value, bool):
        return ("true" if value else "false") if verb == "t" else _bad(verb, value)
    if isinstance(value, int):
        return _integer(verb, flags, precision, value)
    if isinstance(value, float):
        return _number(value, verb, flags, precision) if verb in "eEfFgG" else _bad(verb, value)
    if isinstance(value, str):
        return _string(verb, flags, precision, value)
    if value is None or value is MISSING or verb not in "s":
        return _bad(verb, value)
    return sprint_value(value)


def _integer(verb: str, flags: str, precision, value: int) -> str:
    if verb == "c":
        return chr(value)
    if verb == "q":
        return "'" + chr(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
    if verb == "U":
        return f"U+{value:04X}"
    if verb in "dboxX":
        return _number(value, verb, flags, precision)
    return _bad(verb, value)


def _number(value, verb: str, flags: str, precision) -> str:
    negative = value < 0
    magnitude = -value if negative else value
    if verb in "eEfFgG":
        text = format_float(float(magnitude), verb.lower().replace("F", "f"),
                            -1 if precision is None else precision)
        text = text.upper() if verb in "EG" else text
    else:
        base = {"d": "d", "b": "b", "o": "o", "x": "x", "X": "X"}[verb]
        text = format(magnitude, base)
        if precision is not None:
            text = text.rjust(precision, "0")
        if "#" in flags and verb in "xXo":
            text = {"x": "0x", "X": "0X", "o": "0"}[verb] + text
    if negative:
        return "-" + text
    return ("+" if "+" in flags else " " if " " in flags else "") + text


def _string(verb: str, flags: str, precision, value: str) -> str:
    if precision is not None and verb in "sqv":
        value = value[:precision]
    if verb == "s":
        return value
    if verb == "q":
        return f"`{value}`" if "#" in flags and "`" not in value else go_quote(value)
    if verb in "xX":
        data = value.encode()
        sep = " " if " " in flags else ""
        text = sep.join(format(b, "02" + verb) for b in data)
        return text
    return _bad(verb, value)


def sprint(*args) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(sprint_value(arg))
    return "".join(out)


def sprintln(*args) -> str:
    """fmt.Sprintln: spaces between all operands, then a newline."""
    return " ".join(sprint_value(a) for a in args) + "\n"
