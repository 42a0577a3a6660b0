"""Networking cost (issue 7): `run --rm busybox true` on the default bridge vs --network none,
and throughput through a published port (kernel DNAT) vs the same server reached directly.

Usage (root): .venv/bin/python bench/network_bench.py [RUNS]
Uses a private --root/--runroot; docker/podman are timed too when their engines are present.
"""
from __future__ import annotations

import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZE_MB = 256


def timed(argv: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - t


def throughput(url: str) -> float:
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        n = 0
        with urllib.request.urlopen(url, timeout=60) as r:
            while chunk := r.read(1 << 20):
                n += len(chunk)
        best = max(best, n / (time.perf_counter() - t) / 1e6)
    return best


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory(prefix="pallet-netbench-") as tmp:
        base = [sys.executable, "-m", "pallet.cli.main", "--root", f"{tmp}/root", "--runroot", f"{tmp}/run"]
        subprocess.run([str(REPO / "examples/busybox-rootfs.sh"), f"{tmp}/bb.tar"], check=True, capture_output=True)
        subprocess.run(base + ["import", "-c", 'CMD ["sh"]', f"{tmp}/bb.tar", "busybox"], check=True,
                       capture_output=True)
        for label, extra in (("bridge", []), ("none", ["--network", "none"])):
            times = [timed(base + ["run", "--rm", *extra, "busybox", "true"]) for _ in range(runs)]
            print(f"pallet run --rm busybox true ({label}): median {statistics.median(times)*1000:.0f} ms")
        for engine in ("docker", "podman"):
            if shutil.which(engine) and subprocess.run([engine, "info"], capture_output=True).returncode == 0:
                times = [timed([engine, "run", "--rm", "busybox", "true"]) for _ in range(runs)]
                print(f"{engine} run --rm busybox true: median {statistics.median(times)*1000:.0f} ms")
            else:
                print(f"{engine}: no engine on this host, not measured")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        script = (f"mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count={SIZE_MB} 2>/dev/null"
                  " && exec httpd -f -p 80 -h /www")
        subprocess.run(base + ["run", "-d", "--name", "srv", "-p", f"{port}:80", "busybox", "sh", "-c", script],
                       check=True, capture_output=True)
        try:
            doc = json.loads(subprocess.run(base + ["inspect", "srv"], check=True, capture_output=True).stdout)[0]
            ip = doc["NetworkSettings"]["IPAddress"]
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://{ip}/big", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            direct = throughput(f"http://{ip}/big")
            published = throughput(f"http://127.0.0.1:{port}/big")
            print(f"throughput direct {direct:.0f} MB/s, via published port {published:.0f} MB/s "
                  f"({published / direct:.0%})")
        finally:
            subprocess.run(base + ["rm", "-f", "srv"], capture_output=True)


if __name__ == "__main__":
    main()
