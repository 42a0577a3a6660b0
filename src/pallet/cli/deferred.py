"""Deferred stdlib imports for CLI start-up: modules pathlib imports but rarely uses.

pathlib imports `re`, `fnmatch` and `urllib.parse` at its top but uses them only in glob(),
match() and as_uri(), `ntpath` only for Windows paths and `warnings` only in deprecated
methods; with what they import in turn (enum, ipaddress, the regular expression compiler)
they are ~6 ms of every command, and most commands never match a pattern or build a URI.
`install()` puts a placeholder module in sys.modules for each; the first attribute read
imports the real module, copies its namespace into the placeholder (for the modules that
already bound the placeholder's name) and leaves the real module in sys.modules.

Only the CLI installs this (cli/main.py, before anything imports pathlib): a program that
uses pallet as a library gets the plain stdlib. Names bound by ``from X import name`` at
import time are listed in `_FROM_IMPORTED`, so that binding them does not load X.
"""
from __future__ import annotations

import sys
import types

_FROM_IMPORTED = {"urllib.parse": ("quote_from_bytes",)}  # pathlib's `from urllib.parse import`


class _Deferred(types.ModuleType):
    def __getattr__(self, attr: str):
        if attr.startswith("__"):  # the import system probing __spec__, __path__, ...
            raise AttributeError(attr)
        return getattr(_load(self), attr)


def _load(placeholder: _Deferred):
    name = placeholder.__name__
    if sys.modules.get(name) is placeholder:
        del sys.modules[name]
    import importlib
    real = importlib.import_module(name)
    placeholder.__dict__.update(real.__dict__)
    return real


def _forward(placeholder: _Deferred, attr: str):
    def call(*args, **kwargs):
        return getattr(_load(placeholder), attr)(*args, **kwargs)
    call.__name__ = attr
    return call


DEFERRED = ("re", "fnmatch", "urllib.parse", "ntpath", "warnings")


def install(names: tuple[str, ...] = DEFERRED) -> None:
    for name in names:
        if name in sys.modules:
            continue
        placeholder = _Deferred(name)
        for attr in _FROM_IMPORTED.get(name, ()):
            setattr(placeholder, attr, _forward(placeholder, attr))
        sys.modules[name] = placeholder
        parent, _, child = name.rpartition(".")
        if parent:  # `import urllib.parse` reads the attribute of the (real, small) package
            __import__(parent)
            setattr(sys.modules[parent], child, placeholder)
