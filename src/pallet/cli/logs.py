"""`pallet logs`: flags -> LogsRequest -> `engine.containers.logs` -> stdout and stderr kept apart."""
from __future__ import annotations

import time

from ..errors import InvalidArgument


def _when(text: str | None, now: float, flag: str) -> float | None:
    if not text:
        return None
    from ..opts.timestamps import parse_timestamp
    try:
        return parse_timestamp(text, now)
    except InvalidArgument as exc:
        raise InvalidArgument(f'invalid value for "{flag}": {exc}') from None


def _tail(text: str) -> int | None:
    if text in ("all", ""):
        return None
    try:
        n = int(text)
    except ValueError:  # Docker's daemon shows everything for a --tail it cannot read
        return None
    return None if n < 0 else n


def show_logs(ctx, o, ref: str) -> int:
    from ..services.container_types import LogsRequest
    now = time.time()
    req = LogsRequest(container=ref, follow=o.follow, tail=_tail(o.tail),
                      since=_when(o.since, now, "since"), until=_when(o.until, now, "until"))
    out = getattr(ctx.stdout, "buffer", ctx.stdout)
    err = getattr(ctx.stderr, "buffer", ctx.stderr)
    for rec in ctx.engine.containers.logs(req):
        sink = err if rec.stream == "stderr" else out
        if o.timestamps:
            sink.write(rec.timestamp().encode() + b" ")
        sink.write(rec.data)
        if o.follow:
            sink.flush()
    out.flush()
    err.flush()
    return 0
