"""Docker-like progress for pull and push: one line per layer.

The core reports events through the object it is handed (`line(text)`, `layer(id,
status, total)`, `advance(id, n)`, `close()`); this module, at the edge, draws them.
On a terminal each layer keeps one line that is redrawn in place with a bar
(`Downloading [=====>     ]  12.5MB/64MB`), as Docker's jsonmessage does with
ANSI cursor moves; otherwise every status change is one plain line and byte
counts are not printed (what `docker pull | cat` shows). `quiet` prints
nothing. Thread-safe: layers move in parallel worker threads.
"""
from __future__ import annotations

import threading
import time

BAR_WIDTH = 50
REDRAW_EVERY = 0.1  # seconds between redraws of one layer's bar


def human(n: float) -> str:
    from ..opts.units import human_size
    return human_size(n)


def bar(current: int, total: int | None) -> str:
    if not total:
        return f"{human(current):>8}"
    pct = min(current / total, 1.0)
    filled = int(pct * BAR_WIDTH)
    arrow = "=" * max(filled - 1, 0) + (">" if filled else "")
    return f"[{arrow:<{BAR_WIDTH}}] {human(current):>8}/{human(total)}"


class Progress:
    """Plain lines (not a terminal)."""

    def __init__(self, out, quiet: bool = False):
        self.out = out
        self.quiet = quiet
        self._lock = threading.Lock()
        self._status: dict[str, str] = {}
        self._bytes: dict[str, list] = {}

    def line(self, text: str) -> None:
        if not self.quiet:
            with self._lock:
                self._write(text + "\n")

    def layer(self, layer_id: str, status: str, total: int | None = None) -> None:
        """A layer's status changed ("Pulling fs layer", "Pushed", "Mounted from x/y", ...)."""
        with self._lock:
            if self._status.get(layer_id) == status:
                return
            self._status[layer_id] = status
            self._bytes[layer_id] = [0, total, 0.0]
            if not self.quiet:
                self._draw(layer_id, status)

    def advance(self, layer_id: str, n: int) -> None:
        """`n` more bytes of a layer moved (Downloading/Pushing)."""
        with self._lock:
            entry = self._bytes.setdefault(layer_id, [0, None, 0.0])
            entry[0] += n
            now = time.monotonic()
            if not self.quiet and now - entry[2] >= REDRAW_EVERY:
                entry[2] = now
                self._redraw_bytes(layer_id)

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def _draw(self, layer_id: str, status: str) -> None:
        self._write(f"{layer_id}: {status}\n")

    def _redraw_bytes(self, layer_id: str) -> None:
        pass  # plain output shows no byte counts, as Docker's non-terminal output

    def close(self) -> None:
        pass


class TtyProgress(Progress):
    """Live bars: each layer owns a line, redrawn in place with ANSI cursor moves."""

    def __init__(self, out, quiet: bool = False):
        super().__init__(out, quiet)
        self._order: list[str] = []

    def line(self, text: str) -> None:
        if not self.quiet:
            with self._lock:
                self._write(text + "\n")
                self._order = []  # lines above a free line are no longer redrawn

    def _draw(self, layer_id: str, status: str) -> None:
        self._put(layer_id, f"{layer_id}: {status}")

    def _redraw_bytes(self, layer_id: str) -> None:
        current, total, _ = self._bytes[layer_id]
        self._put(layer_id, f"{layer_id}: {self._status.get(layer_id, '')} {bar(current, total)}")

    def _put(self, layer_id: str, text: str) -> None:
        if layer_id not in self._order:
            self._order.append(layer_id)
            self._write(f"{text}\n")
            return
        up = len(self._order) - self._order.index(layer_id)
        self._write(f"\x1b[{up}A\r\x1b[2K{text}\r\x1b[{up}B")


def for_stream(out, quiet: bool = False) -> Progress:
    tty = hasattr(out, "isatty") and out.isatty()
    return TtyProgress(out, quiet) if tty else Progress(out, quiet)
