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
    ip_ranges: list[str] = field(default_factory=list)  # --ip-range / IPAM.Config[].IPRange
    aux_addresses: dict[str, str] = field(default_factory=dict)  # --aux-address NAME=IP
    options: dict[str, str] = field(default_factory=dict)  # -o: the bridge driver's (network.model)
    ipam_driver: str = "default"
    ipam_options: dict[str, str] = field(default_factory=dict)  # --ipam-opt
    ipv6: bool = False           # --ipv6: dual-stack; an IPv6 subnet/gateway may be among the above
