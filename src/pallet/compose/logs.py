"""Several containers' logs as one stream, as `docker compose logs` and attached `up` read them.

Owns the multiplexing: one reader thread per container (conmon's log files through
pallet.runtime.logs, rotated files first), lines handed to the caller in arrival
order as `(container name, stream, record)`. With `follow`, a reader stops when its
container has exited and its log is drained; whether it still runs is read from the
monitor's exit file, never from the database (threads share the process's one
SQLite connection, which must stay with the caller's thread).
"""
from __future__ import annotations

import queue
import threading
from pathlib import Path

_DONE = object()


def _records(log_path: str, tail: int | None, follow: bool, running, since=None, until=None):
    from ..runtime.logs import read_logs
    from .core import log_files
    *rotated, live = log_files(log_path)
    old = [r for p in rotated for r in read_logs(p, since=since, until=until)]
    if not follow:
        records = old + list(read_logs(live, since=since, until=until))
        yield from (records if tail is None else records[-tail:] if tail > 0 else [])
        return
    live_count = sum(1 for _ in read_logs(live, since=since, until=until)) if tail is not None else 0
    if tail is None:
        yield from old
    elif tail > live_count:
        yield from old[-(tail - live_count):]
    yield from read_logs(live, since=since, until=until, tail=tail, follow=True, running=running)


def stream(engine, records: list[dict], *, follow: bool = False, tail: int | None = None, names=None,
           since=None, until=None):
    """Yield (name, record) for every log record of `records`; with `follow`, (name, None) when
    a container's log has ended (it exited and everything it wrote was read)."""
    monitor = engine.containers.monitor
    q: queue.Queue = queue.Queue(maxsize=1000)
    names = names or {}

    def reader(rec: dict) -> None:
        cid = rec["Id"]
        name = names.get(cid, rec["Name"].lstrip("/"))
        try:
            for item in _records(rec["LogPath"], tail, follow, lambda: monitor.exit_code(cid) is None
                                 and Path(rec["LogPath"]).exists(), since, until):
                q.put((name, item))
        finally:
            q.put((_DONE, name))
    threads = [threading.Thread(target=reader, args=(r,), daemon=True) for r in records]
    if not follow:  # one after the other: each container's lines stay together, as compose prints them
        for t in threads:
            t.start()
            while True:
                item = q.get()
                if item[0] is _DONE:
                    break
                yield item
            t.join()
        return
    for t in threads:
        t.start()
    left = len(threads)
    while left:
        item = q.get()
        if item[0] is _DONE:
            left -= 1
            yield item[1], None  # this container's log has ended
            continue
        yield item
