"""`stop` for one or many containers: signal all, then wait for all, then SIGKILL the late.

N containers stopped together take one timeout, not N (as Docker's CLI, which stops
them in parallel). The stop is recorded before the signal, so the exit it causes never
triggers a restart policy.
"""
from __future__ import annotations

import time

from ...errors import PalletError
from . import state as status


def stop_many(svc, refs: list[str], timeout: int | None = None, signal: str | None = None,
          on_error=None) -> list[str]:
    """Stop each container; errors go to `on_error(ref, exc)` (raised without it).
    Returns the refs stopped."""
    deadlines, stopped = {}, []
    for ref in refs:
        try:
            cid = svc.resolve(ref)
            deadline = _begin_stop(svc, cid, timeout, signal)
        except PalletError as exc:
            if on_error is None:
                raise
            on_error(ref, exc)
            continue
        stopped.append(ref)
        if deadline is not None:
            deadlines[cid] = deadline
    _finish_stops(svc, deadlines)
    return stopped


def _begin_stop(svc, cid: str, timeout: int | None, signal: str | None) -> float | None:
    from .restart import on_stop
    on_stop(svc, cid)  # before the signal: the exit it causes must not restart it
    record = svc.get(cid)
    if not record["State"]["Running"]:
        return None
    if timeout is None:
        timeout = record["Config"].get("StopTimeout")
    timeout = 10 if timeout is None else timeout
    sig = signal or record["Config"].get("StopSignal") or "SIGTERM"
    if record["State"]["Paused"]:
        svc._runc_quiet("resume", cid)
    svc.store.update(cid, lambda r: r.setdefault("_stopped_by_user", True))
    svc._signal(cid, sig)
    return time.monotonic() + max(timeout, 0)


def _finish_stops(svc, deadlines: dict[str, float]) -> None:
    pending = dict(deadlines)
    while pending:
        now = time.monotonic()
        for cid, deadline in list(pending.items()):
            if svc.monitor.exit_code(cid) is not None or not status.monitor_alive(svc, cid):
                del pending[cid]
            elif now >= deadline:
                svc._signal(cid, "SIGKILL")
                svc._wait_exit(cid, 30)
                del pending[cid]
        if pending:
            time.sleep(0.02)
    for cid in deadlines:
        svc.cleanup(cid)
