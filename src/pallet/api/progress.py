"""dockerd's JSON progress stream for pull, push and load, fed by the core's progress calls.

The core reports `line(text)`, `layer(id, status, total)`, `advance(id, n)`;
here they become `{"status", "id", "progressDetail", "progress"}` messages, as
docker/cli's jsonmessage renders them. The work runs in its own thread (with its
own Engine, see Service.engine) and the response streams what it reports; an
error after the answer began is the stream's last message (`errorDetail`).
"""
from __future__ import annotations

import json
import queue
import threading

_END = object()


class JsonProgress:
    """The core's progress calls as messages; `put(message)` sends any other message."""

    def __init__(self, put):
        self.put = put
        self.totals: dict[str, list] = {}

    def line(self, text: str) -> None:
        self.put({"status": text})

    def layer(self, layer_id: str, status: str, total: int | None = None) -> None:
        self.totals[layer_id] = [0, total]
        self.put({"status": status, "progressDetail": {}, "id": layer_id[:12]})

    def advance(self, layer_id: str, n: int) -> None:
        current = self.totals.setdefault(layer_id, [0, None])
        current[0] += n
        detail = {"current": current[0]} | ({"total": current[1]} if current[1] else {})
        self.put({"status": "Downloading", "progressDetail": detail, "id": layer_id[:12]})

    def close(self) -> None:
        pass


def stream_from_worker(work, service):
    """A streaming Response of `work(progress)`'s messages, run in a thread (whose Engine,
    if it takes one, goes back to the service's pool at the end)."""
    from .router import error_event
    from .wire import Response
    q: queue.Queue = queue.Queue()

    def run():
        try:
            work(JsonProgress(q.put))
        except Exception as exc:  # noqa: BLE001 - reported in the stream, as dockerd does
            q.put(error_event(exc))
        finally:
            service.release_engine()
            q.put(_END)
    threading.Thread(target=run, daemon=True).start()

    def body():
        while True:
            item = q.get()
            if item is _END:
                return
            yield (json.dumps(item) + "\r\n").encode()
    return Response(200, body(), "application/json")
