"""Docker's wait conditions: `not-running`, `next-exit`, `removed`.

`docker run` asks to wait *before* it starts the container, so a waiter for the next
exit (or the removal) of a container that is not running must first see it start:
no daemon tells us, so the record is read until its StartedAt or FinishedAt moves
(a short-lived container may start and end between two reads; its FinishedAt still
moves) or it is removed. `prepare` checks the request at once (an unknown container
or condition fails before an HTTP answer starts); the returned function blocks.
"""
from __future__ import annotations

import time

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
        code = _wait(svc, cid)
        if condition == "removed":
            while svc.store.exists(cid):
                time.sleep(POLL)
        return code
    return block


def _until_started(svc, cid: str, mark: tuple[str, str]) -> None:
    while True:
        try:
            state = svc.get(cid)["State"]
        except NotFound:
            return
        if state["Running"] or (state["StartedAt"], state["FinishedAt"]) != mark:
            return
        time.sleep(POLL)


def _wait(svc, cid: str) -> int:
    try:
        return svc.wait(cid)
    except NotFound:  # removed (--rm) before we looked: the exit file outlives the record
        from .state import UNKNOWN_EXIT
        code = svc.monitor.exit_code(cid)
        return UNKNOWN_EXIT if code is None else code
