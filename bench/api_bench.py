"""The Docker Engine API service (`pallet system service`): what a client pays through it.

    .venv/bin/python bench/api_bench.py [--runs 20] [--containers 10 100 1000] [--clients 50]

- run_rm: `docker run --rm busybox true` (the docker CLI through pallet's socket) against
  `pallet run --rm busybox true` itself, interleaved; dockerd's and podman's sockets when
  they are installed (they are skipped, and listed, when not).
- docker_py_run: docker-py's `containers.run("busybox", "true", remove=True)`, per call.
- list_latency: `GET /containers/json?all=1` with N containers in the store (median of 20).
- concurrent_inspect: C clients at once, each 100 `GET /containers/{id}/json` on its own
  connection: requests/s and p99 latency.
- idle_rss: the service's resident memory after start-up and after the runs above.
Private store under /var/tmp/pallet-bench-*, removed at the end with everything started.
"""
from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

import harness as h
from engines import Pallet


class _Unix(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def _start_service(engine: Pallet, sock: str) -> subprocess.Popen:
    proc = subprocess.Popen(engine.argv("system", "service", "--timeout", "0", f"unix://{sock}"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not os.path.exists(sock):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("the service did not start")
        time.sleep(0.02)
    return proc


def _rss(pid: int) -> int:
    return h.proc_memory(pid)["rss"]


def _get(sock: str, path: str, conn: _Unix | None = None) -> float:
    c = conn or _Unix(sock)
    t = time.perf_counter()
    c.request("GET", path)
    c.getresponse().read()
    elapsed = time.perf_counter() - t
    if conn is None:
        c.close()
    return elapsed


def _make_containers(engine: Pallet, n: int) -> None:
    """n created containers, made through the library (not n CLI processes: minutes)."""
    sys.path.insert(0, str(h.REPO / "src"))
    from pallet.engine import Engine
    from pallet.paths import Paths
    from pallet.services.container_types import CreateRequest
    eng = Engine(Paths(engine.dir / "root", engine.dir / "run"))
    have = len(eng.containers.list())
    for _ in range(n - have):
        eng.containers.create(CreateRequest(image="busybox", cmd=["true"], network="none"))


def bench_concurrent(sock: str, cid: str, clients: int, per_client: int = 100) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()

    def client():
        conn = _Unix(sock)
        mine = [_get(sock, f"/v1.50/containers/{cid}/json", conn) for _ in range(per_client)]
        conn.close()
        with lock:
            latencies.extend(mine)
    threads = [threading.Thread(target=client) for _ in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    latencies.sort()
    return {"clients": clients, "requests": len(latencies), "requests_per_second": len(latencies) / wall,
            "p50_ms": latencies[len(latencies) // 2] * 1e3,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1e3}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--containers", type=int, nargs="+", default=[10, 100, 1000])
    p.add_argument("--clients", type=int, default=50)
    args = p.parse_args(argv)
    work = h.workdir("api")
    engine = Pallet(work)
    proc = None
    try:
        engine.setup(h.busybox_tar(work))
        sock = str(work / "api.sock")
        proc = _start_service(engine, sock)
        time.sleep(0.5)
        idle_start = _rss(proc.pid)
        env = {**os.environ, "DOCKER_HOST": f"unix://{sock}", "DOCKER_CONFIG": str(work / "docker-config")}
        cases = {"docker_cli_via_pallet_socket": lambda: h.timed(
                     ["docker", "run", "--rm", "--network", "none", "busybox", "true"], env=env),
                 "pallet_cli": lambda: h.timed(engine.run_rm())}
        run_rm = h.summary(h.interleave(cases, args.runs), base="docker_cli_via_pallet_socket")
        import docker
        client = docker.DockerClient(base_url=f"unix://{sock}", version="1.50")
        py = []
        for _ in range(args.runs):
            t = time.perf_counter()
            client.containers.run("busybox", "true", remove=True, network_mode="none")
            py.append(time.perf_counter() - t)
        client.close()
        listing = {}
        for n in args.containers:
            _make_containers(engine, n)
            samples = [_get(sock, "/v1.50/containers/json?all=1") for _ in range(20)]
            listing[str(n)] = {"median_ms": statistics.median(samples) * 1e3, "min_ms": min(samples) * 1e3}
        cid = subprocess.run(engine.argv("ps", "-aq", "--no-trunc"), capture_output=True,
                             text=True).stdout.split()[0]
        concurrent = bench_concurrent(sock, cid, args.clients)
        time.sleep(2.5)  # idle past a second: the service gives its free heap back
        out = {"run_rm_seconds": run_rm,
               "docker_py_run_remove_seconds": {"median": statistics.median(py), "min": min(py), "max": max(py)},
               "list_all_latency": listing, "concurrent_inspect": concurrent,
               "idle_rss_mb": {"after_start": idle_start / h.MB, "after_runs": _rss(proc.pid) / h.MB},
               "skipped": {"dockerd": "not installed" if not shutil.which("dockerd") else "not measured here",
                           "podman": "not installed" if not shutil.which("podman") else "not measured here"}}
        h.save("api", out)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
        engine.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
