"""Typed requests of the network service, for the edges (cli/, api/) to build.

Imports nothing of pallet but `pallet.record`.
"""
from __future__ import annotations

from ..record import dataclass, field


@dataclass
class NetworkCreateRequest:
    """`network create` / `POST /networks/create`."""
    name: str
    driver: str = "bridge"
    subnets: list[str] = field(default_factory=list)   # --subnet / IPAM.Config[].Subnet
    gateways: list[str] = field(default_factory=list)  # --gateway / IPAM.Config[].Gateway
    internal: bool = False
    labels: dict[str, str] = field(default_factory=dict)
