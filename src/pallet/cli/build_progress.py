"""How `pallet build` shows its progress: BuildKit's displays, or the classic builder's text.

Owns the rendering of pallet.build.events for the terminal:
  * `PlainPrinter`  BuildKit's `--progress=plain` on stderr: `#5 [2/3] COPY a /a`,
                    `#5 0.215 <output>`, `#5 CACHED`, `#5 DONE 0.3s`, a blank line after each;
  * `TtyPrinter`    BuildKit's live display on a terminal (stderr): `[+] Building 1.2s (5/8)`,
                    one ` => ` line per step with its time, the running step's last output
                    lines, redrawn in place;
  * `ClassicPrinter` the classic builder's text on stdout (`--progress=classic`; the same
                    `classic_text` the API's build stream carries).
A failure ends BuildKit's displays with its summary: the step's last output between
`------` rules, the Dockerfile lines around the instruction, `ERROR: failed to solve: ...`.
Only `pallet build` imports this module. The edges do not import pallet.build (the layer
order: they reach the core through the engine alone), so an event is told by its class name
(`Step`, `Output`, ...), the data the service hands out, as the Engine API's JSON messages are.
"""
from __future__ import annotations

import time

LOG_TAIL = 6        # BuildKit's live display keeps the last lines of a running step
ERROR_TAIL = 10     # and its error summary the last lines of the failed one


class _Vertex:
    def __init__(self, name: str):
        self.name, self.started, self.seconds = name, time.monotonic(), None
        self.cached = self.failed = False
        self.statuses: list[str] = []
        self.logs: list[str] = []     # complete lines, with their time stamps
        self.partial = b""

    def add_output(self, data: bytes) -> list[str]:
        """Complete lines of the output so far, each `0.215 text` as BuildKit stamps them."""
        stamp = f"{time.monotonic() - self.started:.3f}"
        *lines, self.partial = (self.partial + data).split(b"\n")
        out = [f"{stamp} {line.decode('utf-8', 'replace').rstrip(chr(13))}" for line in lines]
        self.logs += out
        return out

    def flush(self) -> list[str]:
        return self.add_output(b"\n") if self.partial else []


class _BuildKitPrinter:
    """What the plain and live displays share: the steps seen, and the failure summary."""

    def __init__(self, stream):
        self.stream = stream
        self.vertices: dict[int, _Vertex] = {}
        self.failure = None  # the StepFailed event, if a step failed

    def __call__(self, event) -> None:
        kind = type(event).__name__
        vertex = getattr(event, "vertex", None)
        if vertex is None:
            return  # instructions BuildKit shows no step for (ENV, LABEL, ...)
        if kind in ("Step", "Internal"):
            v = self.vertices[vertex] = _Vertex(event.name)
            if kind == "Internal":
                v.statuses, v.seconds = list(event.statuses), 0.0
                v.failed = bool(event.error)
        v = self.vertices[vertex]
        if kind == "BaseImage":
            v.cached, v.seconds = not event.pulled, event.seconds
        elif kind == "Cached":
            v.cached, v.seconds = True, 0.0
        elif kind == "Miss":
            v.statuses.append(f"cache miss: {event.reason}")
        elif kind == "Message":
            v.statuses.append(event.text)
        elif kind == "StepDone" and v.seconds is None:
            v.seconds = event.seconds
        elif kind == "StepFailed":
            v.failed, v.seconds = True, time.monotonic() - v.started
            self.failure = event
        self.show(vertex, event)

    def show(self, vertex: int, event) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass

    def fail(self, exc: BaseException) -> None:
        """BuildKit's end of a failed build: the failed step's summary and the error."""
        self.finish()
        out = []
        failure = self.failure
        if failure is not None:
            logs = self.vertices[failure.vertex].logs if failure.vertex in self.vertices else []
            out += ["------", f" > {failure.name}:", *logs[-ERROR_TAIL:], "------"]
            out += _excerpt((failure.dockerfile, failure.source), failure.lines)
        message = failure.message if failure is not None else str(exc)
        started = bool(self.vertices)
        out.append(f"ERROR: failed to solve: {message}" if started else f"ERROR: {message}")
        self.stream.write("\n".join(out) + "\n")
        self.stream.flush()


def _excerpt(source: tuple[str, str], lines: tuple[int, int]) -> list[str]:
    """The Dockerfile around the failed instruction, as BuildKit's errdefs.Source prints it."""
    if not source[1] or not lines[0]:
        return []
    name, text = source
    rows = text.split("\n")
    start, end = lines
    if start < 1 or start > len(rows):
        return []
    end = min(end, len(rows))
    first, last, pad, p = start, end, (4 if end == start else 2), 0
    while p < pad:  # BuildKit widens on both sides, counting each turn once more
        if first > 1:
            first -= 1
            p += 1
        if last != len(rows):
            last += 1
            p += 1
        p += 1
    out = [f"{name}:{start}", "-" * 20]
    for i in range(first, last + 1):
        mark = ">>>" if start <= i <= end else "   "
        out.append(f" {i:3d} | {mark} {rows[i - 1]}")
    return out + ["-" * 20]


BUILDER = "default"  # buildx's name for the builder of the current context, the docker driver's


class PlainPrinter(_BuildKitPrinter):
    def __init__(self, stream):
        super().__init__(stream)
        self.headed = False

    def show(self, vertex: int, event) -> None:
        v, kind, w = self.vertices[vertex], type(event).__name__, self.stream.write
        if not self.headed:  # buildx names the builder first, as step #0
            self.headed = True
            w(f'#0 building with "{BUILDER}" instance using docker driver\n\n')
        if kind == "Internal":
            end = f"ERROR: {event.error}" if event.error else "DONE 0.0s"
            w(f"#{vertex} {v.name}\n" + "".join(f"#{vertex} {s}\n" for s in v.statuses)
              + f"#{vertex} {end}\n\n")
        elif kind == "Step":
            w(f"#{vertex} {v.name}\n")
        elif kind == "BaseImage":
            w(f"#{vertex} CACHED\n\n" if v.cached else f"#{vertex} DONE {v.seconds:.1f}s\n\n")
        elif kind == "Cached":
            w(f"#{vertex} CACHED\n\n")
        elif kind in ("Miss", "Message"):
            w(f"#{vertex} {v.statuses[-1]}\n")
        elif kind == "Output":
            w("".join(f"#{vertex} {line}\n" for line in v.add_output(event.data)))
        elif kind == "StepDone" and not v.cached:
            w("".join(f"#{vertex} {line}\n" for line in v.flush()) + f"#{vertex} DONE {v.seconds:.1f}s\n\n")
        elif kind == "StepFailed":
            w("".join(f"#{vertex} {line}\n" for line in v.flush()) + f"#{vertex} ERROR: {event.message}\n")
        self.stream.flush()


class TtyPrinter(_BuildKitPrinter):
    """The live display: redrawn in place, at most ten times a second while output flows,
    and every half second by a ticker thread so a silent step's clock still runs."""

    def __init__(self, stream, width: int = 80):
        import threading
        super().__init__(stream)
        self.width, self.started, self.drawn, self.last_draw = width, time.monotonic(), 0, 0.0
        self.lock, self.done = threading.Lock(), threading.Event()
        self.ticker = threading.Thread(target=self._tick, name="build-display", daemon=True)
        self.ticker.start()

    def _tick(self) -> None:
        while not self.done.wait(0.5):
            with self.lock:
                if not self.done.is_set():
                    self.draw(finished=False)

    def __call__(self, event) -> None:
        with self.lock:
            super().__call__(event)

    def show(self, vertex: int, event) -> None:
        if type(event).__name__ == "Output":
            self.vertices[vertex].add_output(event.data)
            if time.monotonic() - self.last_draw < 0.1:
                return
        self.draw(finished=False)

    def finish(self) -> None:
        with self.lock:
            if self.done.is_set():
                return
            self.done.set()
            self.draw(finished=True)
        self.ticker.join()

    def draw(self, finished: bool) -> None:
        lines = self.lines(finished)
        up = f"\x1b[{self.drawn}A" if self.drawn else ""
        self.stream.write(up + "".join(line + "\x1b[K\n" for line in lines) + "\x1b[J")
        self.stream.flush()
        self.drawn, self.last_draw = len(lines), time.monotonic()

    def lines(self, finished: bool) -> list[str]:
        now = time.monotonic()
        done = sum(1 for v in self.vertices.values() if v.seconds is not None)
        head = f"[+] Building {now - self.started:.1f}s ({done}/{len(self.vertices)})"
        out = [self._row(head + (" FINISHED" if finished and self.failure is None else ""),
                         f"docker:{BUILDER}")]
        for v in self.vertices.values():
            state = "CACHED " if v.cached else "ERROR " if v.failed else ""
            seconds = v.seconds if v.seconds is not None else now - v.started
            out.append(self._row(f" => {state}{v.name}", f"{seconds:.1f}s"))
            out += [self._row(f" => => {s}", "") for s in v.statuses]
            if v.seconds is None or v.failed:
                out += [self._row(f" => => # {line.split(' ', 1)[-1]}", "") for line in v.logs[-LOG_TAIL:]]
        return out

    def _row(self, left: str, right: str) -> str:
        room = self.width - len(right) - 1
        if len(left) > room:
            left = left[:max(room - 1, 0)] + "…" if room > 1 else ""
        return f"{left:<{room}} {right}".rstrip() if right else left[:self.width]


class ClassicPrinter:
    """The classic builder's text on stdout; RUN output as the command wrote it. The build
    service speaks this form itself (its lines to `line`, RUN's bytes to `write`)."""

    def __init__(self, stdout):
        self.stdout = stdout
        self.binary = getattr(stdout, "buffer", None)

    def line(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def write(self, data: bytes) -> None:
        if self.binary is not None:
            self.stdout.flush()
            self.binary.write(data)
            self.binary.flush()
        else:
            self.stdout.write(data.decode("utf-8", "replace"))

    def flush(self) -> None:
        pass
