"""Network documents, kernel names and subnets (pure; imports ipaddress lazily).

A network document is Docker's `network inspect` shape minus `Containers`
(derived from live endpoints) plus private keys (`_bridge`). Kernel names are
derived from the store so that several stores (tests) never share a bridge or
an nft table: the default store (/run/pallet) uses `pallet0`, `pallet1`, ...
and table `pallet`; any other store `pallet<key>-<n>` and `pallet_<key>`.
Every bridge name starts with "pallet" (one iptables accept rule covers all).
"""
from __future__ import annotations

import os

from ..digest import sha256_bytes
from ..errors import InvalidArgument

DEFAULT_RUNROOT = "/run/pallet"
POOL = "10.88.0.0/14"          # /24s handed out to networks without --subnet
POOL_PREFIX = 24
PREDEFINED = ("bridge", "host", "none")


def store_key(runroot: str) -> str:
    return "" if str(runroot) == DEFAULT_RUNROOT else sha256_bytes(str(runroot).encode())[7:11]


def bridge_name(key: str, index: int) -> str:
    return f"pallet{index}" if not key else f"pallet{key}-{index}"


def table_name(key: str) -> str:
    return "pallet" if not key else f"pallet_{key}"


def veth_name(cid: str, index: int) -> str:
    return f"pv{cid[:10]}{index}"


def new_network(name: str, driver: str, subnet: str, gateway: str, bridge: str, internal: bool = False,
                labels: dict | None = None, created: str = "") -> dict:
    return {
        "Name": name, "Id": os.urandom(32).hex(), "Created": created, "Scope": "local",
        "Driver": driver, "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": {},
                 "Config": [{"Subnet": subnet, "Gateway": gateway}] if subnet else []},
        "Internal": internal, "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""},
        "ConfigOnly": False, "Options": {"com.docker.network.bridge.name": bridge} if bridge else {},
        "Labels": labels or {}, "_bridge": bridge, "_dns": driver == "bridge" and name != "bridge",
    }


def subnet_of(net: dict) -> tuple[str, str] | None:
    cfg = net["IPAM"]["Config"]
    return (cfg[0]["Subnet"], cfg[0]["Gateway"]) if cfg else None


def check_subnet(subnet: str, gateway: str | None, taken: list[str]) -> tuple[str, str]:
    """--subnet/--gateway: valid, not overlapping `taken`; returns (subnet, gateway)."""
    import ipaddress
    try:
        net = ipaddress.ip_network(subnet, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid subnet {subnet}: invalid CIDR address: {subnet}") from None
    if net.version != 4:
        raise InvalidArgument("IPv6 networks are not supported yet")
    if str(net) != subnet:
        raise InvalidArgument(f"invalid subnet {subnet}: it should be {net}")
    for other in taken:
        if net.overlaps(ipaddress.ip_network(other)):
            raise InvalidArgument(f"invalid pool request: Pool overlaps with other one on this address space")
    if gateway:
        try:
            gw = ipaddress.ip_address(gateway)
        except ValueError:
            raise InvalidArgument(f"invalid gateway address {gateway}") from None
        if gw not in net:
            raise InvalidArgument(f"no matching subnet for gateway {gateway}")
        return subnet, gateway
    if net.num_addresses < 4:
        raise InvalidArgument(f"invalid subnet {subnet}: too small")
    return subnet, str(net.network_address + 1)


def pick_subnet(key: str, taken: list[str], routes: list[str]) -> tuple[str, str]:
    """The first free /24 of the pool, starting at an offset derived from the store."""
    import ipaddress
    pool = list(ipaddress.ip_network(POOL).subnets(new_prefix=POOL_PREFIX))
    busy = [ipaddress.ip_network(t) for t in [*taken, *routes]]
    start = int(key, 16) % len(pool) if key else 0
    for i in range(len(pool)):
        cand = pool[(start + i) % len(pool)]
        if not any(cand.overlaps(b) for b in busy):
            return str(cand), str(cand.network_address + 1)
    raise InvalidArgument("could not find an available, non-overlapping IPv4 address pool "
                          "among the defaults to assign to the network")


def pick_ip(subnet: str, gateway: str, used: set[str], wanted: str | None = None) -> str:
    import ipaddress
    net = ipaddress.ip_network(subnet)
    if wanted:
        try:
            addr = ipaddress.ip_address(wanted)
        except ValueError:
            raise InvalidArgument(f"invalid IPv4 address: {wanted}") from None
        if addr not in net:
            raise InvalidArgument(f"Invalid address {wanted}: It does not belong to any of this "
                                  "network's subnets")
        if wanted in used or wanted == gateway or addr in (net.network_address, net.broadcast_address):
            raise InvalidArgument(f"Address already in use: {wanted}")
        return wanted
    for addr in net.hosts():
        text = str(addr)
        if text != gateway and text not in used:
            return text
    raise InvalidArgument(f"no available IPv4 addresses on this network's address pools: "
                          f"{subnet}")


def mac_of(ip: str) -> str:
    return "02:42:" + ":".join(f"{int(b):02x}" for b in ip.split("."))
