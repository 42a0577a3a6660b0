"""The /etc/hostname, /etc/hosts and /etc/resolv.conf a container gets, as Docker writes them.

Owns: writing those three files into the container's userdata dir; `SpecRequest.etc_files`
bind-mounts them (read-write, as Docker does, so ``hostname``/resolver tools work).
Imports only the stdlib.
"""
from __future__ import annotations

from pathlib import Path


def write_etc_files(userdata: Path, hostname: str, extra_hosts: list[tuple[str, str]] = (),
                    dns: list[str] = (), ip: str | None = None, dns_search: list[str] = (),
                    dns_options: list[str] = (), ip6: str | None = None) -> dict[str, str]:
    """Write hostname, hosts and resolv.conf into `userdata`; returns `etc_files` for SpecRequest.

    resolv.conf copies the host's unless `dns` is given (Docker drops 127.x nameservers
    the container cannot reach, falling back to Google's public resolvers).
    """
    userdata.mkdir(parents=True, exist_ok=True)
    (userdata / "hostname").write_text(hostname + "\n")
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
             "fe00::0\tip6-localnet", "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes",
             "ff02::2\tip6-allrouters"]
    lines += [f"{addr}\t{name}" for name, addr in extra_hosts]
    if ip:
        lines.append(f"{ip}\t{hostname}")
    if ip6:  # a dual-stack network's address too, as Docker writes it
        lines.append(f"{ip6}\t{hostname}")
    (userdata / "hosts").write_text("\n".join(lines) + "\n")
    (userdata / "resolv.conf").write_text(_resolv_conf(dns, dns_search, dns_options))
    return {"/etc/hostname": str(userdata / "hostname"), "/etc/hosts": str(userdata / "hosts"),
            "/etc/resolv.conf": str(userdata / "resolv.conf")}


def _resolv_conf(dns: list[str], search: list[str] = (), options: list[str] = ()) -> str:
    """The host's resolv.conf with its 127.x nameservers dropped, or, when any of --dns,
    --dns-search, --dns-option is given, Docker's rebuilt one: each given list replaces the
    host's (``--dns-search .`` means none), the others are the host's."""
    try:
        host = Path("/etc/resolv.conf").read_text()
    except OSError:
        host = ""
    if dns or search or options:
        words = [ln.split() for ln in host.splitlines() if ln.strip() and not ln.startswith(("#", ";"))]
        servers = list(dns) or [w[1] for w in words if w[0] == "nameserver" and len(w) > 1
                                and not w[1].startswith("127.")]
        domains = [d for d in search if d != "."] if search else \
            [d for w in words if w[0] == "search" for d in w[1:]]
        opts = list(options) or [o for w in words if w[0] == "options" for o in w[1:]]
        lines = [f"nameserver {s}" for s in servers or ["8.8.8.8", "8.8.4.4"]]
        lines += [f"search {' '.join(domains)}"] if domains else []
        lines += [f"options {' '.join(opts)}"] if opts else []
        return "\n".join(lines) + "\n"
    kept = [ln for ln in host.splitlines()
            if not (ln.startswith("nameserver") and ln.split()[1:2]
                    and ln.split()[1].startswith("127."))]
    if not any(ln.startswith("nameserver") for ln in kept):
        kept += ["nameserver 8.8.8.8", "nameserver 8.8.4.4"]
    return "\n".join(kept) + "\n"
