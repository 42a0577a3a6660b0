"""The run/create network flags: -p/-P, --network-alias, --ip, --ip6, --mac-address, --dns,
--dns-search, --dns-option, --add-host, --link, --expose, decoded and checked in Docker's
words (exit 125). Every `run` reads them: apart from the `network` verbs (pallet.cli.networks),
and importing nothing at module level.
"""
from __future__ import annotations


def publish(specs: list[str]) -> list:
    from ..opts.ports import parse_publish
    return [b for spec in specs for b in parse_publish(spec)]


def network_options(o) -> dict:
    from ..errors import UsageError
    from ..opts.ports import parse_expose
    for item in o.add_host:
        name, sep, addr = item.partition(":")
        if not sep or not name or not addr:
            raise UsageError(f'invalid argument "{item}" for "--add-host" flag: bad format for add-host: "{item}"')
    for server in o.dns:
        _check_ip(server, f'invalid argument "{server}" for "--dns" flag: {server} is not an ip address')
    if o.ip:
        _check_ip(o.ip, f'invalid argument "{o.ip}" for "--ip" flag: invalid string being converted to '
                        "IP address: " + o.ip)
    ip6 = o.get("ip6") or None
    if ip6:
        import ipaddress
        try:
            ip6 = str(ipaddress.IPv6Address(ip6))
        except ValueError:
            raise UsageError(f'invalid argument "{ip6}" for "--ip6" flag: invalid string being '
                             f"converted to IP address: {ip6}") from None
    mac = o.get("mac_address") or None
    if mac is not None:
        import re
        if not re.fullmatch(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}", mac):
            raise UsageError(f"{mac} is not a valid mac address")
        if int(mac[:2], 16) & 1:  # the kernel refuses a multicast address on an interface
            raise UsageError(f"{mac} is not a valid mac address: a multicast address")
        mac = mac.lower()
    return {"aliases": list(o.network_alias), "ip": o.ip or None, "mac": mac, "ip6": ip6, "dns": list(o.dns),
            "dns_search": list(o.dns_search), "dns_options": list(o.dns_option),
            "extra_hosts": list(o.add_host), "links": list(o.get("link") or []), "expose": [k for e in o.expose for k in parse_expose(e)]}


def _check_ip(text: str, message: str) -> None:
    import ipaddress
    from ..errors import UsageError
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise UsageError(message) from None
