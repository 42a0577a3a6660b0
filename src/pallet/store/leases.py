"""Scratch space under ingest/ that a live process owns, and what a dead one left.

A process that writes scratch files there (a build's copied context, COPY sources,
spooled archives) holds a lease: an exclusive flock on `ingest/<token>.lease`, kept
while it works and released by the kernel when it dies (kill -9 included). Every
scratch name it makes starts with `<token>-`. A sweep deletes what belongs to a
token whose lease nobody holds; `blob-*` ingest files carry their own flock
(pallet.store.content). Tokens are never reused, so a lease found dead stays dead.

    with ScratchLease(ingest) as prefix:     # released (and its file gone) at the end
        tempfile.mkdtemp(prefix=prefix + "ctx-", dir=ingest)
    scratch_prefix(ingest)                   # the held lease's prefix (one is taken if none)
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .locks import is_held

_held: dict[str, list] = {}  # ingest dir -> [token, fd, users]


def scratch_prefix(ingest: Path) -> str:
    """The prefix for scratch names of this process; takes a lease (kept until the process
    ends) when no `ScratchLease` holds one."""
    held = _held.get(str(ingest))
    if held is None:
        held = _held[str(ingest)] = [*_take(ingest), 1]
    return held[0] + "-"


class ScratchLease:
    def __init__(self, ingest: Path):
        self.ingest = ingest

    def __enter__(self) -> str:
        prefix = scratch_prefix(self.ingest)
        _held[str(self.ingest)][2] += 1
        return prefix

    def __exit__(self, *exc) -> None:
        held = _held[str(self.ingest)]
        held[2] -= 1
        if held[2] == 1:  # the last user: what it made is gone, so is the lease
            del _held[str(self.ingest)]
            _unlink(self.ingest / f"{held[0]}.lease")
            os.close(held[1])


def _take(ingest: Path) -> tuple[str, int]:
    ingest.mkdir(parents=True, exist_ok=True)
    while True:
        token = f"{os.getpid()}.{os.urandom(4).hex()}"
        path = ingest / f"{token}.lease"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:  # a sweep may have found it free before we locked it, and unlinked it
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return token, fd
        except FileNotFoundError:
            pass
        os.close(fd)


def stale(ingest: Path) -> list[Path]:
    """Entries of ingest/ that no live process owns (their lease free, or none at all)."""
    dead: dict[str, bool] = {}
    out = []
    for p in sorted(ingest.iterdir()) if ingest.is_dir() else []:
        if p.name.startswith("blob-"):
            if not is_held(p):
                out.append(p)
            continue
        token = p.name[:-len(".lease")] if p.name.endswith(".lease") else p.name.split("-", 1)[0]
        if token not in dead:
            dead[token] = not is_held(ingest / f"{token}.lease")
        if dead[token]:
            out.append(p)
    return out


def discard(p: Path) -> None:
    """Delete a stale entry. A lease file only while holding its lock, so that a process
    taking that lease at this moment sees it gone (`_take` then takes another)."""
    if p.name.endswith(".lease"):
        try:
            fd = os.open(p, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _unlink(p)
        except BlockingIOError:
            pass
        finally:
            os.close(fd)
        return
    from .layers import force_rmtree
    force_rmtree(p)


def _unlink(p: Path) -> None:
    try:
        os.unlink(p)
    except FileNotFoundError:
        pass
