"""Published ports: from HostConfig.PortBindings (+ -P) to concrete host ports.

A host port is free when no live endpoint of this store, nor of another pallet
store on the host (their published ports are listed under HOST_REGISTRY, one
file per store), publishes it (on the same protocol and an overlapping address)
and the host lets pallet bind it (no host process, nor another engine, listens
there). Pallet does not keep the
socket: forwarding is a DNAT rule in the kernel, not a user-space proxy.
Errors use Docker's words and name the port.
"""
from __future__ import annotations

import errno
import json
import os
import socket

from ..errors import Conflict, InvalidArgument

_SOCK = {"tcp": socket.SOCK_STREAM, "udp": socket.SOCK_DGRAM, "sctp": socket.SOCK_STREAM}
HOST_REGISTRY = "/run/pallet-ports"  # host-wide: every store's published ports


def register(key: str, runroot: str, ports: list[dict]) -> None:
    """Record this store's published ports for the other stores on this host (atomic)."""
    path = os.path.join(HOST_REGISTRY, f"store{key or '-default'}.json")
    if not ports:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    os.makedirs(HOST_REGISTRY, exist_ok=True)
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump({"runroot": runroot, "ports": ports}, f)
    os.rename(tmp, path)


def other_stores(key: str) -> list[dict]:
    """Ports published by the other pallet stores whose runroot still exists."""
    mine = f"store{key or '-default'}.json"
    out: list[dict] = []
    try:
        names = os.listdir(HOST_REGISTRY)
    except FileNotFoundError:
        return out
    for name in names:
        if name == mine or not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(HOST_REGISTRY, name)) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            continue
        if os.path.isdir(doc.get("runroot", "")):
            out += doc.get("ports") or []
    return out


def wanted(host_config: dict, exposed: dict | None) -> list[tuple[str, str, int, str]]:
    """(host_ip, host_port spec, container_port, proto) for every binding; -P adds exposed ports."""
    bindings = dict(host_config.get("PortBindings") or {})
    if host_config.get("PublishAllPorts"):
        for key in exposed or {}:
            bindings.setdefault(key, [{"HostIp": "", "HostPort": ""}])
    out = []
    for key, items in bindings.items():
        port, _, proto = key.partition("/")
        for b in items or [{"HostIp": "", "HostPort": ""}]:
            out.append((b.get("HostIp") or "", b.get("HostPort") or "", int(port), proto or "tcp"))
    return out


def allocate(specs, taken: list[dict], endpoint: str, ip: str, cid: str) -> list[dict]:
    """Concrete ports for `specs`, refusing ones already published or bound on the host."""
    out: list[dict] = []
    for host_ip, spec, cport, proto in specs:
        if host_ip and ":" in host_ip:
            continue  # IPv6 host addresses: pallet's networks are IPv4 only
        port = _choose(host_ip, spec, proto, taken + out, endpoint)
        out.append({"host_ip": host_ip or "0.0.0.0", "host_port": port, "container_port": cport,
                    "proto": proto, "ip": ip, "cid": cid})
    return out


def _choose(host_ip: str, spec: str, proto: str, taken: list[dict], endpoint: str) -> int:
    if spec and "-" not in spec:
        port = int(spec)
        if port == 0:
            raise InvalidArgument(f"invalid port: 0")
        _check(host_ip, port, proto, taken, endpoint)
        return port
    if spec:
        lo, hi = (int(x) for x in spec.split("-")[:2])
        candidates = list(range(lo, hi + 1))
    else:
        lo, hi = _ephemeral_range()
        import random  # only when a host port is picked at random
        candidates = random.sample(range(lo, hi + 1), min(64, hi - lo + 1))
    for port in candidates:
        try:
            _check(host_ip, port, proto, taken, endpoint)
            return port
        except Conflict:
            continue
    shown = f"{host_ip or '0.0.0.0'}:{spec or '0'}"
    raise Conflict(f"driver failed programming external connectivity on endpoint {endpoint}: "
                   f"Bind for {shown} failed: port is already allocated")


def _check(host_ip: str, port: int, proto: str, taken: list[dict], endpoint: str) -> None:
    addr = host_ip or "0.0.0.0"
    for t in taken:
        same_addr = "0.0.0.0" in (addr, t["host_ip"]) or addr == t["host_ip"]
        if t["host_port"] == port and t["proto"] == proto and same_addr:
            raise Conflict(f"driver failed programming external connectivity on endpoint {endpoint}: "
                           f"Bind for {addr}:{port} failed: port is already allocated")
    s = socket.socket(socket.AF_INET, _SOCK.get(proto, socket.SOCK_STREAM))
    try:
        s.bind((addr, port))
    except OSError as exc:
        if exc.errno == errno.EADDRNOTAVAIL:
            raise InvalidArgument(f"driver failed programming external connectivity on endpoint "
                                  f"{endpoint}: listen {proto}4 {addr}:{port}: bind: cannot assign "
                                  "requested address") from None
        raise Conflict(f"driver failed programming external connectivity on endpoint {endpoint}: "
                       f"Error starting userland proxy: listen {proto}4 {addr}:{port}: bind: "
                       "address already in use") from None
    finally:
        s.close()


def _ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999
