"""The reading verbs of `pallet compose` (ps, ls, images, top, port, logs) and compose's log
printer (also `up`'s attached output): decode, one query, render as docker compose prints."""
from __future__ import annotations

from ..errors import InvalidArgument, NotFound

PS_HEADERS = {"Name": "NAME", "Image": "IMAGE", "Command": "COMMAND", "Service": "SERVICE",
              "RunningFor": "CREATED", "CreatedAt": "CREATED AT", "Status": "STATUS", "Ports": "PORTS",
              "ID": "CONTAINER ID", "State": "STATE", "Project": "PROJECT", "Labels": "LABELS",
              "Mounts": "MOUNTS", "Networks": "NETWORKS", "Size": "SIZE", "LocalVolumes": "LOCAL VOLUMES",
              "Health": "HEALTH", "ExitCode": "EXIT CODE", "Names": "NAMES"}


def short_name(project: str, record: dict) -> str:
    name = record["Name"].lstrip("/")
    return name[len(project) + 1:] if name.startswith(project + "-") else name


class LogPrinter:
    """compose's log consumer: `name  | line`, the prefix padded to the longest name + 1 and
    coloured per container (cyan, yellow, green, magenta, blue, then their intense forms)."""
    RAINBOW = ["36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1"]

    def __init__(self, cc, names: list[str], prefix: bool = True, color: bool = False):
        self.cc, self.prefix, self.color = cc, prefix, color
        width = max((len(n) for n in names), default=0) + 1
        self.prefixes, self.codes = {}, {}
        for i, n in enumerate(names):
            self.codes[n] = self.RAINBOW[i % len(self.RAINBOW)]
            self.prefixes[n] = self._paint(n, f"{n:<{width}} | ") if prefix else ""

    def _paint(self, name: str, text: str) -> str:
        return f"\033[{self.codes[name]}m{text}\033[0m" if self.color else text

    def line(self, name: str, rec, timestamps: bool) -> None:
        out = self.cc.ctx.stdout
        data = rec.data.decode("utf-8", "replace").rstrip("\n")
        stamp = rec.timestamp() + " " if timestamps else ""
        out.write("".join(f"{self.prefixes.get(name, '')}{stamp}{line}\n" for line in data.split("\n")))
        out.flush()

    def status(self, name: str, text: str) -> None:
        self.cc.ctx.stdout.write(self._paint(name, f"{name} {text}") + "\n")
        self.cc.ctx.stdout.flush()


def images(cc, o, args) -> int:
    from ..opts.units import human_size
    rows = [{**r, "ID": r["ID"].split(":")[-1][:12], "Size": human_size(r["Size"])}
            for r in cc.service(args).images(list(args))]
    if o.quiet:
        cc.ctx.stdout.write("".join(sorted({r["ID"] + "\n" for r in rows})))
        return 0
    from .render import rows as render_rows
    if o.format == "json":
        import json
        cc.ctx.out(json.dumps([{**r, "ContainerName": r["Container"]} for r in rows]))
        return 0
    render_rows(cc.ctx, rows, o.format, "table {{.Container}}\t{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}",
                {"Container": "CONTAINER", "Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID",
                 "Size": "SIZE"})
    return 0


# ---- ps / ls / top / port ----


def ps(cc, o, args) -> int:
    svc = cc.service(args)
    records = svc.containers(list(args), oneoff=None if o.all else False)  # `run` containers with -a
    if not o.all:
        records = [r for r in records if svc.running(r)]
    statuses = list(o.status) + [f.partition("=")[2] for f in o.filter if f.startswith("status=")]
    if statuses:
        records = [r for r in svc.containers(list(args), oneoff=None) if svc.state_of(r) in statuses]
    if o.services:
        seen = []
        for r in records:
            if svc.service_of(r) not in seen:
                seen.append(svc.service_of(r))
        cc.ctx.stdout.write("".join(s + "\n" for s in seen))
        return 0
    if o.quiet:
        cc.ctx.stdout.write("".join(r["Id"] + "\n" for r in records))
        return 0
    rows = [_ComposeRow(svc.ps_row(r, not o.no_trunc)) for r in records]
    from .render import rows as render_rows
    render_rows(cc.ctx, rows, o.format, "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t"
                "{{.RunningFor}}\t{{.Status}}\t{{.Ports}}", PS_HEADERS)
    return 0


class _ComposeRow(dict):
    """A compose ps row: `--format json` prints these fields, keys sorted, one object a line."""
    JSON_FIELDS = ("Command", "CreatedAt", "ExitCode", "Health", "ID", "Image", "Labels", "LocalVolumes",
                   "Mounts", "Name", "Names", "Networks", "Ports", "Project", "Publishers", "RunningFor",
                   "Service", "Size", "State", "Status")

    def __json__(self):
        return {k: self.get(k) for k in self.JSON_FIELDS}

    def Label(self, key: str) -> str:  # noqa: N802 - Docker's template method name
        return (self.get("_labels") or {}).get(key, "")


def ls(cc, o, args) -> int:
    rows = cc.engine.compose_projects(o.all)
    names = []
    for f in o.filter:
        key, _, value = f.partition("=")
        if key != "name":
            raise InvalidArgument(f"invalid filter {key!r}")
        names.append(value)
    if names:
        rows = [r for r in rows if any(n in r["Name"] for n in names)]
    if o.quiet:
        cc.ctx.stdout.write("".join(r["Name"] + "\n" for r in rows))
        return 0
    if o.format == "json":
        import json
        cc.ctx.out(json.dumps(rows))
        return 0
    from .render import rows as render_rows
    render_rows(cc.ctx, rows, o.format, "table {{.Name}}\t{{.Status}}\t{{.ConfigFiles}}",
                {"Name": "NAME", "Status": "STATUS", "ConfigFiles": "CONFIG FILES"})
    return 0


def top(cc, o, args) -> int:
    svc = cc.service(args)
    for record in svc.containers(list(args), running_only=True):
        titles, rows = svc.top(record)
        cc.ctx.out(svc.name_of(record))
        table = [titles] + rows
        widths = [max(len(r[i]) for r in table if i < len(r)) + 3 for i in range(len(titles))]
        for row in table:
            cc.ctx.out("".join(cell.ljust(w) for cell, w in zip(row[:-1], widths)) + row[-1])
        cc.ctx.out("")
    return 0


def port(cc, o, args) -> int:
    svc = cc.service(args[:1])
    record = cc.engine.containers.get(svc.container(args[0], o.index)["Id"])
    port_text, _, proto = args[1].partition("/")
    key = f"{port_text}/{proto or o.protocol}"
    binds = ((record.get("NetworkSettings") or {}).get("Ports") or {}).get(key) if record["State"]["Running"] else None
    if not binds:
        raise NotFound(f"no port {key} for container {record['Name'].lstrip('/')}")
    b = binds[0]
    cc.ctx.out(f"{b['HostIp'] or '0.0.0.0'}:{b['HostPort']}")
    return 0


# ---- logs / exec / run / cp / wait ----


def logs(cc, o, args) -> int:
    svc = cc.service(args)
    records = svc.containers(list(args), oneoff=None)
    if o.index:
        records = [r for r in records if r["Config"]["Labels"].get("com.docker.compose.container-number")
                   == str(o.index)]
    short = {r["Id"]: short_name(svc.project.name, r) for r in records}
    printer = LogPrinter(cc, list(short.values()), prefix=not o.no_log_prefix, color=cc.color and not o.no_color)
    tail = None if o.tail in ("all", "", None) else int(o.tail) if o.tail.lstrip("-").isdigit() else None
    if tail is not None and tail < 0:
        tail = None
    since, until = _when(o.since, "since"), _when(o.until, "until")
    for name, rec in svc.logs(records, follow=o.follow, tail=tail, names=short, since=since, until=until):
        if rec is not None:
            printer.line(name, rec, o.timestamps)
    return 0


def _when(text: str | None, flag: str):
    """--since/--until as `docker logs` reads them (a timestamp or a duration ago)."""
    import time
    from .logs import _when as container_when
    return container_when(text, time.time(), flag)
