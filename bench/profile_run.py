"""Where the time of `pallet run --rm --network none busybox true` goes.

Usage (root):  .venv/bin/python bench/profile_run.py [--runs 10]

Three views, each over --runs fresh processes (so every run pays start-up, as a user does):
  wall      the CLI as a user runs it, next to `python -c pass` and `pallet --version`
            (the start-up floor) and bare `runc run` (the container floor).
  phases    one process per run that imports pallet (timed), then wraps the service steps
            (image lookup, create, prepare storage, overlay mount, network attach, spec,
            conmon + runc create, runc start, wait, cleanup, remove) and every child process
            with timers, and runs the CLI's own `run` entry point. The wrappers are set up in
            this benchmark only; pallet's code is unchanged. Nested phases are indented.
  imports   `python -X importtime` of the same command: the slowest modules (cumulative).
Results: bench/results/profile_run.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import harness as h
from engines import Engines

# Runs inside the child: wrap the phases, run the CLI once, print the timeline as JSON.
CHILD = r'''
import json, sys, time
T0 = time.perf_counter()
from pallet.cli import main as cli
T_IMPORT = time.perf_counter() - T0
import subprocess, importlib
events, depth = [], [0]

def wrap(owner, attr, label):
    fn = getattr(owner, attr)
    def timed(*a, **kw):
        t = time.perf_counter(); depth[0] += 1
        try:
            return fn(*a, **kw)
        finally:
            depth[0] -= 1
            events.append((label, depth[0], t - T0, time.perf_counter() - t))
    setattr(owner, attr, timed)

def mod(name):
    return importlib.import_module(name)

PHASES = [
    ("pallet.cli.containers", "_ensure_image", "image lookup"),
    ("pallet.services.containers.service", "ContainerService.create", "create"),
    ("pallet.services.containers.config", "build_record", "build record"),
    ("pallet.services.containers.service", "ContainerService._prepare_storage", "prepare storage"),
    ("pallet.store.db", "Database.__init__", "open database"),
    ("pallet.services.containers.service", "ContainerService.start", "start"),
    ("pallet.snapshot.overlay", "mount", "overlay mount"),
    ("pallet.services.containers.network", "attach", "network attach"),
    ("pallet.services.containers.config", "bundle_spec", "write OCI spec"),
    ("pallet.runtime.monitor", "Monitor.create", "conmon + runc create"),
    ("pallet.runtime.monitor", "Monitor.start", "runc start"),
    ("pallet.services.containers.service", "ContainerService.wait", "wait"),
    ("pallet.runtime.monitor", "Monitor.wait_exit", "wait for exit file"),
    ("pallet.services.containers.service", "ContainerService.cleanup", "cleanup"),
    ("pallet.services.containers.service", "ContainerService.remove", "rm"),
    ("pallet.services.containers.service", "ContainerService._cleanup_runtime", "release runtime"),
    ("pallet.snapshot.overlay", "unmount", "overlay unmount"),
    ("pallet.services.containers.service", "ContainerService._remove_storage", "remove storage"),
]
for module, attr, label in PHASES:
    owner = mod(module)
    if "." in attr:
        cls, attr = attr.split(".")
        owner = getattr(owner, cls)
    wrap(owner, attr, label)

# a child process is timed from spawn to the wait that reaps it
_init, _wait = subprocess.Popen.__init__, subprocess.Popen.wait
def popen_init(self, *a, **kw):
    self._bench_t0 = time.perf_counter()
    _init(self, *a, **kw)
def popen_wait(self, *a, **kw):
    try:
        return _wait(self, *a, **kw)
    finally:
        if self.returncode is not None and getattr(self, "_bench_t0", None) is not None:
            t, self._bench_t0 = self._bench_t0, None
            argv = [str(x) for x in (self.args if isinstance(self.args, list) else [self.args])]
            name = Path(argv[0]).name
            verb = "" if name == "conmon" else next((x for x in argv[1:] if not x.startswith("-") and "/" not in x), "")
            events.append((f"exec {name} {verb}".strip(), 9, t - T0, time.perf_counter() - t))
subprocess.Popen.__init__, subprocess.Popen.wait = popen_init, popen_wait
from pathlib import Path
ctx = cli.Context(sys.argv[1], sys.argv[2])
T1 = time.perf_counter()
code = cli.run(["run", "--rm", "--network", "none", "busybox", "true"], ctx)
T_RUN = time.perf_counter() - T1
print(json.dumps({"code": code, "import": T_IMPORT, "run": T_RUN, "events": events}), file=sys.stderr)
'''


def bench_wall(pallet, runc, runs: int) -> dict:
    py = str(h.REPO / ".venv/bin/python")
    cases = {"python -c pass": lambda: h.timed([py, "-c", "pass"]),
             "python -S -c pass": lambda: h.timed([py, "-S", "-c", "pass"]),
             "pallet --version": lambda: h.timed(pallet.argv("--version")),
             "pallet run --rm": lambda: h.timed(pallet.run_rm()),
             "runc run": lambda: h.timed(runc.run_rm())}
    return h.summary(h.interleave(cases, runs), base="pallet run --rm")


def bench_phases(pallet, runs: int) -> dict:
    runs_out = []
    for _ in range(runs):
        res = subprocess.run([str(h.REPO / ".venv/bin/python"), "-c", CHILD, str(pallet.dir / "root"),
                              str(pallet.dir / "run")], capture_output=True, text=True, check=True)
        runs_out.append(json.loads(res.stderr.strip().splitlines()[-1]))
    table: dict[tuple, list[float]] = {}
    for r in runs_out:
        table.setdefault(("import pallet.cli.main", 0), []).append(r["import"])
        table.setdefault(("cli.run total", 0), []).append(r["run"])
        seen: dict[tuple, float] = {}
        for label, depth, _start, dur in r["events"]:
            seen[(label, depth)] = seen.get((label, depth), 0.0) + dur
        for key, dur in seen.items():
            table.setdefault(key, []).append(dur)
    order = {}
    for label, depth, start, _ in runs_out[-1]["events"]:
        order.setdefault((label, depth), start)
    rows = sorted(table.items(), key=lambda kv: order.get(kv[0], -1))
    return {f"{'  ' * min(depth, 4)}{label}": {"median_ms": 1000 * statistics.median(v), "seen_in": len(v)}
            for (label, depth), v in rows}


def bench_imports(pallet, top: int = 15) -> dict:
    # the `pallet` command itself (python -S with its paths written in), not `-m`, whose
    # runpy and site would show up here but not in what a user runs
    res = subprocess.run([str(h.REPO / ".venv/bin/python"), "-X", "importtime", "-S",
                          str(h.REPO / ".venv/bin/pallet"), "--root", str(pallet.dir / "root"),
                          "--runroot", str(pallet.dir / "run"), "run", "--rm", "--network", "none", "busybox", "true"],
                         capture_output=True, text=True, check=True)
    rows = []
    for line in res.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self" not in line:
            self_us, cum_us, name = line[len("import time:"):].split("|")
            rows.append((int(cum_us), int(self_us), name[1:].rstrip()))
    top_level = [r for r in rows if not r[2].startswith(" ")]
    return {"total_top_level_ms": sum(r[0] for r in top_level) / 1000,
            "slowest_cumulative_ms": {name.strip(): cum / 1000 for cum, _s, name in
                                      sorted(rows, reverse=True)[:top]},
            "slowest_self_ms": {name.strip(): s / 1000 for _c, s, name in
                                sorted(rows, key=lambda r: r[1], reverse=True)[:top]}}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=10)
    args = p.parse_args(argv)
    work = h.workdir("prof")
    with Engines(work, ["pallet", "runc"], h.busybox_tar(work)) as engines:
        pallet, runc = engines["pallet"], engines["runc"]
        result = {"runs": args.runs,
                  "wall_seconds": bench_wall(pallet, runc, args.runs),
                  "phases": bench_phases(pallet, args.runs),
                  "imports": bench_imports(pallet)}
    h.save("profile_run", result)


if __name__ == "__main__":
    sys.exit(main())
