"""Issue 3: container latency, memory and disk, pallet next to podman, docker and bare runc.

Usage (root):  .venv/bin/python bench/containers.py {run-rm,start,ps,all} [--runs N] [--engines ...]

  run-rm   `run --rm --network none busybox true`, interleaved across engines; bare `runc run`
           of a prepared bundle is the floor. Goals: pallet <= 0.5x podman, <= 0.3x docker.
  start    time to start N (100) detached `sleep` containers one after another; engine-side
           memory per running container once 30 run (pallet/podman: conmon, docker:
           containerd-shim; PSS and RSS); disk used by the N containers (store growth, du -x).
  ps       `ps -a` latency with 0, 200 and 1000 created containers (goal < 200 ms, flat).
           Competitors stop at --competitor-max containers (creating 1000 through their CLI
           costs minutes); pallet's bulk containers are created in-process to keep it quick.
Each engine has a private store under /var/tmp/pallet-bench-*; everything is removed at exit.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import harness as h
from engines import Engines

ENGINES = ["pallet", "podman", "docker", "runc"]


def bench_run_rm(args) -> dict:
    work = h.workdir("runrm")
    with Engines(work, args.engines, h.busybox_tar(work)) as engines:
        cases = {n: (lambda e=e: h.timed(e.run_rm())) for n, e in engines.items()}
        samples = h.interleave(cases, args.runs)
    out = {"runs": args.runs, "seconds": h.summary(samples, base="pallet"),
           "samples": samples, "skipped": _skipped(args.engines)}
    h.save("run_rm", out)
    return out


def _skipped(names: list[str]) -> dict:
    from engines import available
    return available(names)[1]


def bench_start(args) -> dict:
    """Start N detached containers; sample memory at 30 running; disk at N; then remove."""
    work = h.workdir("start")
    names = [n for n in args.engines if n != "runc"]
    result: dict = {"containers": args.count, "skipped": _skipped(names)}
    with Engines(work, names, h.busybox_tar(work)) as engines:
        disk0 = {n: e.disk_used() for n, e in engines.items()}
        times: dict[str, list[float]] = {n: [] for n in engines}
        memory: dict[str, dict] = {}
        for i in range(args.count):  # interleaved: container i of every engine, then i+1
            for name, eng in engines.items():
                times[name].append(h.timed(eng.run_detached("sleep", "3600")))
            if i + 1 == args.memory_at:
                memory = {n: _memory(e, args.memory_at) for n, e in engines.items()}
        for name, eng in engines.items():
            disk = eng.disk_used() - disk0[name]
            result[name] = {"start_total_s": sum(times[name]),
                            "start_median_s": statistics.median(times[name]),
                            "start_max_s": max(times[name]), "memory": memory.get(name),
                            "disk_bytes": disk, "disk_per_container_bytes": disk / args.count}
            eng.remove_all()
    h.save("start", result)
    return result


def _memory(eng, running: int) -> dict:
    pids = eng.monitor_pids()
    mem = [h.proc_memory(p) for p in pids]
    daemon = [h.proc_memory(p) for p in eng.daemon_pids()]
    return {"running": running, "monitor_processes": len(pids),
            "rss_per_container": sum(m["rss"] for m in mem) / running,
            "pss_per_container": sum(m["pss"] for m in mem) / running,
            "daemon_rss": sum(m["rss"] for m in daemon),
            "daemon_pss": sum(m["pss"] for m in daemon)}


def bench_ps(args) -> dict:
    work = h.workdir("ps")
    names = [n for n in args.engines if n != "runc"]
    levels = [0, 200, 1000]
    result: dict = {"levels": levels, "competitor_max": args.competitor_max,
                    "skipped": _skipped(names), "seconds": {}}
    with Engines(work, names, h.busybox_tar(work)) as engines:
        have = {n: 0 for n in engines}
        for level in levels:
            active = {n: e for n, e in engines.items() if n == "pallet" or level <= args.competitor_max}
            for name, eng in active.items():
                _create_many(eng, level - have[name])
                have[name] = level
            cases = {n: (lambda e=e: h.timed(e.argv("ps", "-a"))) for n, e in active.items()}
            result["seconds"][str(level)] = h.summary(h.interleave(cases, args.runs), base="pallet")
    h.save("ps", result)
    return result


def _create_many(eng, n: int) -> None:
    if n <= 0:
        return
    if eng.name == "pallet":
        # in one process: the store is the same one the CLI sees, only the start-up is saved
        code = ("import sys; from pallet.cli.main import run, Context\n"
                "ctx = Context(sys.argv[1], sys.argv[2], stdout=open('/dev/null', 'w'))\n"
                "for _ in range(int(sys.argv[3])):\n"
                "    assert run(['create', '--network', 'none', 'busybox', 'true'], ctx) == 0\n")
        subprocess.run([str(h.REPO / ".venv/bin/python"), "-c", code, str(eng.dir / "root"),
                        str(eng.dir / "run"), str(n)], check=True)
        return
    procs = []  # two at a time: the CLI round trip dominates, the machine has two cores
    for i in range(n):
        procs.append(subprocess.Popen(eng.create(), stdout=subprocess.DEVNULL))
        if len(procs) >= 2:
            procs.pop(0).wait()
    for p in procs:
        p.wait()


COMMANDS = {"run-rm": bench_run_rm, "start": bench_start, "ps": bench_ps}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("bench", choices=[*COMMANDS, "all"])
    p.add_argument("--runs", type=int, default=None, help="timed runs per engine (run-rm 20, ps 10)")
    p.add_argument("--engines", nargs="+", default=ENGINES, choices=ENGINES)
    p.add_argument("--count", type=int, default=100, help="containers for `start`")
    p.add_argument("--memory-at", type=int, default=30, help="running containers for memory")
    p.add_argument("--competitor-max", type=int, default=200,
                   help="largest ps level measured for docker/podman")
    args = p.parse_args(argv)
    for name in COMMANDS if args.bench == "all" else [args.bench]:
        runs = args.runs
        args.runs = runs or {"run-rm": 20, "ps": 10}.get(name, 0)
        COMMANDS[name](args)
        args.runs = runs


if __name__ == "__main__":
    sys.exit(main())
