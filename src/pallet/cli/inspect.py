"""`pallet inspect`: containers, images, networks and volumes by name or ID."""
from __future__ import annotations

from ..errors import NotFound, PalletError
from .flags import Command, F
from . import render


def _finders(ctx):
    """docker/cli's inspect order: container, image, network, volume."""
    eng = ctx.engine
    return {"container": lambda name: eng.containers.inspect(name),
            "image": lambda name: eng.images.inspect(name),
            "network": lambda name: eng.networks.inspect(name),
            "volume": lambda name: eng.volumes.inspect(name)}


def inspect_objects(ctx, names: list[str], fmt: str | None, kinds: tuple[str, ...] | None = None) -> int:
    finders = _finders(ctx)
    docs, failed = [], False
    for name in names:
        doc, last_err = None, None
        for kind, find in finders.items():
            if kinds and kind not in kinds:
                continue
            try:
                doc = find(name)
                break
            except NotFound as exc:
                last_err = exc
        if doc is None:
            failed = True
            msg = str(last_err) if kinds and len(kinds) == 1 and last_err else f"No such object: {name}"
            ctx.err(f"Error: {msg}")
            continue
        docs.append(doc)
    printed = render.inspect(ctx, docs, fmt, objects=True)
    return 1 if failed or not printed else 0


def inspect(ctx, o, args) -> int:
    kinds = (o.type,) if o.type else None
    if o.type and o.type not in ("container", "image", "volume", "network"):
        raise PalletError(f'unknown type: "{o.type}": must be one of "config", "container", "image", '
                          '"network", "node", "plugin", "secret", "service", "task", "volume"')
    return inspect_objects(ctx, args, o.format, kinds)


COMMANDS = [
    Command("inspect", "[OPTIONS] NAME|ID [NAME|ID...]", "Return low-level information on pallet objects",
            inspect, [F("format", "f", kind="str", help="Format output using a custom template"),
                      F("size", "s", help="Display total file sizes if the type is container"),
                      F("type", kind="str", help="Only inspect objects of the given type")], 1),
]
