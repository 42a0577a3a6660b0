"""`pallet logs`: conmon's log file, with stdout and stderr kept apart."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from ..errors import InvalidArgument


def _when(text: str | None, now: float, flag: str) -> datetime | None:
    if not text:
        return None
    from ..opts.units import parse_timestamp
    try:
        return datetime.fromtimestamp(parse_timestamp(text, now), timezone.utc)
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
    from ..services import container_status as status
    svc = ctx.engine.containers
    record = svc.get(ref)
    from ..services.container_config import check_logs_readable
    check_logs_readable(record)
    now = time.time()
    cid = record["Id"]

    def running() -> bool:
        try:
            return svc.get(cid)["State"]["Running"]
        except Exception:  # noqa: BLE001 - removed meanwhile: stop following
            return False
    out = getattr(ctx.stdout, "buffer", ctx.stdout)
    err = getattr(ctx.stderr, "buffer", ctx.stderr)
    for rec in _records(record["LogPath"], _when(o.since, now, "since"), _when(o.until, now, "until"), _tail(o.tail),
                        o.follow, running):
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


def _records(log_path: str, since, until, tail, follow, running):
    """Records of the rotated files (oldest first), then of the live log (followed with -f)."""
    from ..runtime.logs import read_logs
    from ..services.log_rotation import log_files
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
