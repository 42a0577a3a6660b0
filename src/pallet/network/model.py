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
                labels: dict | None = None, created: str = "", ipam_extra: dict | None = None,
                ipam_options: dict | None = None, options: dict | None = None) -> dict:
    config = {"Subnet": subnet, **{k: v for k, v in (ipam_extra or {}).items() if v}, "Gateway": gateway}
    return {
        "Name": name, "Id": os.urandom(32).hex(), "Created": created, "Scope": "local",
        "Driver": driver, "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": dict(ipam_options or {}),
                 "Config": [config] if subnet else []},
        "Internal": internal, "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""},
        "ConfigOnly": False, "Options": {**(options or {}), BRIDGE_NAME: bridge} if bridge else dict(options or {}),
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


BRIDGE_NAME = "com.docker.network.bridge.name"
MTU = "com.docker.network.driver.mtu"
ICC = "com.docker.network.bridge.enable_icc"
MASQUERADE = "com.docker.network.bridge.enable_ip_masquerade"
HOST_BINDING = "com.docker.network.bridge.host_binding_ipv4"


def check_bridge_options(options: dict[str, str]) -> None:
    """Docker's bridge driver options (`network create -o`), as its driver checks them."""
    import ipaddress
    name = options.get(BRIDGE_NAME)
    if name is not None and not (0 < len(name) <= 15 and "/" not in name and " " not in name):
        raise InvalidArgument(f"invalid bridge name: {name!r}")
    if MTU in options:
        try:
            mtu = int(options[MTU])
        except ValueError:
            raise InvalidArgument(f"invalid MTU: {options[MTU]}") from None
        if not 68 <= mtu <= 65535:
            raise InvalidArgument(f"invalid MTU number: {mtu}")
    for key in (ICC, MASQUERADE):
        if key in options and options[key].lower() not in ("true", "false", "1", "0"):
            raise InvalidArgument(f'failed to parse {key} value "{options[key]}": invalid syntax')
    if HOST_BINDING in options:
        try:
            ipaddress.IPv4Address(options[HOST_BINDING])
        except ValueError:
            raise InvalidArgument(f"invalid host binding IP: {options[HOST_BINDING]}") from None


def option_true(options: dict, key: str) -> bool:
    return str(options.get(key, "true")).lower() in ("true", "1")


def check_ipam(subnet: str, ip_range: str | None, aux: dict[str, str]) -> None:
    """--ip-range and --aux-address must lie in the subnet (docker/cli's words)."""
    import ipaddress
    net = ipaddress.ip_network(subnet)
    if ip_range:
        try:
            rng = ipaddress.ip_network(ip_range, strict=False)
        except ValueError:
            raise InvalidArgument(f"invalid CIDR address: {ip_range}") from None
        if not rng.subnet_of(net):
            raise InvalidArgument(f"no matching subnet for range {ip_range}")
    for addr in aux.values():
        try:
            inside = ipaddress.ip_address(addr) in net
        except ValueError:
            inside = False
        if not inside:
            raise InvalidArgument(f"no matching subnet for aux-address {addr}")


def pick_ip(subnet: str, gateway: str, used: set[str], wanted: str | None = None,
            ip_range: str | None = None) -> str:
    """An address for an endpoint, IPv4 or IPv6 as `subnet` is: `wanted` (anywhere in the
    subnet) or the first free one of `ip_range` (the subnet when None)."""
    import ipaddress
    net = ipaddress.ip_network(subnet)
    family = f"IPv{net.version}"
    reserved = (net.network_address, net.broadcast_address) if net.version == 4 else (net.network_address,)
    if wanted:
        try:
            addr = ipaddress.ip_address(wanted)
        except ValueError:
            raise InvalidArgument(f"invalid {family} address: {wanted}") from None
        if addr not in net:
            raise InvalidArgument(f"Invalid address {wanted}: It does not belong to any of this "
                                  "network's subnets")
        if str(addr) in used or str(addr) == gateway or addr in reserved:
            raise InvalidArgument(f"Address already in use: {wanted}")
        return str(addr)
    for addr in ipaddress.ip_network(ip_range).hosts() if ip_range else net.hosts():
        text = str(addr)
        if text != gateway and text not in used and addr not in reserved:
            return text
    raise InvalidArgument(f"no available {family} addresses on this network's address pools: "
                          f"{subnet}")


def mac_of(ip: str) -> str:
    return "02:42:" + ":".join(f"{int(b):02x}" for b in ip.split("."))
