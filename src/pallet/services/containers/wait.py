"""Docker's wait conditions: `not-running`, `next-exit`, `removed`.

`docker run` asks to wait *before* it starts the container, so a waiter for the next
exit (or the removal) of a container that is not running must first see it start:
no daemon tells us, so the record is read until its StartedAt or FinishedAt moves
(a short-lived container may start and end between two reads; its FinishedAt still
moves) or it is removed. A start in this process (the API service's, which the same
client asks for next) wakes the waiter at once; one in another process is seen
within POLL. `prepare` checks the request at once (an unknown container or condition
fails before an HTTP answer starts); the returned function blocks.

A waiter records the exit and, for --rm, removes the container itself (`wait` runs the
cleanup), as a foreground `run` does: like it, it holds the container's foreground lock
while it waits for a running container, so conmon's exit command (a second Python process
doing the same cleanup) is skipped. Only one holds it; other waiters just wait. A start
that fails is left to the exit command (which removes a --rm container), as before.
"""
from __future__ import annotations

from ...errors import InvalidArgument, NotFound

CONDITIONS = ("not-running", "next-exit", "removed")
POLL = 0.02


def prepare(svc, ref: str, condition: str = "not-running"):
    """A function that blocks until `condition` holds and returns the exit code."""
    condition = condition or "not-running"
    if condition not in CONDITIONS:
        raise InvalidArgument(f'invalid condition: "{condition}"')
    cid = svc.resolve(ref)
    state = svc.get(cid)["State"]
    if condition == "not-running" and not state["Running"]:
        code = state["ExitCode"]
        return lambda: code
    mark = (state["StartedAt"], state["FinishedAt"])

    def block() -> int:
        if not state["Running"]:
            _until_started(svc, cid, mark)
        with _foreground(svc, cid):  # only once it runs: a start that fails is the exit command's
            code = _wait(svc, cid)
        if condition == "removed":
            while True:
                since = svc.store.changes()
                if not svc.store.exists(cid):
                    break
                svc.store.wait_for_change(since, POLL)
        return code
    return block


class _foreground:  # noqa: N801 - used as `with _foreground(svc, cid):`
    """The container's foreground lock while a waiter waits, if nobody holds it (see above)."""

    def __init__(self, svc, cid: str):
        self.svc, self.cid, self.lock = svc, cid, None

    def __enter__(self) -> None:
        try:
            lock = self.svc.foreground(self.cid, blocking=False)
            lock.__enter__()
            self.lock = lock
        except (NotFound, OSError):  # removed meanwhile: nothing to hold
            pass

    def __exit__(self, *exc) -> None:
        if self.lock is not None:
            self.lock.__exit__(*exc)


def _until_started(svc, cid: str, mark: tuple[str, str]) -> None:
    while True:
        since = svc.store.changes()
        try:
            state = svc.get(cid)["State"]
        except NotFound:
            return
        if state["Running"] or (state["StartedAt"], state["FinishedAt"]) != mark:
            return
        svc.store.wait_for_change(since, POLL)


def _wait(svc, cid: str) -> int:
    try:
        return svc.wait(cid)
    except NotFound:  # removed (--rm) before we looked: the exit file outlives the record
        from .state import UNKNOWN_EXIT
        code = svc.monitor.exit_code(cid)
        return UNKNOWN_EXIT if code is None else code
