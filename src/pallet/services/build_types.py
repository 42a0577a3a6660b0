"""Typed requests of the build service, for the edges (cli/, api/) to build.

Imports nothing of pallet but `pallet.record`.
"""
from __future__ import annotations

from ..record import dataclass, field
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO


@dataclass
class BuildSource:
    context_path: str | None       # a directory, or "-"
    dockerfile: str | None = None  # -f (may be "-")
    stdin: BinaryIO | None = None


@dataclass
class RunLimits:
    """`build --add-host/--ulimit/--shm-size/--security-opt/--memory`: every RUN's container
    gets them, as with the classic builder (never part of a cache key, as there)."""
    extra_hosts: list[str] = field(default_factory=list)
    ulimits: list[str] = field(default_factory=list)
    shm_size: int = 0
    security_opt: list[str] = field(default_factory=list)   # already parsed (opts.security)
    memory: int = 0
