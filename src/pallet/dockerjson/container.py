"""Docker's JSON shapes for containers: `inspect` and the `ps` row.

The record is already Docker-shaped; these functions drop pallet's private
keys (leading underscore), add derived fields and keep Docker's key order.
"""
from __future__ import annotations

import time

from . import columns

_ORDER = ("Id", "Created", "Path", "Args", "State", "Image", "ResolvConfPath", "HostnamePath",
          "HostsPath", "LogPath", "Name", "RestartCount", "Driver", "Platform", "MountLabel",
          "ProcessLabel", "AppArmorProfile", "ExecIDs", "HostConfig", "GraphDriver", "Mounts",
          "Config", "NetworkSettings")


def inspect_container(svc, record: dict) -> dict:
    doc = {k: v for k, v in record.items() if not k.startswith("_")}
    doc["State"] = {**record["State"], "Status": columns.docker_status(record)}
    doc.setdefault("MountLabel", "")
    doc.setdefault("ProcessLabel", "")
    doc.setdefault("AppArmorProfile", "")
    doc.setdefault("ExecIDs", None)
    cdir = svc.paths.container(record["Id"])
    doc["GraphDriver"] = {"Name": "overlay", "Data": {
        "UpperDir": str(cdir / "upper"), "WorkDir": str(cdir / "work"),
        "MergedDir": str(svc.rootfs(record["Id"])),
        # a removed image (rmi -f) takes its layer rows with it: no layers, LowerDir ""
        "LowerDir": ":".join(str(d) for d in reversed(svc.images.layer_dirs(record["Image"])))}}
    doc.setdefault("NetworkSettings", _network_settings(record))
    doc["Config"] = typed_healthcheck(doc["Config"])
    return {k: doc[k] for k in _ORDER if k in doc} | {k: v for k, v in doc.items() if k not in _ORDER}


def _network_settings(record: dict) -> dict:
    mode = record["HostConfig"].get("NetworkMode", "none")
    return {"Bridge": "", "SandboxID": "", "SandboxKey": "", "Ports": {},
            "Networks": {mode: {"IPAddress": "", "Gateway": "", "MacAddress": "",
                                "NetworkID": mode, "EndpointID": "", "Aliases": None}}}


def command_text(record: dict, trunc: bool) -> str:
    cmd = " ".join([record["Path"], *record["Args"]])
    if trunc and len(cmd) > 20:
        cmd = cmd[:19] + "…"
    return f'"{cmd}"'


class Row(dict):
    """A list row for --format: private keys (leading _) stay out of {{json .}}, and the
    rest come sorted, as Go marshals the map docker/cli's row contexts turn into."""

    def __json__(self):
        return public_sorted(self)


def public_sorted(row) -> dict:
    return {k: row[k] for k in sorted(row) if not k.startswith("_")}


class PsRow(Row):
    """A `ps` row: Docker's template fields, plus the `.Label "key"` method. A field it does not
    have is an error, as on docker/cli's struct."""
    _go_type = "*formatter.ContainerContext"
    FIELDS = ("ID", "Image", "Command", "CreatedSince", "RunningFor", "CreatedAt", "Status", "State",
              "Ports", "Names", "Labels", "Mounts", "Networks", "Size", "LocalVolumes", "Platform")

    # `{{json .}}` (and --format json): docker/cli marshals these, keys sorted
    JSON_FIELDS = ("Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names",
                   "Networks", "Platform", "Ports", "RunningFor", "Size", "State", "Status")

    def __json__(self):
        return {k: self.get(k) for k in self.JSON_FIELDS}

    @classmethod
    def empty(cls) -> "PsRow":
        return cls({**dict.fromkeys(cls.FIELDS, ""), "_labels": {}, "_created": 0.0})

    def Label(self, key: str) -> str:  # noqa: N802 - Docker's template method name
        return (self["_labels"] or {}).get(key, "")


def ps_row(record: dict, trunc: bool = True, now: float | None = None) -> PsRow:
    from ..oci.image import parse_time
    from ..opts.units import ago
    now = now or time.time()
    created = record.get("_created") or parse_time(record["Created"])
    labels = record["Config"].get("Labels") or {}
    image = record["Config"].get("Image") or record["Image"]
    if trunc and image.startswith("sha256:"):
        image = image[7:19]
    return PsRow({
        "ID": record["Id"][:12] if trunc else record["Id"], "Image": image,
        "Command": command_text(record, trunc), "CreatedSince": ago(created, now),
        "RunningFor": ago(created, now),
        "CreatedAt": columns.go_time(created), "Status": columns.status_text(record, now),
        "State": columns.docker_status(record), "Ports": columns.ports_text(record), "Names": record["Name"].lstrip("/"),
        "Labels": ",".join(f"{k}={v}" for k, v in labels.items()), "Mounts": ",".join(
            m.get("Name") or m["Source"] for m in record.get("Mounts") or []),
        "Networks": record["HostConfig"].get("NetworkMode", ""), "Size": "0B",
        "LocalVolumes": str(sum(1 for m in record.get("Mounts") or [] if m.get("Type") == "volume")),
        "Platform": None,
        "_labels": labels, "_created": created,
    })


def typed_healthcheck(config: dict | None) -> dict | None:
    """A config whose Healthcheck durations print as docker/cli's typed struct prints them
    (``{{.Config.Healthcheck.Interval}}`` is ``30s``), still numbers in JSON."""
    check = (config or {}).get("Healthcheck")
    if not check:
        return config
    from ..format.values import GoDuration
    typed = {k: GoDuration(v) if k in ("Interval", "Timeout", "StartPeriod", "StartInterval")
             and isinstance(v, int) and not isinstance(v, bool) else v for k, v in check.items()}
    return {**config, "Healthcheck": typed}
