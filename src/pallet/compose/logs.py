"""Several containers' logs as one stream, as `docker compose logs` and attached `up` read them.

Owns the multiplexing of `engine.containers.logs` (one reader thread per container, each
with an engine of its own: the store's SQLite connection belongs to one thread), lines
handed to the caller in arrival order as `(container name, log record)`, and with
`follow` a `(name, None)` when a container's log has ended (it exited and all it wrote
was read). Without `follow`, containers are read one after the other, so each one's
lines stay together, as compose prints them.
"""
from __future__ import annotations

import queue
import threading

from ..services.container_types import LogsRequest

_DONE = object()


def stream(engine, records: list[dict], *, follow: bool = False, tail: int | None = None, names=None,
           since: float | None = None, until: float | None = None):
    """Yield (name, record) for every log record of `records` (see the module docstring)."""
    q: queue.Queue = queue.Queue(maxsize=1000)
    names = names or {}

    def reader(rec: dict) -> None:
        name = names.get(rec["Id"], rec["Name"].lstrip("/"))
        try:
            own = type(engine)(engine.paths)
            for item in own.containers.logs(LogsRequest(rec["Id"], follow, tail, since, until)):
                q.put((name, item))
        finally:
            q.put((_DONE, name))
    threads = [threading.Thread(target=reader, args=(r,), daemon=True) for r in records]
    if not follow:
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
