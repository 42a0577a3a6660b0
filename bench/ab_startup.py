"""A/B of pallet's short commands between two checkouts: is this tree slower than BASE_TREE?

Usage (root):  .venv/bin/python bench/ab_startup.py BASE_TREE [--rounds 40] [--cases run-rm,create,...]

BASE_TREE is another checkout of pallet with its own .venv (e.g. `git worktree add --detach
/tmp/base <commit> && (cd /tmp/base && scripts/install.sh)`). Each side gets a private store
(--root/--runroot under /var/tmp/pallet-bench-ab-*) with busybox imported, and the sides take
turns command by command, the order flipping every round, so the machine's drift (other jobs,
page cache) lands on both alike. Cases (all `--network none`):
  run-rm   run --rm busybox true
  run-d    run -d busybox true              (the container is removed afterwards, untimed)
  create   create busybox true
  start    start of the container `create` just made (it runs `true` and exits by itself)
  ps       ps -a                            (over the few containers left by create/start)
Reports median, p25, p75 and min per case and side, B-A of the medians, and the median of
the paired B-A (each round's two samples) with a 95% bootstrap interval, of wall time
and of CPU time (user + system of the CLI and the children it reaped; steadier when the
host is busy, but blind to time spent waiting on runc and conmon).
Both trees are byte-compiled first (`compileall`): with PYTHONDONTWRITEBYTECODE=1 a tree
changed since its last compile recompiles on every command and loses by ~10%.
With --instructions, each case also runs once per side under valgrind's callgrind, which
counts the CLI process's instructions: a figure the host's load does not move (its
containers run with seccomp=unconfined: valgrind has no seccomp(2) for the default's guard).
Results: bench/results/ab_startup.json.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import harness as h

CASES = ["run-rm", "run-d", "create", "start", "ps"]


class Side:
    """One checkout's CLI on its own store."""

    def __init__(self, name: str, tree: Path, work: Path):
        self.name = name
        self.tree = tree
        self.dir = work / name
        self.pallet = str(tree / ".venv" / "bin" / "pallet")
        self.created: list[str] = []
        self.instructions: int | None = None
        self.counting = False  # run the CLI under callgrind (see `count`)

    def argv(self, *args: str) -> list[str]:
        store = ["--root", str(self.dir / "root"), "--runroot", str(self.dir / "run")]
        if self.counting:  # the CLI process only (conmon and runc are not followed)
            return ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                    str(self.tree / ".venv" / "bin" / "python"), "-S", self.pallet, *store, *args]
        return [self.pallet, *store, *args]

    def setup(self, busybox_tar: Path) -> None:
        subprocess.run([str(self.tree / ".venv" / "bin" / "python"), "-m", "compileall", "-q",
                        str(self.tree / "src")], check=True)
        subprocess.run(self.argv("import", str(busybox_tar), "busybox:latest"), check=True,
                       stdout=subprocess.DEVNULL)

    def out(self, *args: str) -> tuple[float, str]:
        """(wall seconds, stdout) of one command; its CPU seconds (user + system, its own and
        its reaped children's, from wait4) go to `self.cpu`, a steadier figure on a busy host."""
        t = time.perf_counter()
        proc = subprocess.Popen(self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.stdout.read(), proc.stderr.read()  # a few lines: no pipe fills up
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        proc.stderr.close()
        if code != 0:
            raise RuntimeError(f"{self.name}: {args} exited {code}: {err.decode()[-400:]}")
        self.cpu = usage.ru_utime + usage.ru_stime
        if self.counting:
            self.instructions = int(err.decode().split("Collected : ")[1].split()[0])
        return elapsed, out.decode().strip()

    def case(self, name: str) -> float:
        # valgrind has no seccomp(2), which the default profile's guard needs under conmon:
        # counted containers run unconfined (both sides alike)
        flags = ["--network", "none"] + (["--security-opt", "seccomp=unconfined"] if self.counting else [])
        if name == "run-rm":
            return self.out("run", "--rm", *flags, "busybox", "true")[0]
        if name == "run-d":
            elapsed, cid = self.out("run", "-d", *flags, "busybox", "true")
            self.created.append(cid)
            return elapsed
        if name == "create":
            elapsed, cid = self.out("create", *flags, "busybox", "true")
            self.created.append(cid)
            return elapsed
        if name == "start":
            return self.out("start", self.created[-1])[0]
        if name == "ps":
            return self.out("ps", "-a")[0]
        raise ValueError(name)

    def tidy(self) -> None:
        """Remove the containers this round made (untimed), so ps sees a steady store."""
        if self.created:
            subprocess.run(self.argv("rm", "-f", *self.created), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            self.created = []

    def close(self) -> None:
        self.tidy()
        subprocess.run(self.argv("system", "reset", "-f"), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        h.unmount_under(self.dir)


def quartiles(samples: list[float]) -> dict:
    q = statistics.quantiles(samples, n=4)
    return {"median_ms": round(statistics.median(samples) * 1000, 2),
            "p25_ms": round(q[0] * 1000, 2), "p75_ms": round(q[2] * 1000, 2),
            "min_ms": round(min(samples) * 1000, 2), "runs": len(samples)}


def paired(a: list[float], b: list[float], resamples: int = 2000) -> dict:
    """B-A of each round's two samples, taken side by side, so the host's drift between
    rounds cancels: their median, and a 95% bootstrap interval of that median (resampled
    with a fixed seed, so a rerun on the same samples says the same). An interval that
    holds 0 means the two trees are level at this resolution."""
    import random
    diffs = [y - x for x, y in zip(a, b)]
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(diffs, k=len(diffs))) for _ in range(resamples))
    return {"median_ms": round(statistics.median(diffs) * 1000, 2),
            "ci95_ms": [round(medians[int(0.025 * resamples)] * 1000, 2),
                        round(medians[int(0.975 * resamples)] * 1000, 2)]}


def measure(sides: list[Side], cases: list[str], rounds: int, warmup: int = 2) -> dict:
    samples = {c: {s.name: [] for s in sides} for c in cases}
    cpu = {c: {s.name: [] for s in sides} for c in cases}
    for i in range(warmup + rounds):
        order = sides if i % 2 == 0 else sides[::-1]
        for case in cases:
            for side in order:
                took = side.case(case)
                if i >= warmup:
                    samples[case][side.name].append(took)
                    cpu[case][side.name].append(side.cpu)
        for side in sides:
            side.tidy()
    return samples, cpu


def count(sides: list[Side], cases: list[str]) -> dict:
    """Instructions the CLI process executes for each case, once per side under callgrind:
    the same to ~0.3% run after run (`run` a little less: its waits poll), whatever else
    the host is doing."""
    out = {c: {} for c in cases}
    for side in sides:
        side.counting = True
        try:
            for case in cases:
                side.case(case)
                out[case][side.name] = side.instructions
        finally:
            side.counting = False
            side.tidy()
    for per in out.values():
        per["B/A"] = round(per["B"] / per["A"], 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base_tree", type=Path)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--instructions", action="store_true",
                    help="also count each case's instructions under valgrind (callgrind)")
    args = ap.parse_args()
    cases = args.cases.split(",")
    if "start" in cases and "create" not in cases:
        ap.error("start needs create (it starts the container create made)")
    work = h.workdir("ab")
    sides = [Side("A", args.base_tree.resolve(), work), Side("B", h.REPO, work)]
    try:
        tar = h.busybox_tar(work)
        for side in sides:
            side.setup(tar)
        samples, cpu = measure(sides, cases, args.rounds)
        counted = count(sides, cases) if args.instructions else None
    finally:
        for side in sides:
            side.close()
        shutil.rmtree(work, ignore_errors=True)
    table = {c: {n: quartiles(s) for n, s in per.items()} for c, per in samples.items()}
    cpu_table = {c: {n: quartiles(s) for n, s in per.items()} for c, per in cpu.items()}
    for t, raw in ((table, samples), (cpu_table, cpu)):
        for case, per in t.items():
            per["B-A_median_ms"] = round(per["B"]["median_ms"] - per["A"]["median_ms"], 2)
            per["B-A_paired"] = paired(raw[case]["A"], raw[case]["B"])
    h.save("ab_startup", {"A": str(sides[0].tree), "B": str(sides[1].tree),
                          "rounds": args.rounds, "wall_ms": table, "cpu_ms": cpu_table,
                          "instructions": counted})
    for title, t in (("wall", table), ("cpu (CLI + reaped children)", cpu_table)):
        print(f"{title}\n{'case':8} {'A median [p25-p75]':>24} {'B median [p25-p75]':>24} {'B-A':>7}"
              f"  {'paired B-A [95% CI]':>22}")
        for case, per in t.items():
            a, b, d = per["A"], per["B"], per["B-A_paired"]
            print(f"{case:8} {a['median_ms']:8.1f} [{a['p25_ms']:.1f}-{a['p75_ms']:.1f}]"
                  f"{'':4}{b['median_ms']:8.1f} [{b['p25_ms']:.1f}-{b['p75_ms']:.1f}]"
                  f"{'':4}{per['B-A_median_ms']:+7.1f}"
                  f"  {d['median_ms']:+6.2f} [{d['ci95_ms'][0]:+.2f} {d['ci95_ms'][1]:+.2f}]")

    if counted:
        print(f"instructions (CLI process)\n{'case':8} {'A':>14} {'B':>14} {'B/A':>7}")
        for case, per in counted.items():
            print(f"{case:8} {per['A']:14,} {per['B']:14,} {per['B/A']:7.3f}")


if __name__ == "__main__":
    main()
