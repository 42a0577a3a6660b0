"""Benchmark harness: interleaved timing, medians, ratios, peak RSS, and the engines compared.

Owns the comparison engines (pallet, podman, docker, bare runc) as objects that set up a
private store under one temp dir and tear down everything they started (containers,
mounts, daemons). Invariants:
- every engine uses its own --root/--runroot (or data-root/exec-root) under `work`;
  nothing touches the machine's default stores;
- dockerd runs only with --iptables=false --ip-forward=false --bridge=none on a private
  socket (other engineers' networking tests share this machine), and is stopped in close();
- competitors that are not installed are skipped, and the result says so.
Measurements are taken by running each engine's CLI as a separate process, as a user sees it.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
PALLET = [str(REPO / ".venv" / "bin" / "pallet")]
MB = 1 << 20


# ---- timing ----------------------------------------------------------------------------
def timed(argv: list[str], env: dict | None = None, check: bool = True, **kw) -> float:
    """Wall seconds of one process run to completion (stdout discarded)."""
    t = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=kw.pop("stdout", subprocess.DEVNULL),
                          stderr=subprocess.PIPE, **kw)
    elapsed = time.perf_counter() - t
    if check and proc.returncode != 0:
        raise RuntimeError(f"{argv[:6]}... exited {proc.returncode}: {proc.stderr.decode()[-400:]}")
    return elapsed


def peak_rss(argv: list[str], env: dict | None = None, stdin=None) -> tuple[float, int]:
    """(wall seconds, peak RSS in bytes) of one process, from wait4's rusage of that child."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdin=stdin, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:6]}... exited {proc.returncode}: {err[-400:]}")
    return elapsed, usage.ru_maxrss * 1024


def interleave(cases: dict, runs: int, warmup: int = 1) -> dict[str, list[float]]:
    """Run each case `runs` times, round-robin with a rotating order, so drift in the
    machine (page cache, other engineers' jobs) lands on every case alike."""
    names = list(cases)
    for _ in range(warmup):
        for name in names:
            cases[name]()
    samples: dict[str, list[float]] = {n: [] for n in names}
    for i in range(runs):
        order = names[i % len(names):] + names[:i % len(names)]
        for name in order:
            samples[name].append(cases[name]())
    return samples


def summary(samples: dict[str, list[float]], base: str | None = None) -> dict:
    """Medians (and min/max) per case; ratios of `base`'s median to every other case."""
    out = {n: {"median": statistics.median(s), "min": min(s), "max": max(s), "runs": len(s)}
           for n, s in samples.items() if s}
    if base in out:
        for n, row in out.items():
            if n != base and row["median"]:
                out[base][f"ratio_vs_{n}"] = out[base]["median"] / row["median"]
    return out


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"benchmark": name, "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "host": _host(), **data}
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))
    return path


def _host() -> dict:
    return {"cpus": os.cpu_count(), "kernel": os.uname().release,
            "python": sys.version.split()[0]}


# ---- memory and disk ---------------------------------------------------------------------
def proc_memory(pid: int) -> dict:
    """RSS and PSS (bytes) of one process; PSS shares libraries fairly between processes."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return {"rss": rss, "pss": pss}


def pids_named(comm: str, under: str | None = None) -> list[int]:
    """PIDs whose comm is `comm` (and whose command line mentions `under`, if given)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != comm:
                continue
            if under and under not in (entry / "cmdline").read_bytes().decode(errors="replace"):
                continue
            out.append(int(entry.name))
        except OSError:
            continue
    return out


def du_bytes(path: Path) -> int:
    """Disk blocks used under path, one filesystem only (skips containers' overlay mounts)."""
    if not path.exists():
        return 0
    res = subprocess.run(["du", "-sxB1", str(path)], capture_output=True, text=True)
    return int(res.stdout.split()[0]) if res.stdout else 0


def unmount_under(path: Path) -> None:
    """Lazily unmount anything still mounted below path (deepest first)."""
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for m in sorted((m for m in mounts if m.startswith(str(path) + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)


# ---- inputs ------------------------------------------------------------------------------
def busybox_tar(work: Path) -> Path:
    tar = work / "busybox.tar"
    if not tar.exists():
        subprocess.run([str(REPO / "examples" / "busybox-rootfs.sh"), str(tar)], check=True)
    return tar


def workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"pallet-bench-{prefix}-", dir="/var/tmp"))

