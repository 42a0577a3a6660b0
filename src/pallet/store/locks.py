"""File locks shared by concurrent `pallet` processes.

Two locks, both flock(2) so a SIGKILLed holder releases them at once:

- ``commit`` (exclusive, held for milliseconds): renaming unpacked layers into
  place, making images visible, moving deleted trees to trash. It keeps the
  directory tree and the database rows in step.
- ``gc`` (shared by every writer with work in flight, exclusive for a sweep):
  a sweep that deletes unreferenced layers and blobs runs only when no other
  process is between "I will reuse this layer" and "my image is committed".
  Writers never wait for a sweep for long; a sweep that cannot get the lock
  at once is skipped (the garbage is swept by a later one).
"""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import Iterator


@contextmanager
def flocked(path: Path, exclusive: bool = True, blocking: bool = True) -> Iterator[bool]:
    """Hold flock on `path`; yields False (holding nothing) if non-blocking and busy."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        if not blocking:
            mode |= fcntl.LOCK_NB
        try:
            fcntl.flock(fd, mode)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


class Locks:
    def __init__(self, root: Path):
        self.commit_path = root / "lock"
        self.gc_path = root / "gc.lock"

    def commit(self):
        return flocked(self.commit_path, exclusive=True)

    def in_flight(self):
        """Held (shared) by a writer for the whole of an import/pull/build."""
        return flocked(self.gc_path, exclusive=False)

    def sweep(self):
        """Non-blocking exclusive: yields False when writers are in flight."""
        return flocked(self.gc_path, exclusive=True, blocking=False)
