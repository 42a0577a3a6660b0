"""The seam between a container's lifecycle and its networking.

`on_create` validates the network options of a create request and records them
(HostConfig.PortBindings/PublishAllPorts/Dns/ExtraHosts, the private `_networks`:
network name -> {aliases, ip}). `attach` runs on every start, before the bundle
is written; it returns what the runtime spec needs (a network namespace path, or
host networking), the /etc files' contents, and records NetworkSettings.
`detach` runs on every stop/cleanup and is idempotent (it also runs after a
kill -9 or a crash of pallet): one stat when there is nothing to undo.
Modes: "bridge" and user-defined networks (pallet.network), "none" (loopback
only; runc makes the namespace), "host" (no namespace), "container:NAME"
(joins that container's namespace).
"""
from __future__ import annotations

from ...record import dataclass, field

from ...errors import Conflict, InvalidArgument, NotFound


@dataclass
class NetworkAttachment:
    host_network: bool = False
    net_ns_path: str | None = None          # a namespace prepared beforehand, joined by runc
    settings: dict | None = None            # NetworkSettings for inspect/ps
    etc_args: dict = field(default_factory=dict)   # hostfiles.write_etc_files keyword arguments
    etc_files: dict | None = None           # container:NAME: that container's own /etc files
    link_env: list = field(default_factory=list)   # legacy links' ALIAS_PORT_... variables


def networks_of(record: dict) -> dict:
    """network name -> endpoint options, for bridge-type modes; {} otherwise."""
    if "_networks" in record:
        return record["_networks"]
    mode = record["HostConfig"].get("NetworkMode") or "none"
    return {} if mode in ("none", "host") or mode.startswith("container:") else {mode: {}}


def set_networks(record: dict, nets: dict) -> None:
    record["_networks"] = nets


def check_endpoint_options(net: dict, aliases: list[str], ip: str | None, mac: str | None = None,
                           ip6: str | None = None) -> dict:
    user_defined = net["Name"] not in ("bridge", "host", "none")
    if ip6:
        from ...network import ipv6
        from ...network.model import pick_ip
        sub = ipv6.subnet6_of(net) if net.get("EnableIPv6") else None
        if sub is None:
            raise InvalidArgument(f"user specified IPv6 address {ip6} needs a network with IPv6 "
                                  f"(network create --ipv6): {net['Name']} has none")
        pick_ip(sub[0], sub[1], set(), ip6)  # validates: inside the /64, not the gateway
    if ip and not user_defined:
        raise InvalidArgument("user specified IP address is supported on user defined networks only")
    if aliases and not user_defined:
        raise InvalidArgument("network-scoped alias is supported only for containers in user defined networks")
    if ip:
        from ...network.model import pick_ip, subnet_of
        subnet, gateway = subnet_of(net)
        pick_ip(subnet, gateway, set(), ip)  # validates: inside the subnet, not the gateway
    return {"aliases": aliases, "ip": ip, **({"mac": mac} if mac else {}), **({"ip6": ip6} if ip6 else {})}


def on_create(svc, networks, record: dict, req) -> None:
    """Validate and record a create request's network options (nothing is set up yet);
    `networks()` is the NetworkService."""
    opts = req.extra.get("network") or {}
    host = record["HostConfig"]
    mode = req.network or "bridge"
    mode = "bridge" if mode == "default" else mode
    host["NetworkMode"] = mode
    if mode.startswith("container:"):
        _check_container_mode(req, opts)
        other = svc.store.get(svc.resolve(mode.split(":", 1)[1]))
        record["Config"]["Hostname"] = other["Config"]["Hostname"]  # the UTS name goes with it
        record["Config"]["Domainname"] = other["Config"].get("Domainname", "")
    elif mode not in ("none", "host"):
        net = networks().get(mode)
        record["_networks"] = {net["Name"]: check_endpoint_options(net, opts.get("aliases") or [],
                                                                   opts.get("ip"), opts.get("mac"),
                                                                   opts.get("ip6"))}
        if opts.get("mac"):
            record["Config"]["MacAddress"] = opts["mac"]
        host["NetworkMode"] = net["Name"]
    bindings: dict = {}
    for b in req.ports:
        bindings.setdefault(b.key, []).append({"HostIp": b.host_ip, "HostPort": b.host_port})
    if bindings or req.publish_all:
        if mode in ("host", "none") or mode.startswith("container:"):
            bindings = {}  # Docker ignores published ports outside a bridge network
    host["PortBindings"] = bindings
    host["PublishAllPorts"] = bool(req.publish_all)
    host["Dns"] = list(opts.get("dns") or [])
    host["DnsSearch"] = list(opts.get("dns_search") or [])
    host["DnsOptions"] = list(opts.get("dns_options") or [])
    host["ExtraHosts"] = list(opts.get("extra_hosts") or []) or None
    host["Links"] = _links(svc, record, mode, opts.get("links") or []) or None
    exposed = dict(record["Config"].get("ExposedPorts") or {})
    exposed.update({key: {} for key in [*bindings, *(opts.get("expose") or [])]})
    record["Config"]["ExposedPorts"] = exposed or None


def _links(svc, record: dict, mode: str, links: list[str]) -> list[str]:
    """Docker's legacy `--link NAME[:ALIAS]`, recorded as HostConfig.Links (`/name:/me/alias`)."""
    if links and (mode == "host" or mode.startswith("container:")):
        kind = "host type networking" if mode == "host" else "container type network"
        raise InvalidArgument(f"conflicting options: {kind} can't be used with links. This would "
                              "result in undefined behavior")
    out = []
    for link in links:
        name, _, alias = link.partition(":")
        try:
            child = svc.store.get(svc.resolve(name))
        except NotFound as exc:
            raise InvalidArgument(f"could not get container for {name}: {exc}") from None
        out.append(f"{child['Name']}:{record['Name']}/{alias or child['Name'].lstrip('/')}")
    return out


def _linked(svc, host: dict) -> list[tuple[dict, str]]:
    """Each link's (running) child and the link's name (`/parent/alias`)."""
    out = []
    for link in host.get("Links") or []:
        child_name, _, parent_alias = link.partition(":")
        alias = parent_alias.rsplit("/", 1)[1]
        try:
            child = svc.get(child_name.lstrip("/"))
        except NotFound:
            child = None
        if child is None or not child["State"]["Running"]:
            raise Conflict(f"Cannot link to a non running container: {child_name} AS {parent_alias}")
        out.append((child, parent_alias))
    return out


def _link_hosts(linked: list[tuple[dict, str]]) -> list[tuple[str, str]]:
    """/etc/hosts lines for the links: alias, hostname and name of each child."""
    out = []
    for child, link_name in linked:
        alias, child_name = link_name.rsplit("/", 1)[1], child["Name"]
        names = [alias, child["Config"]["Hostname"]] + ([child_name[1:]] if alias != child_name[1:] else [])
        ip = (child.get("NetworkSettings") or {}).get("IPAddress")
        if ip:
            out.append((" ".join(dict.fromkeys(names)), ip))
    return out


def _link_env(linked: list[tuple[dict, str]]) -> list[str]:
    """Docker's legacy link variables (moby's links.Link.ToEnv), for each child on the
    default bridge: ALIAS_PORT, ALIAS_PORT_80_TCP(_ADDR|_PORT|_PROTO), ALIAS_NAME, ALIAS_ENV_*."""
    from ...opts.linkenv import link_env
    out = []
    for child, link_name in linked:
        ip = (((child.get("NetworkSettings") or {}).get("Networks") or {}).get("bridge") or {}).get("IPAddress")
        if ip:
            out += link_env(link_name, ip, list(child["Config"].get("ExposedPorts") or {}),
                            child["Config"].get("Env") or [])
    return out


def attach(svc, networks, record: dict) -> NetworkAttachment:
    host = record["HostConfig"]
    mode = host.get("NetworkMode") or "none"
    resolver = {"dns_search": host.get("DnsSearch") or [], "dns_options": host.get("DnsOptions") or []}
    linked = _linked(svc, host) if host.get("Links") else []
    links = _link_hosts(linked)
    etc = {"dns": host.get("Dns") or [], "extra_hosts": links + _extra_hosts(host, None), **resolver}
    if mode == "host":
        return NetworkAttachment(host_network=True, etc_args=etc)
    if mode.startswith("container:"):
        other = mode.split(":", 1)[1]
        userdata = svc.userdata(svc.resolve(other))
        return NetworkAttachment(net_ns_path=_joined_ns(svc, other), etc_files={
            f"/etc/{name}": str(userdata / name) for name in ("hostname", "hosts", "resolv.conf")})
    nets = networks_of(record)
    if not nets:
        return NetworkAttachment(etc_args=etc)
    netsvc = networks()
    pairs = [(netsvc.get(name), opts) for name, opts in nets.items()]
    from ...network import ports
    specs = ports.wanted(host, record["Config"].get("ExposedPorts"))
    sb = netsvc.sandboxes.create(record["Id"], record["Name"].lstrip("/"), pairs, specs)
    settings = _settings(sb, record)
    svc.store.update(record["Id"], lambda r: r.__setitem__("NetworkSettings", settings))
    primary = sb["endpoints"][0]
    dns = host.get("Dns") or []
    if primary["dns"]:
        dns = [primary["gateway"], *dns]
    # as moby, the legacy variables are set only for a container on the default bridge
    link_env = _link_env(linked) if "bridge" in nets else []
    return NetworkAttachment(net_ns_path=sb["netns"], settings=settings, link_env=link_env, etc_args={
        "ip": primary["ip"], **({"ip6": primary["ip6"]} if primary.get("ip6") else {}), "dns": dns, "extra_hosts": links + _extra_hosts(host, primary["gateway"]),
        **resolver})


def _check_container_mode(req, opts: dict) -> None:
    """Docker's refusals for --network container:NAME (runconfig's conflict errors): the
    name, resolver, hosts and ports all belong to the other container."""
    conflicts = [(req.hostname, "hostname and the network mode"),
                 (opts.get("dns") or opts.get("dns_search") or opts.get("dns_options"),
                  "dns and the network mode"),
                 (opts.get("extra_hosts"), "custom host-to-IP mapping and the network mode"),
                 (req.ports or req.publish_all, "port publishing and the container type network mode"),
                 (opts.get("expose"), "port exposing and the container type network mode")]
    for given, what in conflicts:
        if given:
            raise InvalidArgument(f"conflicting options: {what}")


def _joined_ns(svc, ref: str) -> str:
    other = svc.get(ref)
    if not other["State"]["Running"]:
        raise Conflict(f"cannot join network of a non running container: {other['Id']}")
    return f"/proc/{other['State']['Pid']}/ns/net"


def _extra_hosts(host: dict, gateway: str | None) -> list[tuple[str, str]]:
    out = []
    for item in host.get("ExtraHosts") or []:
        name, _, addr = item.partition(":")
        if addr == "host-gateway":
            if gateway is None:
                continue
            addr = gateway
        out.append((name, addr))
    return out


def _settings(sb: dict, record: dict) -> dict:
    from ...network.sandbox import endpoint_settings
    eps = {ep["network"]: endpoint_settings(ep, sb["name"]) for ep in sb["endpoints"]}
    primary = next(iter(eps.values()))
    port_map: dict = {k: None for k in record["Config"].get("ExposedPorts") or {}}
    for p in sb["ports"]:
        port_map.setdefault(f"{p['container_port']}/{p['proto']}", None)
        port_map[f"{p['container_port']}/{p['proto']}"] = (port_map[f"{p['container_port']}/{p['proto']}"]
                                                            or []) + [{"HostIp": p["host_ip"],
                                                                       "HostPort": str(p["host_port"])}]
    return {"Bridge": "", "SandboxID": sb["sandbox_id"], "SandboxKey": sb["netns"],
            "HairpinMode": False, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "Ports": port_map, "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
            "EndpointID": primary["EndpointID"], "Gateway": primary["Gateway"],
            "GlobalIPv6Address": primary["GlobalIPv6Address"],
            "GlobalIPv6PrefixLen": primary["GlobalIPv6PrefixLen"], "IPAddress": primary["IPAddress"],
            "IPPrefixLen": primary["IPPrefixLen"], "IPv6Gateway": primary["IPv6Gateway"],
            "MacAddress": primary["MacAddress"], "Networks": eps}


def detach(svc, networks, cid: str) -> None:
    from ...network.state import NetworkState
    state = NetworkState(svc.paths.root, svc.paths.runroot)
    if not state.endpoint_file(cid).exists():
        return
    networks().sandboxes.teardown(cid)
    try:
        svc.store.update(cid, _stopped_settings)
    except NotFound:
        pass


def _stopped_settings(record: dict) -> None:
    """Docker keeps a stopped container's networks but no addresses or ports."""
    ns = record.get("NetworkSettings")
    if not ns:
        return
    cleared = dict(EndpointID="", Gateway="", IPAddress="", IPPrefixLen=0, MacAddress="",
                   GlobalIPv6Address="", GlobalIPv6PrefixLen=0, IPv6Gateway="")
    ns.update(SandboxID="", SandboxKey="", Ports={}, **cleared)
    for ep in (ns.get("Networks") or {}).values():
        ep.update(cleared)
