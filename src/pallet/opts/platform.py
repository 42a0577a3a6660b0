"""``--platform os/arch[/variant]``, as containerd's platforms.Parse reads what Docker passes it.

A lone word names an architecture on Linux (``amd64`` is ``linux/amd64``). Pure: imports
only ``pallet.errors``.
"""
from __future__ import annotations

from ..errors import InvalidArgument


def parse_platform(text: str | None) -> dict | None:
    """``linux/arm64/v8`` -> {"os": "linux", "architecture": "arm64", "variant": "v8"}; None for none."""
    if not text:
        return None
    parts = text.lower().split("/")
    if len(parts) == 1:
        parts = ["linux", parts[0]]
    if len(parts) not in (2, 3) or not all(parts):
        raise InvalidArgument(f'"{text}": unknown operating system or architecture: invalid argument')
    plat = {"os": parts[0], "architecture": parts[1]}
    if len(parts) == 3:
        plat["variant"] = parts[2]
    return plat
