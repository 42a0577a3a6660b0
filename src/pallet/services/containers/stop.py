"""`stop` for one or many containers: signal all, then wait for all, then SIGKILL the late.

N containers stopped together take one timeout, not N (as Docker's CLI, which stops
them in parallel). The stop is recorded before the signal, so the exit it causes never
triggers a restart policy. The stop cleans up after the exits itself; while it does, it
holds each container's attach lock (where it is free), which conmon's exit command tests
and then skips its own `pallet container cleanup`: one Python process fewer per container,
competing for the CPU and the container's lock with the stop (see
ContainerService._exit_command).
"""
from __future__ import annotations

import time

from ...errors import PalletError
from . import state as status


def stop_many(svc, refs: list[str], timeout: int | None = None, signal: str | None = None,
          on_error=None) -> list[str]:
    """Stop each container; errors go to `on_error(ref, exc)` (raised without it).
    Returns the refs stopped."""
    deadlines, stopped, held = {}, [], []
    try:
        for ref in refs:
            try:
                cid = svc.resolve(ref)
                held.append(_hold_attach_lock(svc, cid))
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
    finally:
        for lock in held:
            lock.__exit__(None, None, None)
    return stopped


def _hold_attach_lock(svc, cid: str):
    """The attach lock taken if free (a foreground CLI holding it cleans up itself)."""
    from ...store.locks import flocked, unlocked
    lock = flocked(svc.attach_lock(cid), blocking=False)
    try:
        if lock.__enter__():
            return lock
    except OSError:  # its directory is gone: removed meanwhile (resolve/get will say so)
        return unlocked()
    lock.__exit__(None, None, None)  # busy: only the descriptor to close
    return unlocked()


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
    delay = 0.0005  # a SIGKILL or a quick SIGTERM ends the process in about a millisecond
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
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
    for cid in deadlines:
        svc.cleanup(cid)
