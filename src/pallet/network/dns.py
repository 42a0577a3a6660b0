"""Names on user-defined networks: aardvark-dns (podman's resolver), one per store.

It listens on port 53 of each DNS network's gateway address and answers a
container's name, its aliases and its short ID, each also as `NAME.NETWORK` (as
Docker's embedded resolver strips the network's name), with its address on that network;
other names go to the host's resolvers. Config: one file per network (first line:
the gateway; then `ID IPv4 IPv6 names`); SIGHUP reloads. It runs only while a
DNS network has an endpoint; the last one out stops it.
"""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from ..errors import PalletError

BINARIES = ("/usr/lib/podman/aardvark-dns", "/usr/libexec/podman/aardvark-dns", "/usr/bin/aardvark-dns")


def write_configs(dns_dir: Path, sandboxes: list[dict]) -> bool:
    """Rewrite the config dir from live sandboxes; True if any DNS network has entries."""
    per_net: dict[str, list[str]] = {}
    gateways: dict[str, str] = {}
    for sb in sandboxes:
        for ep in sb["endpoints"]:
            if not ep.get("dns"):
                continue
            gateways[ep["network"]] = ep["gateway"]
            short = [sb["name"], sb["cid"][:12], *ep.get("aliases", [])]
            names = ",".join(dict.fromkeys([*short, *(f"{n}.{ep['network']}" for n in short)]))
            per_net.setdefault(ep["network"], []).append(f"{sb['cid']} {ep['ip']} {ep.get('ip6', '')} {names}")
    dns_dir.mkdir(parents=True, exist_ok=True)
    for f in dns_dir.iterdir():
        if not f.name.startswith("aardvark") and f.name not in per_net:
            f.unlink(missing_ok=True)
    for net, lines in per_net.items():
        tmp = dns_dir / f".{net}.tmp"
        tmp.write_text("\n".join([gateways[net], *lines]) + "\n")
        os.replace(tmp, dns_dir / net)
    return bool(per_net)


def _pid(dns_dir: Path) -> int | None:
    try:
        pid = int((dns_dir / "aardvark.pid").read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def reload(dns_dir: Path, wanted: bool) -> None:
    """Start, SIGHUP or stop the resolver to match the configs just written."""
    pid = _pid(dns_dir)
    if not wanted:
        if pid:
            os.kill(pid, signal.SIGTERM)
        (dns_dir / "aardvark.pid").unlink(missing_ok=True)
        return
    if pid:
        os.kill(pid, signal.SIGHUP)
        return
    binary = next((b for b in BINARIES if os.path.exists(b)), None)
    if binary is None:
        raise PalletError("aardvark-dns not found: apt-get install aardvark-dns")
    # `run` forks and returns once the server listens; its stdio must not hold ours open
    p = subprocess.run([binary, "--config", str(dns_dir), "-p", "53", "run"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    if p.returncode != 0:
        raise PalletError(f"aardvark-dns failed to start (exit {p.returncode})")
