"""`pallet logs`: conmon's log file, with stdout and stderr kept apart."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from ..errors import InvalidArgument


def _when(text: str | None, now: float) -> datetime | None:
    if not text:
        return None
    from ..opts.units import parse_timestamp
    return datetime.fromtimestamp(parse_timestamp(text, now), timezone.utc)


def _tail(text: str) -> int | None:
    if text in ("all", ""):
        return None
    try:
        n = int(text)
    except ValueError:
        raise InvalidArgument(f'invalid value for "tail": {text}') from None
    return None if n < 0 else n


def show_logs(ctx, o, ref: str) -> int:
    from ..runtime.logs import read_logs
    from ..services import container_status as status
    svc = ctx.engine.containers
    record = svc.get(ref)
    now = time.time()
    cid = record["Id"]

    def running() -> bool:
        try:
            return svc.get(cid)["State"]["Running"]
        except Exception:  # noqa: BLE001 - removed meanwhile: stop following
            return False
    out = getattr(ctx.stdout, "buffer", ctx.stdout)
    err = getattr(ctx.stderr, "buffer", ctx.stderr)
    for rec in read_logs(record["LogPath"], since=_when(o.since, now), until=_when(o.until, now),
                         tail=_tail(o.tail), follow=o.follow, running=running):
        sink = err if rec.stream == "stderr" else out
        if o.timestamps:
            sink.write(rec.timestamp().encode() + b" ")
        sink.write(rec.data)
        if o.follow:
            sink.flush()
    out.flush()
    err.flush()
    _ = status
    return 0
