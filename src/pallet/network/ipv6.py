"""A network's IPv6 half (`network create --ipv6`): its /64, gateway and addresses (pure).

A dual-stack network carries a second IPAM config entry, after the IPv4 one, as Docker
shows it. Without `--subnet` for IPv6 a unique-local /64 (fdXX:XXXX:XXXX:YYYY::/64, RFC
4193) is drawn from the network's ID, as Docker 27+ picks one. Addresses are handed out
from ::2 up, the gateway being ::1. Out of the host the subnet is routed and
masqueraded (NAT66), as dockerd does with ip6tables: pallet.network.plan writes the rules,
pallet.network.kernel turns on the host-wide net.ipv6.conf.all.forwarding.
"""
from __future__ import annotations

from ..errors import InvalidArgument


def subnet6_of(net: dict) -> tuple[str, str] | None:
    for cfg in net["IPAM"]["Config"]:
        if ":" in cfg.get("Subnet", ""):
            return cfg["Subnet"], cfg["Gateway"]
    return None


def check_subnet6(subnet: str, gateway: str | None, taken: list[str]) -> tuple[str, str]:
    import ipaddress
    try:
        net = ipaddress.IPv6Network(subnet, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid subnet {subnet}: invalid CIDR address: {subnet}") from None
    if str(net) != subnet:
        raise InvalidArgument(f"invalid subnet {subnet}: it should be {net}")
    if net.prefixlen > 124:
        raise InvalidArgument(f"invalid subnet {subnet}: too small")
    for other in taken:
        if net.overlaps(ipaddress.ip_network(other)):
            raise InvalidArgument("invalid pool request: Pool overlaps with other one on this address space")
    if gateway:
        try:
            inside = ipaddress.IPv6Address(gateway) in net
        except ValueError:
            raise InvalidArgument(f"invalid gateway address {gateway}") from None
        if not inside:
            raise InvalidArgument(f"no matching subnet for gateway {gateway}")
        return subnet, gateway
    return subnet, str(net.network_address + 1)


def pick_subnet6(network_id: str) -> tuple[str, str]:
    """A unique-local /64 from the network's ID (hex), its gateway ::1."""
    import ipaddress
    bits = int(network_id[:14], 16) & ((1 << 56) - 1)  # 40-bit global ID + 16-bit subnet ID
    net = ipaddress.IPv6Network(((0xFD << 120) | (bits << 64), 64))
    return str(net), str(net.network_address + 1)
