"""Docker's ContainerSummary, one item of `GET /containers/json` (what `docker ps` renders).

Built from the same record `pallet ps` reads, with the same status words, so the
two listings agree by construction.
"""
from __future__ import annotations

import time

from . import columns as status


def container_summary(svc, record: dict, now: float | None = None) -> dict:
    from ..oci.image import parse_time
    now = now or time.time()
    config, host = record["Config"], record["HostConfig"]
    settings = record.get("NetworkSettings") or {}
    return {
        "Id": record["Id"], "Names": [record["Name"]],
        "Image": config.get("Image") or record["Image"], "ImageID": record["Image"],
        "Command": " ".join([record["Path"], *record["Args"]]),
        "Created": int(record.get("_created") or parse_time(record["Created"])),
        "Ports": _ports(record), "Labels": config.get("Labels") or {},
        "State": status.docker_status(record), "Status": status.status_text(record, now),
        "HostConfig": {"NetworkMode": host.get("NetworkMode", "")},
        "NetworkSettings": {"Networks": settings.get("Networks") or {}},
        "Mounts": [_mount_point(m) for m in record.get("Mounts") or []],
        # measured only when asked (`?size=1`, `ps -s`), as dockerd leaves them out otherwise
        **{k: record[k] for k in ("SizeRw", "SizeRootFs") if k in record},
    }


def _ports(record: dict) -> list[dict]:
    if not record["State"].get("Running"):
        return []
    out = []
    for key, binds in ((record.get("NetworkSettings") or {}).get("Ports") or {}).items():
        port, _, proto = key.partition("/")
        for b in binds or [None]:
            item = {"PrivatePort": int(port), "Type": proto}
            if b:
                item.update(IP=b.get("HostIp") or "0.0.0.0", PublicPort=int(b["HostPort"]))
            out.append(item)
    return out


def _mount_point(m: dict) -> dict:
    keys = ("Type", "Name", "Source", "Destination", "Driver", "Mode", "RW", "Propagation")
    return {k: m[k] for k in keys if k in m}
