"""The seam between a container's lifecycle and its networking.

`attach` runs on every start, before the bundle is written; it returns what the
runtime spec needs (a network namespace path, or host networking) and records
the container's network settings. `detach` runs on every stop/cleanup and must
be idempotent (it also runs after a kill -9 or a crash of pallet).
Modes: "none" (a private namespace with loopback only; runc makes it),
"host" (no namespace). Bridge networks plug in here (pallet.network).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class NetworkAttachment:
    host_network: bool = False
    net_ns_path: str | None = None          # a namespace prepared beforehand, joined by runc
    settings: dict | None = None            # NetworkSettings for inspect/ps


def attach(svc, record: dict) -> NetworkAttachment:
    mode = record["HostConfig"].get("NetworkMode") or "none"
    if mode == "host":
        return NetworkAttachment(host_network=True)
    return NetworkAttachment()


def detach(svc, cid: str) -> None:
    return None
