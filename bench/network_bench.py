"""Networking cost (issue 7): `run --rm busybox true` on each engine's default bridge, and
throughput through a published port (kernel DNAT) next to the same server reached directly.

Usage (root): .venv/bin/python bench/network_bench.py [--runs N] [--engines pallet podman docker]

Bridged runs are interleaved across engines (pallet's `bridge`, podman's netavark `podman`
network, a private dockerd WITH its bridge and iptables: it makes `docker0`, sets the
FORWARD policy to DROP and is cleaned up after, chains and bridge included). pallet's
`--network none` run is measured alongside, so the bridge's own cost shows.
Throughput: busybox httpd serving a 512 MB file in a pallet container; `wget` of it from
the host through 127.0.0.1:PORT and directly from the container's address, and from a
client namespace (another "host" behind a veth) through the host's address:PORT and
directly; interleaved, median of --transfers. Results: bench/results/network.json.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import shutil
import socket
import statistics
import subprocess
import time
import urllib.request

import harness as h
import engines as en

SIZE_MB = 512


class DockerBridged(en.Docker):
    network_flags = ["--bip", "10.213.0.1/24"]  # its default bridge, docker0, on a free subnet
    run_flags: list[str] = []

    def close(self) -> None:
        super().close()
        subprocess.run(["ip", "link", "del", "docker0"], capture_output=True)
        subprocess.run(["iptables", "-P", "FORWARD", "ACCEPT"], capture_output=True)
        _scrub_iptables(("docker0", "DOCKER"))


class PodmanBridged(en.Podman):
    run_flags = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]

    def close(self) -> None:
        super().close()
        subprocess.run(["ip", "link", "del", "podman0"], capture_output=True)
        _scrub_iptables(("podman0", "NETAVARK"))


def _scrub_iptables(words: tuple[str, ...]) -> None:
    """Remove what a competitor's networking left in iptables: rules naming `words`, then
    its own chains (never pallet's, never other rules)."""
    for table in ("filter", "nat"):
        rules = subprocess.run(["iptables", "-t", table, "-S"], capture_output=True, text=True).stdout
        chains = [r.split()[1] for r in rules.splitlines() if r.startswith("-N ") and
                  any(w in r.split()[1] for w in words)]
        for rule in rules.splitlines():
            if rule.startswith("-A ") and rule.split()[1] not in chains and any(w in rule for w in words):
                subprocess.run(["iptables", "-t", table, "-D", *shlex.split(rule)[1:]], capture_output=True)
        for chain in chains:
            subprocess.run(["iptables", "-t", table, "-F", chain], capture_output=True)
        for chain in chains:
            subprocess.run(["iptables", "-t", table, "-X", chain], capture_output=True)


class PalletBridged(en.Pallet):
    run_flags: list[str] = []


ENGINES = {"pallet": PalletBridged, "podman": PodmanBridged, "docker": DockerBridged}


def bench_runs(args, work, tar) -> dict:
    names, skipped = en.available(args.engines)
    built = {}
    try:
        for n in names:
            built[n] = ENGINES[n](work)
            built[n].setup(tar)
        cases = {f"{n} bridge": (lambda e=e: h.timed(e.run_rm())) for n, e in built.items()}
        if "pallet" in built:
            p = built["pallet"]
            cases["pallet none"] = lambda: h.timed(p.argv("run", "--rm", "--network", "none", "busybox", "true"))
        samples = h.interleave(cases, args.runs)
    finally:
        for e in built.values():
            e.close()
    return {"seconds": h.summary(samples, base="pallet bridge"), "samples": samples, "skipped": skipped}


def _fetch_seconds(url: str, netns: str | None = None) -> float:
    argv = ["wget", "-q", "-O", "/dev/null", url]
    t = time.perf_counter()
    subprocess.run(["ip", "netns", "exec", netns, *argv] if netns else argv, check=True)
    return time.perf_counter() - t


@contextlib.contextmanager
def _client_namespace():
    """Another "host": a namespace behind a veth pair, routed to the containers' subnets
    through this host. Its traffic to a published port is DNATed in PREROUTING and
    forwarded, as a remote client's is; locally made connections (127.0.0.1) are DNATed in
    OUTPUT instead, where the kernel re-routes every packet."""
    ns, host_ip, client_ip = "pbclient", "10.231.0.1", "10.231.0.2"
    script = [["ip", "netns", "add", ns],
              ["ip", "link", "add", "pbc0", "type", "veth", "peer", "name", "eth0", "netns", ns],
              ["ip", "addr", "add", f"{host_ip}/30", "dev", "pbc0"], ["ip", "link", "set", "pbc0", "up"],
              ["ip", "-n", ns, "addr", "add", f"{client_ip}/30", "dev", "eth0"],
              ["ip", "-n", ns, "link", "set", "eth0", "up"], ["ip", "-n", ns, "link", "set", "lo", "up"],
              ["ip", "-n", ns, "route", "add", "default", "via", host_ip]]
    try:
        for argv in script:
            subprocess.run(argv, check=True, capture_output=True)
        yield ns, host_ip
    finally:
        subprocess.run(["ip", "link", "del", "pbc0"], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def bench_throughput(args, work, tar) -> dict:
    p = en.Pallet(work)
    p.setup(tar)
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        script = (f"mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count={SIZE_MB} 2>/dev/null"
                  " && exec httpd -f -p 80 -h /www")
        subprocess.run(p.argv("run", "-d", "--name", "srv", "-p", f"{port}:80", "busybox", "sh", "-c", script),
                       check=True, capture_output=True)
        ip = json.loads(subprocess.run(p.argv("inspect", "srv"), check=True,
                                       capture_output=True).stdout)[0]["NetworkSettings"]["IPAddress"]
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://{ip}/big", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        with _client_namespace() as (client, host_ip):
            cases = {"direct": lambda: _fetch_seconds(f"http://{ip}/big"),
                     "published": lambda: _fetch_seconds(f"http://127.0.0.1:{port}/big"),
                     "client direct": lambda: _fetch_seconds(f"http://{ip}/big", client),
                     "client published": lambda: _fetch_seconds(f"http://{host_ip}:{port}/big", client)}
            samples = h.interleave(cases, args.transfers)
    finally:
        p.close()
    mbps = {k: SIZE_MB / statistics.median(v) for k, v in samples.items()}
    return {"size_mb": SIZE_MB, "mb_per_s": mbps, "published_vs_direct": mbps["published"] / mbps["direct"],
            "client_published_vs_direct": mbps["client published"] / mbps["client direct"],
            "samples": samples}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--transfers", type=int, default=7)
    ap.add_argument("--engines", nargs="+", default=["pallet", "podman", "docker"])
    args = ap.parse_args()
    work = h.workdir("net")
    try:
        tar = h.busybox_tar(work)
        out = {"runs": bench_runs(args, work / "runs", tar),
               "throughput": bench_throughput(args, work / "tp", tar)}
    finally:
        h.unmount_under(work)
        shutil.rmtree(work, ignore_errors=True)
    h.save("network", out)
    print(json.dumps({"runs": out["runs"]["seconds"], "throughput": {
        k: v for k, v in out["throughput"].items() if k != "samples"}}, indent=1))


if __name__ == "__main__":
    main()
