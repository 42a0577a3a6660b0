"""How template values look to Go: printing (%v), truth, type names, JSON.

The data model maps Python onto Go's reflect kinds: ``None`` is a nil
interface (prints ``<nil>``), ``MISSING`` is Go's invalid value (a missing map
key; prints ``<no value>``), bool/int/float/str are basic kinds, Mappings are
maps (printed with sorted keys), lists/tuples are slices, dataclasses and
other objects are structs. Nothing here raises for odd data: unknown objects
print with their own ``__str__`` when they define one.
"""
from __future__ import annotations

from collections.abc import Mapping


class _Missing:
    """Go's invalid reflect.Value: a missing map key or a field of nil."""
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()


def is_true(value) -> bool:
    """Go's template truth: empty string/list/map, 0, false, nil are false."""
    if value is None or value is MISSING:
        return False
    if isinstance(value, (bool, int, float, complex, str, bytes, list, tuple, dict, Mapping)):
        return bool(value)
    return True  # structs are always true


def go_type_name(value) -> str:
    """The Go type a value plays, for error messages."""
    if value is None or value is MISSING:
        return "interface {}"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    return type(value).__name__


def format_float(value: float, verb: str = "g", precision: int = -1) -> str:
    """Go's strconv.FormatFloat: 'g' shortest is fmt's %v; 'e', 'f', '%.Ng'."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if verb in ("e", "f"):
        return f"{value:.{6 if precision < 0 else precision}{verb}}"
    if precision >= 0:
        return f"{value:.{max(precision, 1)}g}"
    digits, exponent = _shortest_digits(abs(value))
    sign = "-" if value < 0 or (value == 0 and str(value).startswith("-")) else ""
    if exponent < -4 or exponent >= 6:  # Go switches to %e at exponent 6 when shortest
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return sign + f"{abs(value):.{max(len(digits) - exponent - 1, 0)}f}"


def _shortest_digits(value: float) -> tuple[str, int]:
    """The shortest round-trip decimal digits of ``value`` and its exponent."""
    text = repr(value)
    mantissa, _, exp_text = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    if exp_text:
        return (whole + frac).rstrip("0") or "0", int(exp_text)
    if whole != "0":
        return (whole + frac).rstrip("0"), len(whole) - 1
    stripped = frac.lstrip("0")
    if not stripped.rstrip("0"):
        return "0", 0
    return stripped.rstrip("0"), -(len(frac) - len(stripped)) - 1


def sprint_value(value) -> str:
    """fmt's %v."""
    if value is MISSING:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(sprint_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "map[" + " ".join(
            f"{sprint_value(k)}:{sprint_value(value[k])}" for k in sorted_keys(value)) + "]"
    if isinstance(value, bytes):
        return "[" + " ".join(str(b) for b in value) + "]"
    if type(value).__str__ is object.__str__:
        if hasattr(value, "__dataclass_fields__"):
            return "{" + " ".join(sprint_value(getattr(value, name))
                                  for name in _dataclass_field_names(value)) + "}"
        if hasattr(value, "__dict__"):
            return "{" + " ".join(sprint_value(v) for k, v in vars(value).items()
                                  if not k.startswith("_")) + "}"
    return str(value)


def sorted_keys(mapping: Mapping) -> list:
    """Go's map order for printing and range: sorted by key."""
    try:
        return sorted(mapping)
    except TypeError:
        return sorted(mapping, key=lambda k: (type(k).__name__, str(k)))


def to_json(value) -> str:
    """docker's ``json`` function: Go's encoding/json, compact, HTML left alone.

    docker/cli encodes with SetEscapeHTML(false), so ``<`` stays ``<``.
    """
    import json  # only templates that call json pay for it

    return json.dumps(_jsonable(value), ensure_ascii=False, separators=(",", ":"),
                      default=_json_default).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _jsonable(value):
    if hasattr(value, "__json__"):  # json.dumps never asks `default` about dict subclasses
        return value.__json__()
    return None if value is MISSING else value


def _json_default(value):
    if value is MISSING:
        return None
    if hasattr(value, "__json__"):
        return value.__json__()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, bytes):
        import base64
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "__dataclass_fields__"):
        return {name: getattr(value, name) for name in _dataclass_field_names(value)}
    if hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


def _dataclass_field_names(value) -> list[str]:
    # dataclasses and pallet.record records both map field names in __dataclass_fields__
    return [name for name, f in value.__dataclass_fields__.items()
            if getattr(f, "_field_type", None) is None or str(f._field_type) == "_FIELD"]


class GoDuration(int):
    """Nanoseconds that print as Go's time.Duration does (``1m30s``, ``500ms``) where docker/cli
    formats a typed Duration field, and stay a plain number in JSON (int's repr)."""

    def __str__(self) -> str:
        return go_duration_text(int(self))


def go_duration_text(ns: int) -> str:
    """Go's time.Duration.String."""
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _trim(ns, size) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = _trim(rest, 1_000_000_000) + "s"
    if hours or minutes:
        text = f"{minutes}m" + text
    if hours:
        text = f"{hours}h" + text
    return sign + text


def _trim(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    digits = len(str(unit)) - 1
    return str(whole) + (f".{frac:0{digits}d}".rstrip("0") if frac else "")
