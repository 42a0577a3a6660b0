"""Typed requests of the build service, for the edges (cli/, api/) to build.

Imports nothing of pallet but `pallet.record`.
"""
from __future__ import annotations

from ..record import dataclass
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO


@dataclass
class BuildSource:
    context_path: str | None       # a directory, or "-"
    dockerfile: str | None = None  # -f (may be "-")
    stdin: BinaryIO | None = None
