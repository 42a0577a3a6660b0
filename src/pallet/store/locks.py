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
from pathlib import Path


class flocked:  # noqa: N801 - used like the function it was: `with flocked(path) as held:`
    """Hold flock on `path` inside a `with`; `as` gives False (holding nothing) if
    non-blocking and busy. A class, not @contextmanager: contextlib is ~0.4 ms of every
    command that takes a lock, and `run` takes two."""

    def __init__(self, path: Path, exclusive: bool = True, blocking: bool = True):
        self.path, self.exclusive, self.blocking = path, exclusive, blocking
        self.fd = -1

    def __enter__(self) -> bool:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        mode = fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH
        if not self.blocking:
            mode |= fcntl.LOCK_NB
        try:
            fcntl.flock(self.fd, mode)
        except BlockingIOError:
            return False
        except BaseException:
            os.close(self.fd)
            raise
        return True

    def __exit__(self, *exc) -> None:
        os.close(self.fd)


def is_held(path: Path) -> bool:
    """Whether a live process holds flock on `path` (a missing file: nobody does)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


class unlocked:  # noqa: N801
    """What `with` gets where no lock is needed (the stand-in for flocked)."""

    def __enter__(self) -> bool:
        return True

    def __exit__(self, *exc) -> None:
        pass


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
