"""`pallet ps`: flags -> ListRequest -> `engine.containers.list` -> Docker's ps rows."""
from __future__ import annotations

import time

from ..errors import InvalidArgument


def check_format(fmt: str) -> None:
    """docker/cli runs a `ps --format` on an empty row before it asks for any container, so a
    bad template fails (exit 1) even when nothing would be listed."""
    from ..dockerjson.container import PsRow
    from ..format.template import compile_template
    try:
        template = compile_template(fmt)
    except InvalidArgument as exc:
        raise InvalidArgument(f"failed to parse template: {exc}") from None
    try:
        template.render(PsRow.empty())
    except InvalidArgument as exc:
        raise InvalidArgument(f"failed to execute template: {exc}") from None


def list_rows(engine, o, size: bool = False) -> list[dict]:
    from ..dockerjson.container import ps_row
    from ..opts.filters import parse_filters
    from ..services.container_types import ListRequest
    req = ListRequest(all=o.all, filters=parse_filters(o.filter), last=o.last, latest=o.latest, size=size)
    records = engine.containers.list(req)
    now = time.time()
    rows = [ps_row(r, trunc=not o.no_trunc, now=now) for r in records]
    if size:
        from ..opts.units import human_size
        for row, record in zip(rows, records):
            row["Size"] = f"{human_size(record['SizeRw'])} (virtual {human_size(record['SizeRootFs'])})"
    return rows
