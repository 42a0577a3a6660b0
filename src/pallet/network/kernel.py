"""The executors: `ip -batch`, `nft -f`, the FORWARD accept rule, sysctls.

Each call is one exec of a standard tool with a script made by pallet.network.plan.
Failures become pallet errors with the tool's own message. Teardown runs with
`ip -force` (it goes on past objects already gone), so it is idempotent.
"""
from __future__ import annotations

import subprocess

from ..errors import PalletError

FORWARD_CHAIN = "PALLET-FORWARD"


def ip_batch(script: str, netns: str | None = None, force: bool = False) -> None:
    """Run an `ip` script on the host, or inside the namespace bound at path `netns`."""
    if not script.strip():
        return
    argv = (["nsenter", f"--net={netns}"] if netns else []) + ["ip"] + (["-force"] if force else []) + \
        ["-batch", "-"]
    _run(argv, script, quiet=force)


def create_netns(path: str) -> None:
    """A new network namespace kept alive by a bind mount at `path` (under the runroot:
    whatever unmounts the runroot's mounts also frees the namespace and its veths)."""
    import os
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "a").close()
    _run(["unshare", f"--net={path}", "true"], "")


def delete_netns(path: str) -> None:
    import os
    from .. import libc
    try:
        libc.umount2(path, libc.MNT_DETACH)
    except OSError:
        pass  # EINVAL: not mounted, which is fine
    try:
        os.unlink(path)
    except OSError:
        pass


def nft(script: str) -> None:
    _run(["nft", "-f", "-"], script)


class ip_batch_started:  # noqa: N801 - used like a function: `with ip_batch_started(...):`
    """An `ip -force -batch` teardown running while the `with` body does other work (the
    kernel takes tens of milliseconds to unregister a bridge: an nft run fits in that time);
    waited for at the end of the body. Teardown only: its failures are quiet, as ip_batch's
    with force."""

    def __init__(self, script: str):
        self.proc = _start(["ip", "-force", "-batch", "-"], script) if script.strip() else None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.communicate()


def _run(argv: list[str], script: str, quiet: bool = False) -> None:
    p = _start(argv, script)
    _, err = p.communicate()
    if p.returncode != 0 and not quiet:
        msg = err.decode(errors="replace").strip().splitlines()
        raise PalletError(f"{argv[0]} failed: {msg[0] if msg else p.returncode}")


def _start(argv: list[str], script: str) -> subprocess.Popen:
    """`argv` running with `script` written to its stdin (scripts are far below a pipe's
    buffer, so the write never waits for the tool)."""
    from ..runtime.runc import which
    argv = [which(argv[0]) or argv[0], *argv[1:]]  # no exec attempt per PATH entry
    try:
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError as exc:
        raise PalletError(f"{argv[0]} not found: install iproute2 and nftables") from exc
    try:
        p.stdin.write(script.encode())
        p.stdin.close()
    except BrokenPipeError:
        pass  # it failed before reading: its stderr says why
    p.stdin = None  # written: communicate() only reads
    return p


def enable_bridge(bridge: str) -> None:
    """127.0.0.1:PORT DNATed to a container leaves through the bridge: allow loopback sources."""
    _sysctl(f"net/ipv4/conf/{bridge}/route_localnet", "1")
    _sysctl("net/ipv4/ip_forward", "1")


def _sysctl(key: str, value: str) -> None:
    path = f"/proc/sys/{key}"
    try:
        with open(path) as f:
            if f.read().strip() == value:
                return
        with open(path, "w") as f:
            f.write(value)
    except OSError as exc:
        raise PalletError(f"cannot set {key.replace('/', '.')}: {exc.strerror}") from exc


def ensure_forward_accept(tool: str = "iptables") -> None:
    """An accept rule in its own chain, jumped to from FORWARD (`ip6tables` for IPv6).

    dockerd sets the FORWARD policy to DROP; an nft accept in pallet's own table
    cannot override a drop in iptables' table, so pallet keeps one jump in the
    iptables FORWARD chain (never touching Docker's chains or rules).
    """
    check = subprocess.run([tool, "-w", "-C", "FORWARD", "-j", FORWARD_CHAIN], capture_output=True)
    if check.returncode == 0:
        return
    rules = (f"*filter\n:{FORWARD_CHAIN} - [0:0]\n"
             f"-A {FORWARD_CHAIN} -i pallet+ -j ACCEPT\n"
             f"-A {FORWARD_CHAIN} -o pallet+ -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT\n"
             f"-I FORWARD 1 -j {FORWARD_CHAIN}\nCOMMIT\n")
    _run([f"{tool}-restore", "-w", "--noflush"], rules)


def remove_forward_accept() -> None:
    for tool in ("iptables", "ip6tables"):
        for argv in (["-D", "FORWARD", "-j", FORWARD_CHAIN], ["-F", FORWARD_CHAIN], ["-X", FORWARD_CHAIN]):
            subprocess.run([tool, "-w", *argv], capture_output=True)


IPV6_FORWARDING = "net/ipv6/conf/all/forwarding"


def enable_ipv6_forwarding() -> bool:
    """net.ipv6.conf.all.forwarding=1 (and the ip6tables FORWARD jump), as dockerd sets them
    for an IPv6 network, so its containers are routed out of the host. Host-wide, and left on
    as dockerd leaves it. Not done (False) when the host's own IPv6 default route was learned
    from router advertisements on an interface that takes them only while the host does not
    forward (accept_ra=1): turning forwarding on would cut the host's own IPv6 off."""
    try:
        with open(f"/proc/sys/{IPV6_FORWARDING}") as f:
            if f.read().strip() == "1":
                ensure_forward_accept("ip6tables")
                return True
    except OSError:
        return False  # IPv6 disabled on this host
    if _default_route_from_ra():
        return False
    _sysctl(IPV6_FORWARDING, "1")
    ensure_forward_accept("ip6tables")
    return True


def _default_route_from_ra() -> bool:
    p = subprocess.run(["ip", "-6", "route", "show", "default"], capture_output=True, text=True)
    for line in p.stdout.splitlines():
        words = line.split()
        if "proto" in words and words[words.index("proto") + 1:][:1] == ["ra"] and "dev" in words:
            dev = words[words.index("dev") + 1]
            try:
                with open(f"/proc/sys/net/ipv6/conf/{dev}/accept_ra") as f:
                    if f.read().strip() == "1":
                        return True
            except OSError:
                continue
    return False


def pallet_tables() -> list[str]:
    p = subprocess.run(["nft", "list", "tables", "ip"], capture_output=True, text=True)
    return [ln.split()[-1] for ln in p.stdout.splitlines() if ln.split()[-1:] and
            ln.split()[-1].startswith("pallet")]


def bridge_exists(bridge: str) -> bool:
    return link_exists(bridge)


def link_exists(name: str) -> bool:
    import os
    return os.path.exists(f"/sys/class/net/{name}")


def host_routes() -> list[str]:
    """IPv4 destinations routed on the host (subnets a new network must not overlap)."""
    import ipaddress
    import socket
    import struct
    out = []
    try:
        with open("/proc/net/route") as f:
            rows = f.read().splitlines()[1:]
    except OSError:
        return out
    for row in rows:
        fields = row.split()
        dest, mask = (socket.inet_ntoa(struct.pack("<L", int(x, 16))) for x in (fields[1], fields[7]))
        if mask != "0.0.0.0":
            out.append(str(ipaddress.ip_network(f"{dest}/{mask}", strict=False)))
    return out
