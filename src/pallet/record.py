"""Records: the part of `dataclasses` pallet uses, without its import cost.

`import dataclasses` pulls in `inspect`, `ast` and `dis`: about 20 ms on every
command here, a tenth of `pallet run`. The modules on the CLI's hot paths use
this instead, with the same spelling: `@dataclass`, `@dataclass(frozen=True)`,
`field(default=..., default_factory=..., repr=...)`, `replace(obj, **changes)`.
Generated methods: __init__ (fields in definition order, bases first),
__repr__, __eq__, and for frozen records __setattr__/__delattr__ refusal and
__hash__. Records also carry `__dataclass_fields__` (name -> Field), which is
what the template engine's `json` reads.
"""
from __future__ import annotations

_MISSING = object()


class FrozenInstanceError(AttributeError):
    pass


class Field:
    __slots__ = ("name", "default", "default_factory", "repr")

    def __init__(self, default=_MISSING, default_factory=_MISSING, repr=True):  # noqa: A002
        self.name, self.default, self.default_factory, self.repr = "", default, default_factory, repr


def field(*, default=_MISSING, default_factory=_MISSING, repr=True):  # noqa: A002
    return Field(default, default_factory, repr)


def dataclass(cls=None, /, *, frozen: bool = False):
    def wrap(c):
        return _process(c, frozen)
    return wrap if cls is None else wrap(cls)


def _own_fields(cls) -> dict[str, Field]:
    out = {}
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, _MISSING)
        f = value if isinstance(value, Field) else Field(default=value)
        f.name = name
        if isinstance(value, Field):
            if f.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        out[name] = f
    return out


def _make_init(fields: dict[str, Field], frozen: bool):
    """One generic __init__ per record class: generating and compiling source per class
    (as `dataclasses` does) cost every command ~3 ms for the ~25 records it imports."""
    names = tuple(fields)
    known = frozenset(names)
    setter = object.__setattr__ if frozen else setattr

    def __init__(self, *args, **kwargs):
        if len(args) > len(names):
            raise TypeError(f"__init__() takes {len(names) + 1} positional arguments "
                            f"but {len(args) + 1} were given")
        values = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in known:
                raise TypeError(f"__init__() got an unexpected keyword argument {key!r}")
            if key in values:
                raise TypeError(f"__init__() got multiple values for argument {key!r}")
            values[key] = value
        for name in names:
            if name in values:
                value = values[name]
            else:
                f = fields[name]
                if f.default_factory is not _MISSING:
                    value = f.default_factory()
                elif f.default is not _MISSING:
                    value = f.default
                else:
                    raise TypeError(f"__init__() missing 1 required positional argument: {name!r}")
            setter(self, name, value)
    return __init__


def _process(cls, frozen: bool):
    fields: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        fields.update(getattr(base, "__dataclass_fields__", {}))
    fields.update(_own_fields(cls))
    cls.__init__ = _make_init(fields, frozen)
    cls.__dataclass_fields__ = fields
    names = tuple(fields)
    shown = tuple(n for n, f in fields.items() if f.repr)

    def __repr__(self):
        return f"{type(self).__qualname__}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in shown) + ")"

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in names)
    cls.__repr__, cls.__eq__ = __repr__, __eq__
    if frozen:
        def __setattr__(self, name, value):
            raise FrozenInstanceError(f"cannot assign to field {name!r}")

        def __delattr__(self, name):
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        cls.__setattr__, cls.__delattr__ = __setattr__, __delattr__
        cls.__hash__ = lambda self: hash(tuple(getattr(self, n) for n in names))
    else:
        cls.__hash__ = None
    return cls


def replace(obj, **changes):
    values = {n: getattr(obj, n) for n in obj.__dataclass_fields__}
    values.update(changes)
    return type(obj)(**values)
