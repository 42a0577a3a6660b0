"""The Docker Engine API service (`pallet system service`): what a client pays through it.

    .venv/bin/python bench/api_bench.py [--runs 20] [--containers 10 100 1000] [--clients 50]

- run_rm: `docker run --rm busybox true`, the docker CLI through pallet's socket, through a
  private dockerd's (engines.Docker) and through `podman system service`'s, interleaved
  with `pallet run --rm busybox true` itself; a peer that is not installed is skipped.
- docker_py_run: docker-py's `containers.run("busybox", "true", remove=True)`, per call,
  on the same three sockets.
- list_latency: `GET /containers/json?all=1` with N containers in the store (median of 20).
- concurrent_inspect: C clients at once, each 100 `GET /containers/{id}/json` on its own
  connection: requests/s and p99 latency, pallet and each peer, in interleaved rounds
  (--rounds, the median round reported).
- idle_rss: the service's resident memory after start-up and after the runs above; the
  peers' daemons (dockerd + containerd; podman's service) after theirs.
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


def concurrent_rounds(socks: dict, targets: dict, clients: int, rounds: int) -> dict:
    """bench_concurrent on every engine in turn, `rounds` times with a rotating order (as
    harness.interleave), so the shared machine's load falls on all alike; the median round
    of each (by requests/s), with every round's requests/s and p99 beside it."""
    names = list(socks)
    runs: dict[str, list[dict]] = {n: [] for n in names}
    for i in range(rounds):
        for n in names[i % len(names):] + names[:i % len(names)]:
            runs[n].append(bench_concurrent(socks[n], targets[n], clients))
    out = {}
    for n, rs in runs.items():
        median = sorted(rs, key=lambda r: r["requests_per_second"])[len(rs) // 2]
        out[n] = {**median, "rounds": [{"requests_per_second": r["requests_per_second"], "p99_ms": r["p99_ms"]}
                                       for r in rs]}
    return out


class _Peers:
    """dockerd (private, engines.Docker) and `podman system service` on its own socket,
    beside pallet's service; whichever is not installed is skipped and named."""

    def __init__(self, work, tar):
        from engines import Engines
        # a dir of their own (Engines removes it), short: podman refuses a runroot over 50 chars
        self.engines = Engines(h.workdir("ap"), ["docker", "podman"], tar)
        self.socks: dict[str, str] = {}
        self.podman_service: subprocess.Popen | None = None

    def __enter__(self) -> "_Peers":
        engs = self.engines.__enter__()
        if "docker" in engs:
            self.socks["dockerd"] = str(engs["docker"].sock)
        if "podman" in engs:
            pm = engs["podman"]
            sock = str(pm.dir / "podman.sock")
            self.podman_service = subprocess.Popen(
                pm.argv("system", "service", "--time", "0", f"unix://{sock}"),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            deadline = time.monotonic() + 30
            while not os.path.exists(sock) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.socks["podman"] = sock
        return self

    def __exit__(self, *exc) -> None:
        if self.podman_service is not None:
            self.podman_service.send_signal(signal.SIGTERM)
            try:
                self.podman_service.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.podman_service.pid, signal.SIGKILL)
                self.podman_service.wait()
        self.engines.__exit__(*exc)

    def daemon_rss(self) -> dict:
        """Resident memory of each peer's daemons: dockerd + its containerd; podman's service."""
        out = {}
        if "docker" in self.engines.engines:
            pids = self.engines.engines["docker"].daemon_pids()
            out["dockerd_plus_containerd"] = sum(_rss(p) for p in pids) / h.MB
        if self.podman_service is not None:
            out["podman_service"] = _rss(self.podman_service.pid) / h.MB
        return out


# podman's containers need the ulimits every podman run here needs (engines.Podman.run_flags)
_PODMAN_ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def _docker_cli_case(sock: str, work, extra: list[str]):
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}", "DOCKER_CONFIG": str(work / "docker-config")}
    argv = ["docker", "run", "--rm", "--network", "none", *extra, "busybox", "true"]
    return lambda: h.timed(argv, env=env)


def _docker_py_runs(sock: str, runs: int, podman: bool) -> dict:
    import docker
    client = docker.DockerClient(base_url=f"unix://{sock}", version="auto")
    kw = {"network_mode": "none"}
    if podman:
        kw["ulimits"] = [docker.types.Ulimit(name=n, soft=1024, hard=1024) for n in ("nofile", "nproc")]
    client.containers.run("busybox", "true", remove=True, **kw)  # warm-up
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        client.containers.run("busybox", "true", remove=True, **kw)
        samples.append(time.perf_counter() - t)
    client.close()
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "runs": runs}


def _peer_container(sock: str, work) -> str:
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}", "DOCKER_CONFIG": str(work / "docker-config")}
    return subprocess.run(["docker", "create", "--network", "none", "busybox", "true"], env=env,
                          capture_output=True, text=True, check=True).stdout.strip()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--containers", type=int, nargs="+", default=[10, 100, 1000])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--rounds", type=int, default=3, help="concurrent inspect rounds per engine, interleaved")
    p.add_argument("--no-peers", action="store_true", help="pallet only (no dockerd, no podman)")
    args = p.parse_args(argv)
    work = h.workdir("api")
    engine = Pallet(work)
    load_start = os.getloadavg()  # the machine is shared: figures are read beside its load
    proc = None
    try:
        tar = h.busybox_tar(work)
        engine.setup(tar)
        sock = str(work / "api.sock")
        proc = _start_service(engine, sock)
        time.sleep(0.5)
        idle_start = _rss(proc.pid)
        peers = _Peers(work, tar) if not args.no_peers else None
        with peers or _Nothing():
            socks = {"pallet": sock, **(peers.socks if peers else {})}
            cases = {f"docker_cli_via_{n}_socket": _docker_cli_case(
                         s, work, _PODMAN_ULIMITS if n == "podman" else []) for n, s in socks.items()}
            cases["pallet_cli"] = lambda: h.timed(engine.run_rm())
            run_rm = h.summary(h.interleave(cases, args.runs), base="docker_cli_via_pallet_socket")
            py = {n: _docker_py_runs(s, args.runs, n == "podman") for n, s in socks.items()}
            targets = {n: _peer_container(s, work) for n, s in socks.items()}
            concurrent = concurrent_rounds(socks, targets, args.clients, args.rounds)
            peer_rss = peers.daemon_rss() if peers else {}
        listing = {}
        for n in args.containers:
            _make_containers(engine, n)
            _get(sock, "/v1.50/containers/json?all=1")  # the first read after growth decodes
            samples = [_get(sock, "/v1.50/containers/json?all=1") for _ in range(20)]
            listing[str(n)] = {"median_ms": statistics.median(samples) * 1e3, "min_ms": min(samples) * 1e3}
        time.sleep(2.5)  # idle past a second: the service gives its free heap back
        out = {"run_rm_seconds": run_rm, "docker_py_run_remove_seconds": py,
               "list_all_latency": listing, "concurrent_inspect": concurrent,
               "idle_rss_mb": {"after_start": idle_start / h.MB, "after_runs": _rss(proc.pid) / h.MB,
                               **peer_rss},
               "skipped": peers.engines.skipped if peers else {"dockerd": "--no-peers", "podman": "--no-peers"},
               "load_average": {"start": list(load_start), "end": list(os.getloadavg())}}
        h.save("api", out)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
        engine.close()
        shutil.rmtree(work, ignore_errors=True)


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


if __name__ == "__main__":
    main()
