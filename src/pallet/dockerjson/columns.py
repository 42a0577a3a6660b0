"""The words Docker prints in list columns: `ps` STATUS, STATE and PORTS, CreatedAt.

Pure functions of a (Docker-shaped) record; the services and every edge use the
same ones, so `ps` and `GET /containers/json` say the same thing.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from ..oci.image import parse_time


def status_text(record: dict, now: float | None = None) -> str:
    """ps STATUS: "Up 2 hours", "Up 5 minutes (Paused)", "Exited (0) 3 minutes ago", "Created"."""
    from ..opts.units import human_duration
    now = now or time.time()
    s = record["State"]
    if s["Running"]:
        up = "Up " + human_duration(max(0.0, now - parse_time(s["StartedAt"])))
        return up + (" (Paused)" if s["Paused"] else "") + _health_suffix(s)
    if s.get("Restarting"):  # in the restart policy's back-off, as Docker shows it
        finished = parse_time(s["FinishedAt"])
        since = human_duration(max(0.0, now - finished)) + " ago" if finished > 0 else ""
        return f"Restarting ({s['ExitCode']}) {since}".rstrip()
    if s["Status"] == "created":
        return "Created"
    if s["Status"] == "removing":
        return "Removal In Progress"
    if s["Status"] == "dead":
        return "Dead"
    finished = parse_time(s["FinishedAt"])
    ago = human_duration(max(0.0, now - finished)) + " ago" if finished > 0 else ""
    return f"Exited ({s['ExitCode']}) {ago}".rstrip()


def _health_suffix(state: dict) -> str:
    health = state.get("Health")
    if not health:
        return ""
    st = health.get("Status")
    return " (health: starting)" if st == "starting" else f" ({st})"


def docker_status(record: dict) -> str:
    s = record["State"]
    if s["Paused"]:
        return "paused"
    if s.get("Restarting"):
        return "restarting"
    return s["Status"]


def ports_text(record: dict) -> str:
    """`ps` PORTS: "0.0.0.0:8080->80/tcp, 443/tcp", ranges grouped as Docker does."""
    if not record["State"].get("Running"):
        return ""
    ports = (record.get("NetworkSettings") or {}).get("Ports") or {}
    items = []
    for key, binds in ports.items():
        port, _, proto = key.partition("/")
        for b in binds or [None]:
            items.append((b["HostIp"] if b else "", int(b["HostPort"]) if b else 0, int(port), proto))
    items.sort(key=lambda t: (t[3], t[0], t[2], t[1]))
    groups: list[list] = []
    for ip, hport, cport, proto in items:
        last = groups[-1] if groups else None
        if (last and last[0] == ip and last[4] == proto and last[3] + 1 == cport
                and (hport == 0) == (last[2] == 0) and (not hport or last[2] + 1 == hport)):
            last[2], last[3] = hport, cport
        else:
            groups.append([ip, hport, hport, cport, proto, cport])
    out = []
    for ip, h0, h1, c1, proto, c0 in groups:
        ctr = f"{c0}-{c1}" if c1 != c0 else str(c0)
        out.append(f"{ip}:{h0}-{h1}->{ctr}/{proto}" if h0 and h1 != h0 else
                   f"{ip}:{h0}->{ctr}/{proto}" if h0 else f"{ctr}/{proto}")
    return ", ".join(out)


def go_time(ts: float) -> str:
    """Go's time.String() as Docker prints CreatedAt, in UTC."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def created_seconds(created: str) -> float:
    """An RFC 3339 `Created` as seconds since the epoch (0 when absent)."""
    return parse_time(created)
