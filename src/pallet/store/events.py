"""The event journal: what happened to containers, images, volumes and networks, kept in
the store because there is no daemon to remember it.

Owns the file format and its bounds: one JSON document per line, appended with
O_APPEND (one write per event, so concurrent writers never interleave inside a
line); past MAX_BYTES the file is renamed to `<name>.1` (the previous `.1` goes), so
the journal never holds more than about twice MAX_BYTES. Readers see `.1`, then the
live file, and can follow it across a rotation. Knows nothing of Docker's event
fields (pallet.services.events does).
"""
from __future__ import annotations

from .. import jsontext
import os
import time
from pathlib import Path

MAX_BYTES = 1 << 20
POLL = 0.1


class Journal:
    def __init__(self, path: Path, max_bytes: int = MAX_BYTES):
        self.path, self.max_bytes = Path(path), max_bytes

    def append(self, doc: dict) -> None:
        line = (jsontext.dumps(doc, compact=True) + "\n").encode()
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:  # the store is being reset: nothing to record it in
            return
        try:
            os.write(fd, line)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if size > self.max_bytes:
            self._rotate()

    def _rotate(self) -> None:
        from .locks import flocked
        with flocked(self.path.with_name(self.path.name + ".lock")):
            try:
                if os.stat(self.path).st_size > self.max_bytes:  # not rotated meanwhile
                    os.replace(self.path, self.path.with_name(self.path.name + ".1"))
            except FileNotFoundError:
                pass

    def read(self, follow: bool = False, stop=lambda: False):
        """Every document, oldest first; with `follow`, then each new one as it is appended,
        until `stop()` is true (checked between polls)."""
        old = self.path.with_name(self.path.name + ".1")
        f = _open(self.path)
        ino = os.fstat(f.fileno()).st_ino if f else None
        if f is None or ino != _inode(old):
            yield from _lines(_open(old))
        if f is not None:
            yield from _lines(f, close=False)
        while follow and not stop():
            if f is not None:
                yield from _lines(f, close=False)
            current = _inode(self.path)
            if current is not None and current != ino:  # rotated (or made): finish, then switch
                if f is not None:
                    yield from _lines(f)
                f, ino = _open(self.path), current
                continue
            time.sleep(POLL)
        if f is not None:
            f.close()


def _open(path: Path):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        return None


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


def _lines(f, close: bool = True):
    if f is None:
        return
    try:
        while True:
            pos = f.tell()
            line = f.readline()
            if not line:
                return
            if not line.endswith(b"\n"):  # a line being written: read it next time
                f.seek(pos)
                return
            try:
                yield jsontext.loads(line)
            except ValueError:
                continue  # a torn line (a crash mid-write): skipped
    finally:
        if close:
            f.close()
