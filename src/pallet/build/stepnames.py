"""BuildKit's names for a build's steps: its own first steps, base images, instructions.

Owns: `internal_steps` (the `[internal] load ...` steps a BuildKit build starts with),
`full_name` (how BuildKit names a base image), `one_line` (an instruction as a step's
name) and `OutputEvents` (the stream a RUN's output goes to, turned into events).
Used by pallet.build.executor; emits pallet.build.events, prints nothing.
"""
from __future__ import annotations

from ..errors import InvalidArgument
from . import events
from .substitution import expand


def internal_steps(builder, stages: list) -> None:
    """BuildKit's first steps: the Dockerfile, the base images' metadata, .dockerignore."""
    from ..opts.units import human_size
    df = builder.req.dockerfile
    builder.emit(events.Internal(builder.next_vertex(), f"[internal] load build definition from {df.filename}",
                                 [f"transferring dockerfile: {human_size(len(df.source.encode()))} done"]))
    bases = []
    for stage in stages:
        base = expand(stage.base, builder.meta, df.escape)
        if builder.stage_named(base, stage.index) is None and base.lower() != "scratch":
            bases.append(full_name(base))
    for base in dict.fromkeys(bases):
        builder.emit(events.Internal(builder.next_vertex(), f"[internal] load metadata for {base}"))
    root = builder.req.context.root
    if root is not None:
        ignore = root / ".dockerignore"
        size = ignore.stat().st_size if ignore.is_file() else 2
        builder.emit(events.Internal(builder.next_vertex(), "[internal] load .dockerignore",
                                     [f"transferring context: {human_size(size)} done"]))


def one_line(text: str) -> str:
    """An instruction as BuildKit names its step: continuation lines joined."""
    return " ".join(part.strip() for part in text.split("\n") if part.strip())


def full_name(name: str) -> str:
    """`busybox` -> `docker.io/library/busybox:latest`, as BuildKit names a base image."""
    from .. import reference
    try:
        ref = reference.parse(name)
    except InvalidArgument:
        return name
    return str(ref) if ref.digest else str(ref.tagged())


class OutputEvents:
    """The binary stream a RUN's output is relayed to, turned into Output events."""

    def __init__(self, builder):
        self.builder = builder

    def write(self, data: bytes) -> int:
        self.builder.emit(events.Output(self.builder.vertex, bytes(data)))
        return len(data)

    def flush(self) -> None:
        pass
