"""Describe, don't do: a sandbox's kernel objects as `ip -batch` scripts and the
store's whole nft table as one `nft -f` script (pure; no I/O).

A sandbox is one container's network namespace with its endpoints (one veth
per network, into that network's bridge) and its published ports. The nft
table is regenerated from every live sandbox and applied in one transaction
(delete + add), so it always matches the endpoint files, and a re-apply
after a crash reconciles it.

Table layout (per store): `ports` holds one DNAT rule per published port and is
jumped to for local destinations from PREROUTING (other hosts, containers) and
OUTPUT (the host itself, 127.0.0.1 too: the bridge has route_localnet=1);
POSTROUTING masquerades outbound traffic of non-internal networks and DNATed
traffic from loopback or a container (so replies come back through conntrack);
FORWARD drops traffic between different networks and out of internal ones,
except connections to a published port. A dual-stack network (`--ipv6`) adds a
table of the same name in the ip6 family: NAT66 (masquerade) of its subnet's
traffic leaving the bridge, as dockerd's ip6tables rules do, and the same FORWARD
isolation for IPv6.
"""
from __future__ import annotations


def host_setup(sandbox: dict, endpoints: list[dict], new_bridges: list[dict]) -> str:
    lines = []
    for br in new_bridges:
        lines += [f"link add {br['bridge']} type bridge", f"addr add {br['gateway']}/{br['prefix']} "
                  f"dev {br['bridge']}", f"link set {br['bridge']} up"]
        if br.get("mtu"):
            lines.append(f"link set {br['bridge']} mtu {br['mtu']}")
        if br.get("ip6"):  # nodad: usable at once, not after seconds of duplicate detection
            lines.append(f"addr add {br['gateway6']}/{br['prefix6']} dev {br['bridge']} nodad")
    for ep in endpoints:
        lines += [f"link add {ep['veth']} type veth peer name {ep['ifname']} netns {sandbox['netns']}",
                  f"link set {ep['veth']} master {ep['bridge']}", f"link set {ep['veth']} up"]
        if ep.get("mtu"):
            lines.append(f"link set {ep['veth']} mtu {ep['mtu']}")
    return "\n".join(lines) + "\n"


def ns_setup(endpoints: list[dict], loopback: bool, default_route: dict | None) -> str:
    lines = ["link set lo up"] if loopback else []
    for ep in endpoints:
        if ep.get("mtu"):
            lines.append(f"link set {ep['ifname']} mtu {ep['mtu']}")
        lines += [f"link set {ep['ifname']} address {ep['mac']}",
                  f"addr add {ep['ip']}/{ep['prefix']} dev {ep['ifname']}", f"link set {ep['ifname']} up"]
        if ep.get("ip6"):
            lines.append(f"addr add {ep['ip6']}/{ep['prefix6']} dev {ep['ifname']} nodad")
    if default_route:
        lines.append(f"route add default via {default_route['gateway']} dev {default_route['ifname']}")
        if default_route.get("ip6"):
            lines.append(f"route add ::/0 via {default_route['gateway6']} dev {default_route['ifname']}")
    return "\n".join(lines) + "\n"


def host_teardown(endpoints: list[dict], dead_bridges: list[str]) -> str:
    lines = [f"link del {ep['veth']}" for ep in endpoints]
    lines += [f"link del {br}" for br in dead_bridges]
    return "\n".join(lines) + "\n"


def default_route(endpoints: list[dict]) -> dict | None:
    """The first endpoint on a network that reaches outside carries the default route."""
    return next((ep for ep in endpoints if not ep.get("internal")), None)


def ruleset(table: str, networks: list[dict], ports: list[dict]) -> str:
    """The store's nft table for `networks` (active bridges) and `ports` (published ports)."""
    head = (f"table ip {table}\ndelete table ip {table}\n"
            f"table ip6 {table}\ndelete table ip6 {table}\n")
    if not networks:
        return head
    subnets = ", ".join(n["subnet"] for n in networks)
    post = ["ct status dnat ip saddr 127.0.0.0/8 masquerade",
            f"ct status dnat ip saddr {{ {subnets} }} masquerade"]
    post += [f"ip saddr {n['subnet']} oifname != \"{n['bridge']}\" masquerade"
             for n in networks if not n["internal"] and n.get("masquerade", True)]
    fwd = ["ct status dnat accept"]
    for n in networks:
        if not n.get("icc", True):  # enable_icc=false: containers of one bridge do not meet
            fwd.append(f"iifname \"{n['bridge']}\" oifname \"{n['bridge']}\" drop")
        if n["internal"]:
            fwd += [f"iifname \"{n['bridge']}\" oifname != \"{n['bridge']}\" drop",
                    f"oifname \"{n['bridge']}\" iifname != \"{n['bridge']}\" drop"]
        for other in networks:
            if other is not n:
                fwd.append(f"iifname \"{n['bridge']}\" oifname \"{other['bridge']}\" drop")
    return head + _ipv6_table(table, networks, fwd[1:]) + f"""table ip {table} {{
  chain ports {{
{_indent(_port_rule(p) for p in ports)}
  }}
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local jump ports
  }}
  chain output {{
    type nat hook output priority -100; policy accept;
    fib daddr type local jump ports
  }}
""" + _out_and_forward(post, fwd)


def _out_and_forward(post: list[str], fwd: list[str]) -> str:
    """The chains both tables end with: masquerading out (`post`), then the forward filter
    (`fwd`), and the table's closing brace."""
    return f"""  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
{_indent(post)}
  }}
  chain forward {{
    type filter hook forward priority filter; policy accept;
{_indent(fwd)}
  }}
}}
"""


def _ipv6_table(table: str, networks: list[dict], fwd: list[str]) -> str:
    """The ip6 table when a network is dual-stack: its unique-local subnet masqueraded out
    of the host (NAT66) and the bridges isolated for IPv6 as for IPv4."""
    six = [n for n in networks if n.get("subnet6")]
    if not six:
        return ""
    post = [f"ip6 saddr {n['subnet6']} oifname != \"{n['bridge']}\" masquerade"
            for n in six if not n["internal"] and n.get("masquerade", True)]
    return f"table ip6 {table} {{\n" + _out_and_forward(post, fwd)


def _port_rule(p: dict) -> str:
    match = "" if p["host_ip"] in ("", "0.0.0.0") else f"ip daddr {p['host_ip']} "
    return (f"{match}{p['proto']} dport {p['host_port']} dnat to {p['ip']}:{p['container_port']}"
            f" comment \"{p['cid'][:12]}\"")


def _indent(lines) -> str:
    return "\n".join("    " + line for line in lines)
