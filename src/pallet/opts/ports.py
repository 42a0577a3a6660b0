"""``-p``/``--publish`` and ``--expose``: Docker's port specs (go-connections/nat).

Owns ``[ip:][hostPort:]containerPort[/proto]`` with ranges (``8080-8081:80-81``),
bracketed IPv6 (``[::1]:80:80``), an empty host port meaning "pick one"
(``127.0.0.1::80``), and the long form ``published=8080,target=80,protocol=udp``.
A port key is ``"80/tcp"`` as in ``Config.ExposedPorts`` and ``HostConfig.PortBindings``.
Invariants: protocols are lower-cased and one of tcp/udp/sctp; a host port range is
as long as the container range, or the container port is single and the host range
is the pool Docker allocates from (``host_port == "8000-8010"``).
Errors are ``UsageError`` in nat's words. Pure: imports ``ipaddress`` lazily.
"""
from __future__ import annotations

import re
from ..record import dataclass
from collections.abc import Iterable

from ..errors import UsageError

PROTOCOLS = ("tcp", "udp", "sctp")


@dataclass(frozen=True)
class PortBinding:
    host_ip: str
    host_port: str  # "" picks a free port; "a-b" is a pool for one container port
    container_port: int
    proto: str = "tcp"

    @property
    def key(self) -> str:
        return port_key(self.container_port, self.proto)


def port_key(port: int | str, proto: str = "tcp") -> str:
    """``(80, "tcp")`` -> ``"80/tcp"``, the key Docker uses in port maps."""
    return f"{port}/{proto}"


def split_proto_port(raw: str) -> tuple[str, str]:
    """nat.SplitProtoPort: ``"80/udp"`` -> ``("udp", "80")``; no proto means tcp."""
    parts = raw.split("/")
    if not raw or not parts[0]:
        return "", ""
    if len(parts) == 1 or not parts[1]:
        return "tcp", parts[0]
    return parts[1], parts[0]


def _parse_uint16(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text):
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    if int(text) > 0xFFFF:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return int(text)


def parse_port_range(ports: str) -> tuple[int, int]:
    """nat.ParsePortRange: ``"80"`` -> (80, 80), ``"80-81"`` -> (80, 81); ValueError if bad."""
    if not ports:
        raise ValueError("empty string specified for ports")
    if "-" not in ports:
        port = _parse_uint16(ports)
        return port, port
    parts = ports.split("-")  # like nat, anything after a second "-" is ignored
    start, end = _parse_uint16(parts[0]), _parse_uint16(parts[1])
    if end < start:
        raise ValueError(f"invalid range specified for port: {ports}")
    return start, end


def _split_parts(raw: str) -> tuple[str, str, str]:
    parts = raw.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def _host_ip(ip: str) -> str:
    if ip.startswith("["):  # what Go's net.SplitHostPort(ip + ":") makes of it
        address = ip + ":"
        end = address.find("]")
        if end < 0:
            raise UsageError(f"invalid IP address {ip}: address {address}: missing ']' in address")
        if end + 1 != address.rfind(":"):
            problem = "too many colons" if address[end + 1] == ":" else "missing port"
            raise UsageError(f"invalid IP address {ip}: address {address}: {problem} in address")
        ip = address[1:end]
    if ip:
        import ipaddress

        try:
            if "%" in ip:  # Go's ParseIP takes no zone
                raise ValueError(ip)
            ipaddress.ip_address(ip)
        except ValueError:
            raise UsageError(f"invalid IP address: {ip}") from None
    return ip


def parse_publish(spec: str) -> list[PortBinding]:
    """One ``-p`` value (nat.ParsePortSpec) -> one binding per container port."""
    spec = _long_form(spec) if "=" in spec else spec
    ip, host_port, container = _split_parts(spec)
    proto, container = split_proto_port(container)
    ip = _host_ip(ip)
    if not container:
        raise UsageError(f"no port specified: {spec}<empty>")
    try:
        start, end = parse_port_range(container)
    except ValueError:
        raise UsageError(f"invalid containerPort: {container}") from None
    host_start = host_end = 0
    if host_port:
        try:
            host_start, host_end = parse_port_range(host_port)
        except ValueError:
            raise UsageError(f"invalid hostPort: {host_port}") from None
        if end - start != host_end - host_start and end != start:
            raise UsageError("invalid ranges specified for container and host Ports: "
                             f"{container} and {host_port}")
    if proto.lower() not in PROTOCOLS:
        raise UsageError(f"invalid proto: {proto}")
    bindings = []
    for offset in range(end - start + 1):
        host = str(host_start + offset) if host_port else ""
        if start == end and host_start != host_end:
            host = f"{host}-{host_end}"  # a pool to pick one host port from
        bindings.append(PortBinding(ip, host, start + offset, proto.lower()))
    return bindings


def _long_form(spec: str) -> str:
    """``published=8080,target=80,protocol=udp`` -> ``8080:80/udp`` (the CLI's conversion)."""
    params = {"protocol": "tcp"}
    for param in spec.split(","):
        key, sep, value = param.partition("=")
        if not sep or not key:
            raise UsageError(
                f"invalid publish opts format (should be name=value but got '{param}')")
        params[key] = value
    return f"{params.get('published', '')}:{params.get('target', '')}/{params['protocol']}"


def parse_publish_specs(specs: Iterable[str]) -> tuple[list[str], dict[str, list[PortBinding]]]:
    """nat.ParsePortSpecs: exposed port keys (first-seen order) and bindings per key."""
    bindings: dict[str, list[PortBinding]] = {}
    for spec in specs:
        for binding in parse_publish(spec):
            bindings.setdefault(binding.key, []).append(binding)
    return list(bindings), bindings


def parse_expose(spec: str) -> list[str]:
    """One ``--expose`` value: ``"80"``, ``"80/udp"``, ``"8000-8002"`` -> port keys."""
    if ":" in spec:
        raise UsageError(f"invalid port format for --expose: {spec}")
    proto, port = split_proto_port(spec)
    try:
        start, end = parse_port_range(port)
    except ValueError as exc:
        raise UsageError(f"invalid range format for --expose: {spec}, error: {exc}") from None
    return [port_key(p, proto) for p in range(start, end + 1)]
