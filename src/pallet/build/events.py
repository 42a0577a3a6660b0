"""What a build reports as it goes: events, and the classic builder's text for them.

The executor (pallet.build.executor) emits these and prints nothing; each edge
renders them: the CLI as BuildKit's plain or live display (pallet.cli.build_progress)
or as the classic builder's text (`classic_text`, also what the Engine API's
build stream carries). A `vertex` is BuildKit's step number (`#5`); instructions
BuildKit shows no step for (ENV, LABEL, ARG, CMD, ...) have vertex None.
The edges may not import this module (they reach the core only through the engine), so they
tell an event by its class name: the names are part of the build service's interface.
Pure: no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Step:
    """An instruction starts. `name` is BuildKit's vertex name (`[builder 2/5] COPY . /src`);
    `number`/`total` and `text` make the classic builder's `Step 2/9 : COPY . /src`."""
    vertex: int | None
    name: str
    number: int
    total: int
    text: str


@dataclass
class Internal:
    """One of BuildKit's own steps (`[internal] load build definition from Dockerfile`,
    `exporting to image`), already done; `statuses` are its sub-lines. With `error`, the
    step failed without failing the build (a `--cache-from` image that cannot be read)."""
    vertex: int
    name: str
    statuses: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class BaseImage:
    """FROM resolved: the image (None for scratch); `pulled` when it was fetched first."""
    vertex: int | None
    image_id: str | None
    pulled: bool = False
    seconds: float = 0.0


@dataclass
class Cached:
    vertex: int | None
    image_id: str


@dataclass
class Miss:
    """The step runs; `reason` says which input changed (beyond Docker's builders)."""
    vertex: int | None
    reason: str


@dataclass
class Running:
    vertex: int | None
    container_id: str


@dataclass
class Output:
    """Bytes a RUN command wrote (stdout and stderr, as the classic builder merges them)."""
    vertex: int | None
    data: bytes


@dataclass
class ContainerRemoved:
    vertex: int | None
    container_id: str


@dataclass
class StepDone:
    vertex: int | None
    image_id: str
    seconds: float = 0.0


@dataclass
class StepFailed:
    """A step failed: BuildKit prints `#N ERROR: ...` and, at the end, the Dockerfile lines."""
    vertex: int | None
    name: str
    message: str
    lines: tuple[int, int]          # first and last Dockerfile line of the instruction
    dockerfile: str = "Dockerfile"  # its name and text, for the excerpt
    source: str = ""


@dataclass
class Message:
    """A line of its own: build triggers, a FROM image's pull progress."""
    vertex: int | None
    text: str


def short(image_id: str) -> str:
    return image_id.split(":", 1)[-1][:12]


def classic_text(event) -> str | bytes | None:
    """The classic builder's output for one event: lines (str, newline included), a RUN's raw
    bytes, or None when the classic builder says nothing."""
    kind = type(event)
    if kind is Step:
        return f"Step {event.number}/{event.total} : {event.text}\n"
    if kind is BaseImage:
        return f" ---> {short(event.image_id)}\n" if event.image_id else " ---> scratch\n"
    if kind is Cached:
        return " ---> Using cache\n"
    if kind is Miss:
        return f" ---> Cache miss: {event.reason}\n"
    if kind is Running:
        return f" ---> Running in {event.container_id[:12]}\n"
    if kind is Output:
        return event.data
    if kind is ContainerRemoved:
        return f"Removing intermediate container {event.container_id[:12]}\n"
    if kind is StepDone:
        return f" ---> {short(event.image_id)}\n"
    if kind is Message:
        return event.text + "\n"
    if kind is Internal and event.error:  # a cache source that could not be read: the build goes on
        return f"WARNING: {event.name}: {event.error}\n"
    return None


def classic_sink(emit_line, output=None):
    """An event handler that speaks the classic builder's form: each line to `emit_line`
    (without its newline), a RUN's bytes to the binary `output` (dropped when None). What a
    caller written for the line-and-stream interface (the Engine API's build stream) passes."""
    def handle(event) -> None:
        text = classic_text(event)
        if text is None:
            return
        if isinstance(text, bytes):
            if output is not None:
                output.write(text)
            return
        for line in text.splitlines():
            emit_line(line)
    return handle
