"""Flag values as Docker's CLI and daemon read them (one module per kind of value)."""
from __future__ import annotations


def go_bool(text: str) -> bool | None:
    """Go's strconv.ParseBool, which Docker uses for boolean option values; None if not one."""
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    return None
